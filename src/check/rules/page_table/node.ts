/** (being written) */
import type { Rule, UmbrellaRule } from '../../rule.js'

export const ptNodeRules: ReadonlyArray<Rule | UmbrellaRule> = []
