/** (being written) */
import type { FiringCase } from '../harness.js'

export const ptNodeCases: FiringCase[] = []
