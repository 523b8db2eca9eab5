/** (being written) */
import type { AnyEventSpec } from '../index.js'

export const ptChildEvents: readonly AnyEventSpec[] = []
