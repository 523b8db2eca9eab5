/** Building blocks for rule definitions: rule constructors and the common "frame rule" clauses. */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, refCountName } from '../../arch/constants.js'
import { finding, type Finding } from '../../model/spec/finding.js'
import { isParked, obligationsOf, ownerOf, slotOf } from '../../model/slots.js'
import type { MetaSlotCells, MetaSlotOwner, Snapshot } from '../../model/snapshot.js'
import { tableGet } from '../../model/table.js'
import type { AllocatorPick } from '../../../reducers/frame/allocator.js'
import { SPEC_IDS } from '../spec_ids.js'
import type { EnsContext, EnsRule, InvContext, InvRule, InvScope, RuleOrigin, UmbrellaRule } from '../rule.js'

const DIGEST = new Map(SPEC_IDS.map((e) => [e.id, e.summary]))

/** The digest's summaries, by ID. */
export const DIGEST_SUMMARIES: ReadonlyMap<string, string> = DIGEST

function originOf(id: string): RuleOrigin {
  return DIGEST.has(id) ? 'digest' : 'model'
}

function summaryOf(id: string, summary?: string): string {
  const s = summary ?? DIGEST.get(id)
  if (s === undefined) throw new Error(`rule ${id} is not in the spec digest and has no summary`)
  return s
}

export function ens(id: string, appliesTo: readonly string[], check: (ctx: EnsContext) => Finding[], summary?: string): EnsRule {
  return { id, kind: 'ENS', origin: originOf(id), summary: summaryOf(id, summary), appliesTo, check }
}

export function inv(
  id: string,
  group: 'A' | 'B',
  scope: InvScope,
  checkUnit: (s: Snapshot, unit: number, ctx: InvContext) => Finding[],
  summary?: string,
): InvRule {
  return { id, kind: 'INV', origin: originOf(id), summary: summaryOf(id, summary), group, scope, checkUnit }
}

export function umbrella(
  id: string,
  covers: readonly string[],
  opts: { scope?: InvScope; when?: (s: Snapshot, unit: number) => boolean; summary?: string } = {},
): UmbrellaRule {
  return {
    id,
    kind: id.slice(0, 3) as UmbrellaRule['kind'],
    origin: originOf(id),
    summary: summaryOf(id, opts.summary),
    covers,
    ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
    ...(opts.when !== undefined ? { when: opts.when } : {}),
  }
}

/** `ID-1..n` as a list. */
export function ids(prefix: string, from: number, to: number): string[] {
  const out: string[] = []
  for (let i = from; i <= to; i++) out.push(`${prefix}-${i}`)
  return out
}

// ---- reading results ---------------------------------------------------------------------

export function isOkResult(r: unknown): r is { ok: true; value: unknown } {
  return typeof r === 'object' && r !== null && (r as { ok?: unknown }).ok === true
}

export function isErrResult(r: unknown): r is { ok: false; error: unknown } {
  return typeof r === 'object' && r !== null && (r as { ok?: unknown }).ok === false
}

/** Reads a numeric field of an event. */
export function num(e: unknown, field: string): number {
  return (e as Record<string, number>)[field]!
}

export function idxOfEventPaddr(ctx: EnsContext): number {
  return frameToIndex(num(ctx.event, 'paddr'))
}

/** The result is `Ok` when `want` is `'Ok'`, else `Err(want)` (which error, not only that one). */
export function outcomeIs(ctx: EnsContext, rule: string, want: string): Finding[] {
  const got = isOkResult(ctx.result) ? 'Ok' : isErrResult(ctx.result) ? String(ctx.result.error) : JSON.stringify(ctx.result)
  if (got === want) return []
  return [finding(rule, 'result', `${ctx.event.type} returned ${got === 'Ok' ? 'Ok' : `Err(${got})`}, expected ${want === 'Ok' ? 'Ok' : `Err(${want})`}`, want === 'Ok' ? 'Ok' : { ok: false, error: want }, ctx.result)]
}

// ---- frame-rule clauses ------------------------------------------------------------------

/** Slots whose exec cells or ghost owner changed, other than `allowed`. */
export function otherSlotsChanged(ctx: EnsContext, rule: string, allowed: Iterable<number>): Finding[] {
  const ok = new Set(allowed)
  const out: Finding[] = []
  for (const i of ctx.changes.slotCells) {
    if (!ok.has(i)) out.push(finding(rule, `regions.slotOwners[${i}]`, `slot ${i} changed although the operation does not touch it`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
  }
  return out
}

/** Parking changes other than `allowed` (the "`slots` unchanged" clauses). */
export function parkingChanged(ctx: EnsContext, rule: string, allowed: Iterable<number> = []): Finding[] {
  const ok = new Set(allowed)
  const out: Finding[] = []
  for (const i of ctx.changes.parking) {
    if (!ok.has(i)) out.push(finding(rule, `regions.slots[${i}]`, `the parking of slot ${i} changed`, isParked(ctx.pre, i), isParked(ctx.post, i)))
  }
  return out
}

/** Obligation changes other than the expected deltas. */
export function obligationsChanged(ctx: EnsContext, rule: string, expected: ReadonlyMap<number, number>): Finding[] {
  const out: Finding[] = []
  const touched = new Set([...ctx.changes.obligations, ...expected.keys()])
  for (const i of touched) {
    const delta = obligationsOf(ctx.post, i) - obligationsOf(ctx.pre, i)
    const want = expected.get(i) ?? 0
    if (delta !== want) out.push(finding(rule, `regions.frameObligations[${i}]`, `frame_obligations at slot ${i} changed by ${delta}, expected ${want}`, obligationsOf(ctx.pre, i) + want, obligationsOf(ctx.post, i)))
  }
  return out
}

/** Compares the listed fields of slot `idx`'s owner before and after. */
export function ownerFieldsUnchanged(ctx: EnsContext, rule: string, idx: number, fields: ReadonlyArray<keyof MetaSlotOwner>): Finding[] {
  const a = ownerOf(ctx.pre, idx)
  const b = ownerOf(ctx.post, idx)
  return fields
    .filter((f) => !equal(a[f], b[f]))
    .map((f) => finding(rule, `regions.slotOwners[${idx}].${f}`, `${f} of slot ${idx} changed`, a[f], b[f]))
}

/** Compares the listed cells of slot `idx`'s ghost `inner_perms` before and after. */
export function cellsUnchanged(ctx: EnsContext, rule: string, idx: number, fields: ReadonlyArray<keyof MetaSlotCells>): Finding[] {
  const a = ownerOf(ctx.pre, idx).innerPerms
  const b = ownerOf(ctx.post, idx).innerPerms
  return fields
    .filter((f) => !equal(a[f], b[f]))
    .map((f) => finding(rule, `regions.slotOwners[${idx}].innerPerms.${f}`, `${f} of slot ${idx} changed`, a[f], b[f]))
}

/** The ghost ref count of slot `idx` after the step must be `want`. */
export function rcIs(ctx: EnsContext, rule: string, idx: number, want: number, why: string): Finding[] {
  const got = ownerOf(ctx.post, idx).innerPerms.refCount
  return got === want ? [] : [finding(rule, `regions.slotOwners[${idx}].innerPerms.refCount`, `${why}: rc is ${refCountName(got)}, expected ${refCountName(want)}`, want, got)]
}

/** Exec ref count of slot `idx` before the step. */
export function preRc(ctx: EnsContext, idx: number): number {
  return slotOf(ctx.pre, idx).refCount
}

/** Memory of the listed slots all-zero afterwards; other slots' memory unchanged. */
export function memoryZeroedOnly(ctx: EnsContext, rule: string, zeroed: ReadonlySet<number>): Finding[] {
  const out: Finding[] = []
  for (const idx of zeroed) {
    const bytes = tableGet(ctx.post.memory, idx)
    if (bytes !== null && bytes.some((b) => b !== 0)) out.push(finding(rule, `memory[${idx}]`, `page ${idx} is not zero-filled`, 'zeroes', 'non-zero bytes'))
  }
  for (const idx of ctx.changes.memory) {
    if (!zeroed.has(idx)) out.push(finding(rule, `memory[${idx}]`, `the contents of page ${idx} changed although the operation does not write it`))
  }
  return out
}

/** The allocator's state after an allocation is the one its pick leaves (behaviour.md §2.7). */
export function allocatorTook(ctx: EnsContext, rule: string, pick: AllocatorPick): Finding[] {
  const want = { freeStackLen: pick.freeStackLen, bumpIndex: pick.bumpIndex }
  const got = { freeStackLen: ctx.post.allocator.freeStackLen, bumpIndex: ctx.post.allocator.bumpIndex }
  const out: Finding[] = []
  if (!equal(want, got)) out.push(finding(rule, 'allocator', 'the allocator does not stand where its pick leaves it (LIFO stack popped, never-used mark advanced)', want, got))
  if (ctx.post.allocator.freeStack !== ctx.pre.allocator.freeStack) out.push(finding(rule, 'allocator.freeStack', 'an allocation wrote the free stack'))
  return out
}

/** Nothing at all changed (the "store unchanged" clauses). */
export function storeUnchanged(ctx: EnsContext, rule: string): Finding[] {
  if (ctx.pre === ctx.post) return []
  const c = ctx.changes
  const parts: Array<[string, ReadonlySet<number>]> = [
    ['slots', c.slotCells],
    ['parking', c.parking],
    ['obligations', c.obligations],
    ['uniqueOwners', c.uniqueOwners],
    ['memory', c.memory],
    ['frames', c.frames],
    ['segments', c.segments],
    ['uniqueFrames', c.uniqueFrames],
    ['lists', c.lists],
    ['vmIos', c.vmIos],
  ]
  const changed = parts.filter(([, set]) => set.size > 0)
  if (changed.length === 0 && equal(ctx.pre.counters, ctx.post.counters) && equal(ctx.pre.allocator, ctx.post.allocator)) return []
  const where = changed.map(([name, set]) => `${name}[${[...set].slice(0, 4).join(',')}]`).join(' ')
  return [finding(rule, 'snapshot', `the state changed although the operation failed: ${where || 'counters/allocator'}`)]
}
