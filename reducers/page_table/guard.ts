/** (being written) */
import type { AnyEventSpec } from '../index.js'

export const ptGuardEvents: readonly AnyEventSpec[] = []
