/** (being written) */
import type { AnyEventSpec } from '../index.js'

export const frameIoEvents: readonly AnyEventSpec[] = []
