/** (being written) */
import type { AnyEventSpec } from '../index.js'

export const ptNodeEvents: readonly AnyEventSpec[] = []
