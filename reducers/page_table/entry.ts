/** (being written) */
import type { AnyEventSpec } from '../index.js'

export const ptEntryEvents: readonly AnyEventSpec[] = []
