/** (being written) */
import type { Rule, UmbrellaRule } from '../../rule.js'

export const ptEntryRules: ReadonlyArray<Rule | UmbrellaRule> = []
