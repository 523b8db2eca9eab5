/** (being written) */
import type { Rule, UmbrellaRule } from '../../rule.js'

export const uniqueRules: ReadonlyArray<Rule | UmbrellaRule> = []
