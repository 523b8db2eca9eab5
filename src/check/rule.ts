/**
 * Rules (DESIGN.md "Rule"): `{ id, kind, appliesTo, check }`, keyed by spec ID.
 *
 * - REQ rules see `(pre, event)`: the precondition of the event.
 * - ENS rules see `(pre, event, post, result)`: the postcondition of the event.
 * - INV rules see one snapshot, unit by unit (`scope`): in `full` mode every unit, in
 *   `incremental` mode only the units the step changed. A rule's verdict on a unit depends only
 *   on that unit's data (and the accounting index at it), which is what makes the two modes
 *   report the same violations.
 */
import type { InternalStep, ModelEvent } from '../../reducers/types.js'
import type { Finding } from '../model/spec/finding.js'
import type { Snapshot } from '../model/snapshot.js'
import type { AccountingIndex } from './accounting.js'
import type { ChangeSet } from './changes.js'

export type RuleKind = 'REQ' | 'ENS' | 'INV'

/** Where a rule comes from: the spec digest, or the model's own extension (behaviour.md, MD items). */
export type RuleOrigin = 'digest' | 'model'

interface RuleBase {
  readonly id: string
  readonly kind: RuleKind
  readonly origin: RuleOrigin
  /** One line: what the rule states, as the checker evaluates it. */
  readonly summary: string
}

export interface ReqRule extends RuleBase {
  readonly kind: 'REQ'
  readonly appliesTo: readonly string[]
  check(pre: Snapshot, event: ModelEvent): Finding[]
}

export interface EnsContext {
  readonly pre: Snapshot
  readonly post: Snapshot
  readonly event: ModelEvent
  readonly result: unknown
  /** What the step changed (computed once per step, shared by all rules). */
  readonly changes: ChangeSet
  /**
   * The step's own internal steps (a composite's), for clauses checked at the end of the
   * enclosing composite (MD-13, e.g. ENS-NODE-ALLOC-11).
   */
  readonly steps?: readonly InternalStep[]
}

export interface EnsRule extends RuleBase {
  readonly kind: 'ENS'
  readonly appliesTo: readonly string[]
  check(ctx: EnsContext): Finding[]
}

/**
 * Units an invariant is evaluated on: a meta slot; an entry of a handle registry (by id); a
 * page-table node (by its slot, `ptNode`); one PTE slot of a node (`ptEntry`, unit
 * `nodeSlot * 512 + index`); or the whole snapshot (`global`).
 */
export type InvScope = 'slot' | RegistryScope | 'ptNode' | 'ptEntry' | 'global'

/** Scopes whose units are the ids of a handle registry. */
export type RegistryScope = 'frames' | 'segments' | 'uniqueFrames' | 'lists' | 'vmIos' | 'ptNodes' | 'ptGuards' | 'ptEntries' | 'ptChildren' | 'ptCursors'

export const REGISTRY_SCOPES: readonly RegistryScope[] = ['frames', 'segments', 'uniqueFrames', 'lists', 'vmIos', 'ptNodes', 'ptGuards', 'ptEntries', 'ptChildren', 'ptCursors']

export interface InvContext {
  /** Per-slot handle and cover counts of the embedding (state.md §15). */
  readonly accounting: AccountingIndex
}

export interface InvRule extends RuleBase {
  readonly kind: 'INV'
  /** A: after every step, internal ones included. B: at the boundary of a dispatched event (MD-12). */
  readonly group: 'A' | 'B'
  readonly scope: InvScope
  checkUnit(s: Snapshot, unit: number, ctx: InvContext): Finding[]
}

/**
 * A rule stated as the conjunction of other rules (e.g. INV-REGIONS-4 = INV-SLOT-1..8 on every
 * slot). It is reported alongside the specific rule (`Violation.also`) whenever one of `covers`
 * fails on a unit where `when` holds.
 */
export interface UmbrellaRule extends RuleBase {
  readonly kind: RuleKind
  readonly covers: readonly string[]
  readonly scope?: InvScope
  when?(s: Snapshot, unit: number): boolean
}

export type Rule = ReqRule | EnsRule | InvRule

/** A violation as data (DESIGN.md): which rule, at which step, where, what was expected. */
export interface Violation {
  readonly rule: string
  /** Umbrella rules that the same failure breaks (e.g. INV-REGIONS-4 for an INV-SLOT failure). */
  readonly also?: readonly string[]
  readonly kind: RuleKind
  /** Index of the dispatched event in the history. */
  readonly step: number
  /** Position of the internal step inside it (`[2]` = third internal step), absent at the boundary. */
  readonly internal?: readonly number[]
  readonly event: string
  readonly message: string
  readonly path: string
  readonly expected?: unknown
  readonly actual?: unknown
}

export type CheckMode = 'full' | 'incremental' | 'off'
