/** (being written) */
import type { Rule, UmbrellaRule } from '../../rule.js'

export const segmentRules: ReadonlyArray<Rule | UmbrellaRule> = []
