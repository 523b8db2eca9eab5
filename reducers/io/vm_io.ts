/** (being written) */
import type { AnyEventSpec } from '../index.js'

export const vmIoEvents: readonly AnyEventSpec[] = []
