/** (being written) */
import type { AnyEventSpec } from '../index.js'

export const uniqueFrameEvents: readonly AnyEventSpec[] = []
