/** (being written) */
import type { AnyEventSpec } from '../index.js'

export const segmentEvents: readonly AnyEventSpec[] = []
