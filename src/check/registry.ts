/**
 * The rule registry, keyed by spec ID. REQ rules are built from the preconditions the event specs
 * declare (one definition, used both by the dispatcher and by the checker); ENS and INV rules come
 * from `src/check/rules/`.
 */
import type { EventSpec, ModelEvent } from '../../reducers/types.js'
import { finding } from '../model/spec/finding.js'
import type { EnsRule, InvRule, ReqRule, Rule, RuleKind, UmbrellaRule } from './rule.js'

export class RuleRegistry {
  private readonly byId = new Map<string, Rule | UmbrellaRule>()
  private readonly reqByEvent = new Map<string, ReqRule[]>()
  private readonly ensByEvent = new Map<string, EnsRule[]>()
  private readonly invRules: InvRule[] = []
  private readonly umbrellaRules: UmbrellaRule[] = []
  private umbrellaClosure: Map<string, UmbrellaRule[]> | null = null

  add(rule: Rule | UmbrellaRule): this {
    if (this.byId.has(rule.id)) throw new Error(`rule ${rule.id} is defined twice`)
    this.byId.set(rule.id, rule)
    if ('covers' in rule) {
      this.umbrellaRules.push(rule)
      this.umbrellaClosure = null
    } else if (rule.kind === 'REQ') {
      for (const t of rule.appliesTo) push(this.reqByEvent, t, rule)
    } else if (rule.kind === 'ENS') {
      for (const t of rule.appliesTo) push(this.ensByEvent, t, rule)
    } else {
      this.invRules.push(rule)
    }
    return this
  }

  addAll(rules: Iterable<Rule | UmbrellaRule>): this {
    for (const r of rules) this.add(r)
    return this
  }

  /** An independent registry with the same rules (adding to one does not change the other). */
  copy(): RuleRegistry {
    const out = new RuleRegistry()
    for (const [id, r] of this.byId) out.byId.set(id, r)
    for (const [t, rs] of this.reqByEvent) out.reqByEvent.set(t, [...rs])
    for (const [t, rs] of this.ensByEvent) out.ensByEvent.set(t, [...rs])
    out.invRules.push(...this.invRules)
    out.umbrellaRules.push(...this.umbrellaRules)
    return out
  }

  get(id: string): Rule | UmbrellaRule | undefined {
    return this.byId.get(id)
  }

  has(id: string): boolean {
    return this.byId.has(id)
  }

  all(): Array<Rule | UmbrellaRule> {
    return [...this.byId.values()]
  }

  reqFor(eventType: string): readonly ReqRule[] {
    return this.reqByEvent.get(eventType) ?? []
  }

  ensFor(eventType: string): readonly EnsRule[] {
    return this.ensByEvent.get(eventType) ?? []
  }

  invariants(): readonly InvRule[] {
    return this.invRules
  }

  /** Umbrella rules (transitively) covering `ruleId`. */
  umbrellasOf(ruleId: string): readonly UmbrellaRule[] {
    if (this.umbrellaClosure === null) {
      const direct = new Map<string, UmbrellaRule[]>()
      for (const u of this.umbrellaRules) for (const c of u.covers) push(direct, c, u)
      const closure = new Map<string, UmbrellaRule[]>()
      const collect = (id: string, seen: Set<string>): UmbrellaRule[] => {
        const out: UmbrellaRule[] = []
        for (const u of direct.get(id) ?? []) {
          if (seen.has(u.id)) continue
          seen.add(u.id)
          out.push(u, ...collect(u.id, seen))
        }
        return out
      }
      for (const id of direct.keys()) closure.set(id, collect(id, new Set()))
      this.umbrellaClosure = closure
    }
    return this.umbrellaClosure.get(ruleId) ?? []
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}

/** REQ rules from the event specs' declared preconditions, one rule per ID. */
export function requirementRules(specs: ReadonlyArray<EventSpec<ModelEvent, unknown>>, summaries: ReadonlyMap<string, string>): ReqRule[] {
  const byId = new Map<string, Map<string, EventSpec<ModelEvent, unknown>['requires'][number]>>()
  const kinds = new Map<string, 'digest' | 'model'>()
  const own = new Map<string, string>()
  for (const spec of specs) {
    for (const req of spec.requires) {
      if (req.summary !== undefined) own.set(req.rule, req.summary)
      let perEvent = byId.get(req.rule)
      if (perEvent === undefined) byId.set(req.rule, (perEvent = new Map()))
      perEvent.set(spec.type, req)
      kinds.set(req.rule, summaries.has(req.rule) ? 'digest' : 'model')
    }
  }
  return [...byId].map(([id, perEvent]): ReqRule => ({
    id,
    kind: 'REQ',
    origin: kinds.get(id)!,
    summary: summaries.get(id) ?? own.get(id) ?? `[model] precondition of ${[...perEvent.keys()].join(', ')}`,
    appliesTo: [...perEvent.keys()],
    check(pre, event) {
      const req = perEvent.get(event.type)
      if (req === undefined) return []
      const failure = req.check(pre, event)
      return failure === null ? [] : [finding(id, `event.${event.type}`, failure)]
    },
  }))
}

export function ruleKindOf(id: string): RuleKind {
  return id.slice(0, 3) as RuleKind
}
