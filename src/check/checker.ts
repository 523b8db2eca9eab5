/**
 * The checker: evaluates the rules on a step (an event with its pre- and post-snapshot and its
 * internal steps) and reports the violations that are new at this step.
 *
 * Semantics (identical in both modes): let `P` be the invariant violations that hold in the
 * step's pre-state. After each internal step, the group-A invariant violations of its post-state
 * that are not in `P` are reported; at the boundary, the group-A and group-B violations of the
 * post-state not in `P`; plus every REQ/ENS failure of the step and its internal steps. Each
 * (rule, path) is reported once per step.
 *
 * `full` evaluates every invariant on every materialised unit of the snapshot (`unitsOf`: the
 * units some table holds; for PTE slots, `materialisedEntryUnits`). `incremental` carries the
 * violation set from the previous step and re-evaluates only the units the step changed, which
 * gives the same set because an invariant's verdict on a unit depends only on that unit's data.
 */
import type { InternalStep } from '../../reducers/types.js'
import type { Finding } from '../model/spec/finding.js'
import type { Snapshot } from '../model/snapshot.js'
import { tableForEach, tableGet, tableKeys, type Table } from '../model/table.js'
import { AccountingIndex } from './accounting.js'
import { computeChanges, type ChangeSet } from './changes.js'
import type { RuleRegistry } from './registry.js'
import { REGISTRY_SCOPES, type CheckMode, type InvContext, type InvRule, type InvScope, type RegistryScope, type Violation } from './rule.js'
import { MaterialisedEntries, materialisedEntryUnits } from './pt_changes.js'

interface HeldViolation {
  readonly finding: Finding
  readonly scope: InvScope
  readonly unit: number
  readonly group: 'A' | 'B'
}

type ViolationSet = Map<string, HeldViolation>

type Groups = 'A' | 'B' | 'AB'

function inGroups(group: 'A' | 'B', groups: Groups): boolean {
  return groups === 'AB' || groups === group
}

function filterGroup(set: ViolationSet, group: 'A' | 'B'): ViolationSet {
  const out: ViolationSet = new Map()
  for (const [k, h] of set) if (h.group === group) out.set(k, h)
  return out
}

const keyOf = (f: Finding): string => `${f.rule}|${f.path}`

/** All units of a scope present in a snapshot (what `full` visits). */
export function unitsOf(s: Snapshot, scope: InvScope, accounting: () => AccountingIndex): Iterable<number> {
  switch (scope) {
    case 'slot': {
      const units = new Set<number>()
      for (const t of [s.metaSlots, s.regions.slotOwners, s.regions.unparked, s.regions.frameObligations, s.uniqueOwners]) {
        for (const k of tableKeys(t as never)) units.add(k)
      }
      for (const k of accounting().slots()) units.add(k)
      return [...units].sort((a, b) => a - b)
    }
    case 'global':
      return [0]
    case 'ptNode': {
      // nodes the owner tree knows, nodes locked, and slots whose storage is a node's
      const units = new Set<number>([...tableKeys(s.pt.owners), ...tableKeys(s.pt.locks)])
      tableForEach(s.metaSlots, (cells, i) => {
        if (cells.storage?.kind === 'PTNode') units.add(i)
      })
      return [...units].sort((a, b) => a - b)
    }
    case 'ptEntry':
      return materialisedEntryUnits(s)
    default:
      return tableKeys(registryTable(s, scope))
  }
}

/** The table behind a registry scope. */
export function registryTable(s: Snapshot, scope: RegistryScope): Table<unknown> {
  switch (scope) {
    case 'ptNodes':
      return s.pt.nodes
    case 'ptGuards':
      return s.pt.guards
    case 'ptEntries':
      return s.pt.entries
    case 'ptChildren':
      return s.pt.children
    case 'ptCursors':
      return s.pt.cursors
    default:
      return s[scope] as Table<unknown>
  }
}

function changedUnits(changes: ChangeSet, scope: InvScope): Iterable<number> {
  switch (scope) {
    case 'slot':
      return changes.slots
    case 'global':
      return [0]
    default:
      return changes[scope]
  }
}

export class Checker {
  /** Invariant violations holding in `heldFor` (incremental mode's carried state). */
  private held: ViolationSet = new Map()
  private heldFor: Snapshot | null = null
  private index: AccountingIndex | null = null
  private indexFor: Snapshot | null = null
  /** Violation sets of the states `violationsNear` evaluated. */
  private readonly evaluated = new WeakMap<Snapshot, ViolationSet>()
  private readonly byScope = new Map<Groups, { count: number; grouped: ReadonlyArray<readonly [InvScope, readonly InvRule[]]> }>()

  constructor(
    readonly registry: RuleRegistry,
    readonly mode: CheckMode,
  ) {}

  /** Forgets carried state (after undo / seek the next check re-derives it). */
  reset(): void {
    this.held = new Map()
    this.heldFor = null
    this.index = null
    this.indexFor = null
  }

  /** Checks one dispatched step (index `stepIndex` in the history). */
  check(step: InternalStep, stepIndex: number): Violation[] {
    if (this.mode === 'off') return []
    const before = this.invariantSetOf(step.before)
    const reported = new Map<string, Violation>()
    const report = (f: Finding, kind: Violation['kind'], event: string, internal: readonly number[] | undefined, s: Snapshot, scope?: InvScope, unit?: number): void => {
      const key = keyOf(f)
      if (reported.has(key)) return
      reported.set(key, this.toViolation(f, kind, stepIndex, event, internal, s, scope, unit))
    }

    // Internal steps, depth first, in the order their snapshots were produced. Group A is
    // re-evaluated at each one, incrementally from the previous evaluation point.
    let running: ViolationSet = filterGroup(before, 'A')
    let runningFor = step.before
    const advanceA = (to: Snapshot, changes: ChangeSet): ViolationSet =>
      this.mode === 'incremental' ? this.invariantsAt(to, running, 'A', accumulate(null, changes), runningFor) : this.fullInvariants(to, 'A')
    const visit = (steps: readonly InternalStep[], path: number[]): void => {
      steps.forEach((st, j) => {
        const at = [...path, j]
        const changes = computeChanges(st.before, st.after)
        this.stepRules(st, changes, (f, kind) => report(f, kind, st.event.type, at, st.after))
        visit(st.steps, at)
        running = advanceA(st.after, runningFor === st.before ? changes : computeChanges(runningFor, st.after))
        runningFor = st.after
        for (const [key, held] of running) if (!before.has(key)) report(held.finding, 'INV', st.event.type, at, st.after, held.scope, held.unit)
      })
    }
    visit(step.steps, [])

    // The boundary: group A from the last evaluation point, group B against the pre-state.
    const boundaryChanges = computeChanges(step.before, step.after)
    this.stepRules(step, boundaryChanges, (f, kind) => report(f, kind, step.event.type, undefined, step.after))
    const groupA = runningFor === step.after ? running : advanceA(step.after, runningFor === step.before ? boundaryChanges : computeChanges(runningFor, step.after))
    const groupB =
      this.mode === 'incremental'
        ? this.invariantsAt(step.after, before, 'B', accumulate(null, boundaryChanges), step.before)
        : this.fullInvariants(step.after, 'B')
    const after: ViolationSet = new Map([...groupA, ...groupB])
    for (const [key, held] of after) if (!before.has(key)) report(held.finding, 'INV', step.event.type, undefined, step.after, held.scope, held.unit)

    this.held = after
    this.heldFor = step.after
    return [...reported.values()].sort(compareViolations)
  }

  /** The invariant violations of `s` (all groups), for a state the checker has not seen. */
  violationsIn(s: Snapshot): Violation[] {
    return this.asViolations(this.fullInvariants(s, 'AB'), s)
  }

  /**
   * The invariant violations of `s` (all groups), evaluated only on the units that differ between
   * `near` and `s` — `near` being any state whose violations this checker knows (from an earlier
   * call; else it is evaluated in full once). The same set as `violationsIn(s)`, since an
   * invariant's verdict on a unit depends only on that unit's data; the cost is that of the
   * difference, so a bisection over checkpoints that measures each probe from the nearest one
   * already evaluated costs about one evaluation of the whole history's changes. The evaluated
   * states are remembered (weakly): a later `check` whose pre-state is one of them starts from
   * its set instead of evaluating it in full.
   */
  violationsNear(s: Snapshot, near: Snapshot): Violation[] {
    let set = this.evaluated.get(s)
    if (set === undefined) {
      let base = this.evaluated.get(near)
      if (base === undefined) this.evaluated.set(near, (base = this.fullInvariants(near, 'AB')))
      set = near === s ? base : this.invariantsAt(s, base, 'AB', accumulate(null, computeChanges(near, s)), near)
      this.evaluated.set(s, set)
    }
    return this.asViolations(set, s)
  }

  private asViolations(set: ViolationSet, s: Snapshot): Violation[] {
    return [...set.values()].map((h) => this.toViolation(h.finding, 'INV', -1, '(state)', undefined, s, h.scope, h.unit)).sort(compareViolations)
  }

  private stepRules(st: InternalStep, changes: ChangeSet, emit: (f: Finding, kind: 'REQ' | 'ENS') => void): void {
    for (const rule of this.registry.reqFor(st.event.type)) for (const f of rule.check(st.before, st.event)) emit(f, 'REQ')
    const ens = this.registry.ensFor(st.event.type)
    if (ens.length === 0) return
    const ctx = { pre: st.before, post: st.after, event: st.event, result: st.result, changes, steps: st.steps }
    for (const rule of ens) for (const f of rule.check(ctx)) emit(f, 'ENS')
  }

  private invariantSetOf(s: Snapshot): ViolationSet {
    // The previous step's post-state is this step's pre-state (the same object): its violations
    // are known in both modes (`full` evaluated every unit of it one step ago).
    if (this.heldFor === s) return this.held
    return this.evaluated.get(s) ?? this.fullInvariants(s, 'AB')
  }

  private accountingFor(s: Snapshot, from: Snapshot | null): AccountingIndex {
    if (this.indexFor === s && this.index !== null) return this.index
    if (this.mode === 'incremental' && from !== null && this.indexFor === from && this.index !== null) {
      this.index.apply(from, s)
    } else {
      this.index = AccountingIndex.build(s)
    }
    this.indexFor = s
    return this.index
  }

  private contextFor(s: Snapshot, from: Snapshot | null): InvContext {
    let cached: AccountingIndex | null = null
    const get = (): AccountingIndex => (cached ??= this.accountingFor(s, from))
    return {
      get accounting() {
        return get()
      },
    }
  }

  private fullInvariants(s: Snapshot, groups: Groups): ViolationSet {
    const out: ViolationSet = new Map()
    const ctx = this.contextFor(s, null)
    // the units of a scope are enumerated once per snapshot, not once per rule
    for (const [scope, rules] of this.rulesByScope(groups)) {
      for (const unit of unitsOf(s, scope, () => ctx.accounting)) for (const rule of rules) this.evalUnit(rule, s, unit, ctx, out)
    }
    return out
  }

  /** Invariant violations of `s` in `groups`, incrementally from `prev` when `changed` is given. */
  private invariantsAt(s: Snapshot, prev: ViolationSet, groups: Groups, changes: ChangeSetLike, from: Snapshot): ViolationSet {
    const out: ViolationSet = new Map()
    for (const [key, held] of prev) {
      if (!inGroups(held.group, groups)) continue
      if (!unitsOfSet(changes, held.scope).has(held.unit)) out.set(key, held)
    }
    const ctx = this.contextFor(s, groups === 'A' ? null : from)
    // the changed units worth evaluating, per scope (computed once, shared by the scope's rules)
    const live = new Map<InvScope, number[]>()
    const liveUnits = (scope: InvScope): number[] => {
      let us = live.get(scope)
      if (us !== undefined) return us
      us = [...unitsOfSet(changes, scope)]
      // A registry entry the step removed has nothing left to check.
      if (isRegistry(scope)) us = us.filter((u) => tableGet(registryTable(s, scope), u) !== null)
      // Nor has a PTE slot that holds nothing (the canonical absent entry: `MaterialisedEntries`).
      if (scope === 'ptEntry') {
        const entries = new MaterialisedEntries(s)
        us = us.filter((u) => entries.has(u))
      }
      live.set(scope, us)
      return us
    }
    for (const [scope, rules] of this.rulesByScope(groups)) {
      for (const unit of liveUnits(scope)) for (const rule of rules) this.evalUnit(rule, s, unit, ctx, out)
    }
    return out
  }

  /**
   * The invariants of `groups`, by scope. Evaluation goes unit by unit, every rule of the scope on
   * a unit before the next unit: the rules read the same few objects of a unit, which then stay
   * in cache (rule by rule over 45,000 slots, each rule missed on every slot again).
   */
  private rulesByScope(groups: Groups): ReadonlyArray<readonly [InvScope, readonly InvRule[]]> {
    const all = this.registry.invariants()
    let cached = this.byScope.get(groups)
    // (a rule added to the registry since: group again)
    if (cached === undefined || cached.count !== all.length) {
      const m = new Map<InvScope, InvRule[]>()
      for (const rule of all) {
        if (!inGroups(rule.group, groups)) continue
        let rules = m.get(rule.scope)
        if (rules === undefined) m.set(rule.scope, (rules = []))
        rules.push(rule)
      }
      this.byScope.set(groups, (cached = { count: all.length, grouped: [...m] }))
    }
    return cached.grouped
  }

  private evalUnit(rule: InvRule, s: Snapshot, unit: number, ctx: InvContext, out: ViolationSet): void {
    let findings: Finding[]
    try {
      findings = rule.checkUnit(s, unit, ctx)
    } catch (e) {
      // A corrupted snapshot can make a rule's own reads fail; that is a violation of the rule.
      findings = [{ rule: rule.id, path: `${rule.scope}[${unit}]`, message: `the state is malformed here: ${(e as Error).message}` }]
    }
    for (const f of findings) out.set(keyOf(f), { finding: f, scope: rule.scope, unit, group: rule.group })
  }

  private toViolation(
    f: Finding,
    kind: Violation['kind'],
    step: number,
    event: string,
    internal: readonly number[] | undefined,
    s: Snapshot,
    scope?: InvScope,
    unit?: number,
  ): Violation {
    const also = this.registry
      .umbrellasOf(f.rule)
      .filter((u) => u.when === undefined || (unit !== undefined && (u.scope === undefined || u.scope === scope) && u.when(s, unit)))
      .map((u) => u.id)
    return {
      rule: f.rule,
      ...(also.length > 0 ? { also } : {}),
      kind,
      step,
      ...(internal !== undefined ? { internal } : {}),
      event,
      message: f.message,
      path: f.path,
      ...('expected' in f ? { expected: f.expected } : {}),
      ...('actual' in f ? { actual: f.actual } : {}),
    }
  }
}

/** The scopes of a change set as sets (internal steps accumulate them). */
type UnitScope = Exclude<InvScope, 'global'>
type ChangeSetLike = Record<UnitScope, Set<number>>

const SCOPES: readonly UnitScope[] = ['slot', ...REGISTRY_SCOPES, 'ptNode', 'ptEntry']

function accumulate(acc: ChangeSetLike | null, changes: ChangeSet): ChangeSetLike {
  const sets = acc ?? (Object.fromEntries(SCOPES.map((scope) => [scope, new Set<number>()])) as ChangeSetLike)
  for (const scope of SCOPES) for (const u of changedUnits(changes, scope)) sets[scope].add(u)
  return sets
}

function unitsOfSet(changes: ChangeSetLike, scope: InvScope): ReadonlySet<number> {
  return scope === 'global' ? GLOBAL_UNIT : changes[scope]
}

const GLOBAL_UNIT: ReadonlySet<number> = new Set([0])

function isRegistry(scope: InvScope): scope is RegistryScope {
  return (REGISTRY_SCOPES as readonly string[]).includes(scope)
}

/** Internal steps first, in order; then the boundary; within a position by rule and path. */
export function compareViolations(a: Violation, b: Violation): number {
  const ia = a.internal ?? [Infinity]
  const ib = b.internal ?? [Infinity]
  for (let k = 0; k < Math.max(ia.length, ib.length); k++) {
    const x = ia[k] ?? -1
    const y = ib[k] ?? -1
    if (x !== y) return x - y
  }
  if (a.rule !== b.rule) return a.rule < b.rule ? -1 : 1
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0
}
