/** (being written) */
import type { AnyEventSpec } from '../index.js'

export const linkedListEvents: readonly AnyEventSpec[] = []
