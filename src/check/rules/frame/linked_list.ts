/** (being written) */
import type { Rule, UmbrellaRule } from '../../rule.js'

export const linkedListRules: ReadonlyArray<Rule | UmbrellaRule> = []
