/** Every firing case, by module. */
import type { FiringCase } from '../harness.js'
import { frameCases } from './frame.js'

export const ALL_CASES: readonly FiringCase[] = [...frameCases]
