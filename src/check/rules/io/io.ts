/** (being written) */
import type { Rule, UmbrellaRule } from '../../rule.js'

export const ioRules: ReadonlyArray<Rule | UmbrellaRule> = []
