/**
 * Rules of `UniqueFrame` (operations.md §6, §11.26–§11.27; seed 003): ENS-UNIQUE-*,
 * ENS-EMB-FROMUNIQUE-1, ENS-EMB-TRYFROMSHARED-1..2, the model's ENS-UNIQUE-METAWRITE-1, and the
 * model's invariants of `UniqueFrameOwner` (INV-UNIQUE-1..3: `owner.inv()`, `global_inv`, and
 * `self.wf(owner)` for every live handle; INV-UNIQUE-4: a live handle's frame is not also
 * forgotten). That an un-parked slot's permission is held by an owner is INV-STORE-2. The REQ rules come from the event specs
 * (reducers/frame/unique.ts).
 *
 * Clauses that restate `regions.inv()` (ENS-UNIQUE-FROMUNUSED-3, -INTORAW-2, -FROMRAW-3, -DROP-1,
 * ) are left to the INV-SLOT / INV-REGIONS invariants, which hold after every step; the unique
 * owner's agreement with the slot to INV-UNIQUE-2. ENS-UNIQUE-REPURPOSE-3 (`regions.inv()` and
 * nothing else) checks the repurposed slot.
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, frameToMeta, metaAddr, PAGE_SIZE, PageUsage, REF_COUNT_UNIQUE, REF_COUNT_UNUSED, validFramePaddr } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { regionInvAt } from '../../../../reducers/frame/meta.js'
import { isParked, isPhysicalSlot, ownerOf, uniqueOwnerOf } from '../../../model/slots.js'
import type { FrameMeta, JsonValue, MetaSlotCells, Snapshot } from '../../../model/snapshot.js'
import { tableDiff, tableGet, type Table } from '../../../model/table.js'
import type { EnsContext, EnsRule, InvRule } from '../../rule.js'
import {
  cellsUnchanged,
  ens,
  inv,
  isErrResult,
  isOkResult,
  num,
  obligationsChanged,
  otherSlotsChanged,
  ownerFieldsUnchanged,
  parkingChanged,
  rcIs,
  storeUnchanged,
} from '../helpers.js'

// ---- reading steps -------------------------------------------------------------------------

/** The unique handle named by the event, in the pre-state. */
function preHandle(ctx: EnsContext): { id: number; paddr: number; idx: number } {
  const id = num(ctx.event, 'unique')
  const paddr = tableGet(ctx.pre.uniqueFrames, id)!.paddr
  return { id, paddr, idx: frameToIndex(paddr) }
}

/** A handle id in a result (`{ unique }`, `Ok({ unique })`), or null. */
function returnedUnique(result: unknown): number | null {
  const r = result as { unique?: unknown; ok?: unknown; value?: { unique?: unknown } } | null
  if (r === null || typeof r !== 'object') return null
  if (typeof r.unique === 'number') return r.unique
  return r.ok === true && typeof r.value?.unique === 'number' ? r.value.unique : null
}

/** Changes of one registry, other than `allowed` ids. */
function registryChanged<T>(rule: string, name: string, pre: Table<T>, post: Table<T>, allowed: ReadonlySet<number>): Finding[] {
  const out: Finding[] = []
  tableDiff(pre, post, (id, b, a) => {
    if (!allowed.has(id)) out.push(finding(rule, `${name}[${id}]`, `${name}[${id}] changed although the call does not touch it`, b, a))
  })
  return out
}

/** The handle registries (`frames`, `segments`, `uniqueFrames`, `lists`) unchanged except `allowed`. */
function handlesUnchanged(ctx: EnsContext, rule: string, allowed: { frames?: number[]; uniqueFrames?: number[] } = {}): Finding[] {
  return [
    ...registryChanged(rule, 'frames', ctx.pre.frames, ctx.post.frames, new Set(allowed.frames ?? [])),
    ...registryChanged(rule, 'segments', ctx.pre.segments, ctx.post.segments, new Set()),
    ...registryChanged(rule, 'uniqueFrames', ctx.pre.uniqueFrames, ctx.post.uniqueFrames, new Set(allowed.uniqueFrames ?? [])),
    ...registryChanged(rule, 'lists', ctx.pre.lists, ctx.post.lists, new Set()),
  ]
}

/**
 * A fresh unique handle under the returned id whose pointer is `frame_to_meta(paddr)` (its slot's
 * metadata address, as the spec states it), and no other unique handle changed.
 */
function freshUnique(ctx: EnsContext, rule: string, paddr: number): Finding[] {
  const id = returnedUnique(ctx.result)
  const out: Finding[] = []
  const post = id === null ? null : tableGet(ctx.post.uniqueFrames, id)
  if (id === null || tableGet(ctx.pre.uniqueFrames, id) !== null || post === null || frameToMeta(post.paddr) !== frameToMeta(paddr)) {
    out.push(finding(rule, `uniqueFrames[${id}]`, `no fresh UniqueFrame handle to ${paddr} was registered under the returned id`, { paddr }, post ?? null))
  }
  out.push(...registryChanged(rule, 'uniqueFrames', ctx.pre.uniqueFrames, ctx.post.uniqueFrames, new Set(id === null ? [] : [id])))
  return out
}

/** The handle `id` is gone (consumed), no other unique handle changed. */
function uniqueConsumed(ctx: EnsContext, rule: string, id: number): Finding[] {
  const out: Finding[] = []
  const left = tableGet(ctx.post.uniqueFrames, id)
  if (left !== null) out.push(finding(rule, `uniqueFrames[${id}]`, `UniqueFrame ${id} is still registered after a call that takes it by value`, null, left))
  out.push(...registryChanged(rule, 'uniqueFrames', ctx.pre.uniqueFrames, ctx.post.uniqueFrames, new Set([id])))
  return out
}

/** `res.wf(owner)`: the owner of slot `idx` exists and its permission points at `frame_to_meta(paddr)`. */
function ownerWf(s: Snapshot, rule: string, idx: number, paddr: number): Finding[] {
  const owner = uniqueOwnerOf(s, idx)
  if (owner === null) return [finding(rule, `uniqueOwners[${idx}]`, `no UniqueFrameOwner holds slot ${idx} for the returned handle`, 'owner', null)]
  return owner.metaPermAddr === frameToMeta(paddr) && owner.slotIndex === idx
    ? []
    : [finding(rule, `uniqueOwners[${idx}].metaPermAddr`, `the owner's meta_perm does not point at frame_to_meta(${paddr})`, frameToMeta(paddr), owner.metaPermAddr)]
}

/** Nothing at all changed (calls that only read). */
function readOnly(ctx: EnsContext, rule: string, what: string): Finding[] {
  return storeUnchanged(ctx, rule).map((f) => ({ ...f, message: f.message.replace('although the operation failed', `although ${what} does not change state`) }))
}

function resultIs(ctx: EnsContext, rule: string, want: unknown, what: string): Finding[] {
  return equal(ctx.result, want) ? [] : [finding(rule, 'result', `${what} returned ${JSON.stringify(ctx.result)}`, want, ctx.result)]
}

function metaOf(cells: MetaSlotCells): FrameMeta | null {
  const st = cells.storage
  return st !== null && st.kind !== 'PTNode' ? st.meta : null
}

function uniqueOwnerUnchanged(ctx: EnsContext, rule: string, idx: number): Finding[] {
  const a = uniqueOwnerOf(ctx.pre, idx)
  const b = uniqueOwnerOf(ctx.post, idx)
  return equal(a, b) ? [] : [finding(rule, `uniqueOwners[${idx}]`, `the UniqueFrameOwner of slot ${idx} changed`, a, b)]
}

/** Unique owners other than at `allowed` unchanged. */
function otherUniqueOwnersChanged(ctx: EnsContext, rule: string, allowed: number[]): Finding[] {
  const ok = new Set(allowed)
  return [...ctx.changes.uniqueOwners]
    .filter((i) => !ok.has(i))
    .map((i) => finding(rule, `uniqueOwners[${i}]`, `the UniqueFrameOwner of slot ${i} changed although the call does not touch it`, uniqueOwnerOf(ctx.pre, i), uniqueOwnerOf(ctx.post, i)))
}

function rawCountIs(ctx: EnsContext, rule: string, idx: number, want: number): Finding[] {
  const got = ownerOf(ctx.post, idx).rawCount
  return got === want ? [] : [finding(rule, `regions.slotOwners[${idx}].rawCount`, `raw_count of slot ${idx} is ${got}, expected ${want}`, want, got)]
}

function parkedIs(ctx: EnsContext, rule: string, idx: number, parked: boolean): Finding[] {
  return isParked(ctx.post, idx) === parked ? [] : [finding(rule, `regions.slots[${idx}]`, `slot ${idx} is ${parked ? 'not parked' : 'parked'} afterwards`, parked, !parked)]
}

const ALL_CELLS = ['refCount', 'storage', 'vtablePtr', 'inList'] as const

// ---- ENS -----------------------------------------------------------------------------------

const FROM_UNUSED = ['unique_frame.from_unused']

export const uniqueEnsRules: EnsRule[] = [
  // ---- from_unused (§6.1)
  ens('ENS-UNIQUE-FROMUNUSED-1', FROM_UNUSED, (ctx) => {
    const paddr = num(ctx.event, 'paddr')
    if (validFramePaddr(paddr) && isPhysicalSlot(ctx.pre, frameToIndex(paddr))) return []
    return isErrResult(ctx.result) ? [] : [finding('ENS-UNIQUE-FROMUNUSED-1', 'result', `from_unused(${paddr}) of an invalid frame address did not fail`, 'Err', ctx.result)]
  }),
  ens('ENS-UNIQUE-FROMUNUSED-2', FROM_UNUSED, (ctx) => {
    if (!isOkResult(ctx.result)) return []
    const rule = 'ENS-UNIQUE-FROMUNUSED-2'
    const paddr = num(ctx.event, 'paddr')
    return [...freshUnique(ctx, rule, paddr), ...ownerWf(ctx.post, rule, frameToIndex(paddr), paddr)]
  }),
  ens('ENS-UNIQUE-FROMUNUSED-3', FROM_UNUSED, (ctx) => {
    if (!isOkResult(ctx.result)) return []
    const rule = 'ENS-UNIQUE-FROMUNUSED-3'
    const paddr = num(ctx.event, 'paddr')
    const idx = frameToIndex(paddr)
    const meta = (ctx.event as unknown as { meta: FrameMeta }).meta
    const post = ownerOf(ctx.post, idx)
    const out = rcIs(ctx, rule, idx, REF_COUNT_UNIQUE, 'a new unique frame')
    if (!equal(post.innerPerms.storage, { kind: 'Frame', meta })) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.storage`, 'the storage does not hold the given metadata', { kind: 'Frame', meta }, post.innerPerms.storage))
    if (post.innerPerms.vtablePtr === null) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.vtablePtr`, 'the vtable cell is not initialised', 'init', null))
    if (post.innerPerms.inList !== 0) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.inList`, 'in_list is not 0', 0, post.innerPerms.inList))
    if (post.usage !== PageUsage.Frame) out.push(finding(rule, `regions.slotOwners[${idx}].usage`, 'usage is not Frame', 'Frame', post.usage))
    out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'rawCount', 'pathsInPt']))
    out.push(...parkedIs(ctx, rule, idx, false), ...parkingChanged(ctx, rule, [idx]))
    out.push(...otherSlotsChanged(ctx, rule, [idx]), ...otherUniqueOwnersChanged(ctx, rule, [idx]), ...obligationsChanged(ctx, rule, new Map()))
    return out
  }),
  ens('ENS-UNIQUE-FROMUNUSED-4', FROM_UNUSED, (ctx) => (isOkResult(ctx.result) ? [] : storeUnchanged(ctx, 'ENS-UNIQUE-FROMUNUSED-4'))),
  // ---- transmute (§6.2)
  ens('ENS-UNIQUE-TRANSMUTE-1', ['unique_frame.transmute'], (ctx) => [
    ...resultIs(ctx, 'ENS-UNIQUE-TRANSMUTE-1', { unique: num(ctx.event, 'unique') }, 'transmute'),
    ...readOnly(ctx, 'ENS-UNIQUE-TRANSMUTE-1', 'transmute'),
  ]),
  // ---- repurpose (§6.3)
  ens('ENS-UNIQUE-REPURPOSE-1', ['unique_frame.repurpose'], (ctx) => {
    const rule = 'ENS-UNIQUE-REPURPOSE-1'
    const { id, paddr, idx } = preHandle(ctx)
    const out = resultIs(ctx, rule, { unique: id }, 'repurpose')
    const post = tableGet(ctx.post.uniqueFrames, id)
    if (post?.paddr !== paddr) out.push(finding(rule, `uniqueFrames[${id}]`, 'the repurposed handle does not point at the same frame', { paddr }, post))
    return [...out, ...ownerWf(ctx.post, rule, idx, paddr)]
  }),
  ens('ENS-UNIQUE-REPURPOSE-2', ['unique_frame.repurpose'], (ctx) => {
    const { idx } = preHandle(ctx)
    const meta = (ctx.event as unknown as { meta: FrameMeta }).meta
    const owner = uniqueOwnerOf(ctx.post, idx)
    const got = owner === null ? null : metaOf(owner.innerPerms)
    return equal(got, meta) ? [] : [finding('ENS-UNIQUE-REPURPOSE-2', `uniqueOwners[${idx}].innerPerms.storage`, "the new owner's metadata is not the given one", meta, got)]
  }),
  // `regions.inv()` after the call, at the repurposed slot (the other slots are unchanged; the
  // INV-SLOT / INV-REGIONS invariants say it for the whole state).
  ens('ENS-UNIQUE-REPURPOSE-3', ['unique_frame.repurpose'], (ctx) => {
    const { idx } = preHandle(ctx)
    const failure = regionInvAt(ctx.post, idx)
    return failure === null ? [] : [finding('ENS-UNIQUE-REPURPOSE-3', `metaSlots[${idx}]`, failure)]
  }),
  ens('ENS-UNIQUE-REPURPOSE-4', ['unique_frame.repurpose'], (ctx) => {
    const rule = 'ENS-UNIQUE-REPURPOSE-4'
    const { id, idx } = preHandle(ctx)
    const meta = (ctx.event as unknown as { meta: FrameMeta }).meta
    const post = ownerOf(ctx.post, idx)
    const out = rcIs(ctx, rule, idx, REF_COUNT_UNIQUE, 'repurpose keeps the frame unique')
    if (!equal(post.innerPerms.storage, { kind: 'Frame', meta })) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.storage`, 'the storage does not hold the new metadata', { kind: 'Frame', meta }, post.innerPerms.storage))
    if (post.innerPerms.vtablePtr === null) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.vtablePtr`, 'the vtable cell is not initialised', 'init', null))
    out.push(...cellsUnchanged(ctx, rule, idx, ['inList']), ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'rawCount', 'pathsInPt']))
    out.push(...otherSlotsChanged(ctx, rule, [idx]), ...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map()))
    out.push(...otherUniqueOwnersChanged(ctx, rule, [idx]), ...handlesUnchanged(ctx, rule, { uniqueFrames: [id] }))
    return out
  }),
  // ---- meta / meta_mut / start_paddr / level / size (§6.4)
  ens('ENS-UNIQUE-META-1', ['unique_frame.meta'], (ctx) => {
    const { idx } = preHandle(ctx)
    const owner = uniqueOwnerOf(ctx.pre, idx)
    return [...resultIs(ctx, 'ENS-UNIQUE-META-1', owner === null ? null : metaOf(owner.innerPerms), 'meta'), ...readOnly(ctx, 'ENS-UNIQUE-META-1', 'meta')]
  }),
  ens('ENS-UNIQUE-METAMUT-1', ['unique_frame.meta_mut'], (ctx) => {
    const { paddr } = preHandle(ctx)
    return [...resultIs(ctx, 'ENS-UNIQUE-METAMUT-1', { metaAddr: frameToMeta(paddr) }, 'meta_mut'), ...readOnly(ctx, 'ENS-UNIQUE-METAMUT-1', 'meta_mut')]
  }),
  ens(
    'ENS-UNIQUE-METAWRITE-1',
    ['unique_frame.meta_mut.write'],
    (ctx) => {
      const rule = 'ENS-UNIQUE-METAWRITE-1'
      const { id, idx } = preHandle(ctx)
      const value = (ctx.event as unknown as { value: JsonValue }).value
      const out: Finding[] = []
      const places: Array<[string, MetaSlotCells | null, MetaSlotCells | null]> = [
        [`regions.slotOwners[${idx}].innerPerms`, ownerOf(ctx.pre, idx).innerPerms, ownerOf(ctx.post, idx).innerPerms],
        [`uniqueOwners[${idx}].innerPerms`, uniqueOwnerOf(ctx.pre, idx)?.innerPerms ?? null, uniqueOwnerOf(ctx.post, idx)?.innerPerms ?? null],
      ]
      for (const [path, a, b] of places) {
        const before = a === null ? null : metaOf(a)
        const want = before === null ? null : { ...before, value }
        const got = b === null ? null : metaOf(b)
        if (!equal(got, want)) out.push(finding(rule, `${path}.storage`, 'the metadata value was not written (or its type changed)', want, got))
        if (a !== null && b !== null) for (const f of ['refCount', 'vtablePtr', 'inList'] as const) if (a[f] !== b[f]) out.push(finding(rule, `${path}.${f}`, `${f} changed`, a[f], b[f]))
      }
      out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'rawCount', 'pathsInPt']))
      out.push(...otherSlotsChanged(ctx, rule, [idx]), ...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map()))
      out.push(...otherUniqueOwnersChanged(ctx, rule, [idx]), ...handlesUnchanged(ctx, rule, { uniqueFrames: [id] }))
      return out
    },
    "[model] A write through `UniqueFrame::meta_mut()` sets the metadata's value (its type unchanged) in the slot and in the owner's permission; nothing else changes.",
  ),
  ens('ENS-UNIQUE-STARTPADDR-1', ['unique_frame.start_paddr'], (ctx) => [
    ...resultIs(ctx, 'ENS-UNIQUE-STARTPADDR-1', preHandle(ctx).paddr, 'start_paddr'),
    ...readOnly(ctx, 'ENS-UNIQUE-STARTPADDR-1', 'start_paddr'),
  ]),
  ens(
    'ENS-UNIQUE-LEVEL-1',
    ['unique_frame.level'],
    (ctx) => [...resultIs(ctx, 'ENS-UNIQUE-LEVEL-1', 1, 'level'), ...readOnly(ctx, 'ENS-UNIQUE-LEVEL-1', 'level')],
    '`UniqueFrame::level()` returns 1; no state change.',
  ),
  ens(
    'ENS-UNIQUE-SIZE-1',
    ['unique_frame.size'],
    (ctx) => [...resultIs(ctx, 'ENS-UNIQUE-SIZE-1', PAGE_SIZE, 'size'), ...readOnly(ctx, 'ENS-UNIQUE-SIZE-1', 'size')],
    '`UniqueFrame::size()` returns `PAGE_SIZE`; no state change.',
  ),
  // ---- into_raw (§6.5)
  ens('ENS-UNIQUE-INTORAW-1', ['unique_frame.into_raw'], (ctx) => resultIs(ctx, 'ENS-UNIQUE-INTORAW-1', preHandle(ctx).paddr, 'into_raw')),
  ens('ENS-UNIQUE-INTORAW-2', ['unique_frame.into_raw'], (ctx) => parkingChanged(ctx, 'ENS-UNIQUE-INTORAW-2')),
  ens('ENS-UNIQUE-INTORAW-3', ['unique_frame.into_raw'], (ctx) => rawCountIs(ctx, 'ENS-UNIQUE-INTORAW-3', preHandle(ctx).idx, 1)),
  ens('ENS-UNIQUE-INTORAW-4', ['unique_frame.into_raw'], (ctx) => {
    const rule = 'ENS-UNIQUE-INTORAW-4'
    const { id, idx } = preHandle(ctx)
    return [
      ...otherSlotsChanged(ctx, rule, [idx]),
      // the frame rule: the slot itself keeps its cells and fields, the owner keeps the permission
      ...cellsUnchanged(ctx, rule, idx, ALL_CELLS),
      ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']),
      ...uniqueOwnerUnchanged(ctx, rule, idx),
      ...otherUniqueOwnersChanged(ctx, rule, [idx]),
      ...obligationsChanged(ctx, rule, new Map()),
      ...uniqueConsumed(ctx, rule, id),
      ...handlesUnchanged(ctx, rule, { uniqueFrames: [id] }),
    ]
  }),
  // ---- from_raw (§6.6)
  ens('ENS-UNIQUE-FROMRAW-1', ['unique_frame.from_raw'], (ctx) => {
    const rule = 'ENS-UNIQUE-FROMRAW-1'
    const paddr = num(ctx.event, 'paddr')
    return [...freshUnique(ctx, rule, paddr), ...ownerWf(ctx.post, rule, frameToIndex(paddr), paddr)]
  }),
  ens('ENS-UNIQUE-FROMRAW-2', ['unique_frame.from_raw'], (ctx) => uniqueOwnerUnchanged(ctx, 'ENS-UNIQUE-FROMRAW-2', frameToIndex(num(ctx.event, 'paddr')))),
  ens('ENS-UNIQUE-FROMRAW-3', ['unique_frame.from_raw'], (ctx) => {
    const rule = 'ENS-UNIQUE-FROMRAW-3'
    const idx = frameToIndex(num(ctx.event, 'paddr'))
    return [
      ...rawCountIs(ctx, rule, idx, ownerOf(ctx.pre, idx).rawCount - 1),
      ...cellsUnchanged(ctx, rule, idx, ALL_CELLS),
      ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']),
      ...otherSlotsChanged(ctx, rule, [idx]),
      ...parkingChanged(ctx, rule),
      ...obligationsChanged(ctx, rule, new Map()),
      ...otherUniqueOwnersChanged(ctx, rule, [idx]),
      // (the unique handles: ENS-UNIQUE-FROMRAW-1 checks that exactly one fresh one appears)
      ...handlesUnchanged(ctx, rule, { uniqueFrames: [...ctx.changes.uniqueFrames] }),
    ]
  }),
  // ---- drop (§6.7)
  ens('ENS-UNIQUE-DROP-1', ['unique_frame.drop'], (ctx) => rawCountIs(ctx, 'ENS-UNIQUE-DROP-1', preHandle(ctx).idx, 0)),
  ens('ENS-UNIQUE-DROP-2', ['unique_frame.drop'], (ctx) => {
    const rule = 'ENS-UNIQUE-DROP-2'
    const { id, idx } = preHandle(ctx)
    const post = ownerOf(ctx.post, idx)
    const out = rcIs(ctx, rule, idx, REF_COUNT_UNUSED, 'drop frees the frame')
    if (post.innerPerms.storage !== null || post.innerPerms.vtablePtr !== null) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms`, 'storage or vtable still initialised after drop', 'uninit', post.innerPerms))
    out.push(...cellsUnchanged(ctx, rule, idx, ['inList']), ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']))
    out.push(...parkedIs(ctx, rule, idx, true), ...parkingChanged(ctx, rule, [idx]), ...otherSlotsChanged(ctx, rule, [idx]))
    // the frame rule: the handle and the owner are gone, nothing else changed
    if (uniqueOwnerOf(ctx.post, idx) !== null) out.push(finding(rule, `uniqueOwners[${idx}]`, 'the UniqueFrameOwner survives the drop', null, uniqueOwnerOf(ctx.post, idx)))
    out.push(...otherUniqueOwnersChanged(ctx, rule, [idx]), ...obligationsChanged(ctx, rule, new Map()))
    out.push(...uniqueConsumed(ctx, rule, id), ...handlesUnchanged(ctx, rule, { uniqueFrames: [id] }))
    return out
  }),
  // ---- embedding: FromUnique / TryFromShared (§11.26, §11.27)
  ens('ENS-EMB-FROMUNIQUE-1', ['unique_frame.into_shared'], (ctx) => {
    const rule = 'ENS-EMB-FROMUNIQUE-1'
    const { id, paddr, idx } = preHandle(ctx)
    const out = [...uniqueConsumed(ctx, rule, id), ...rcIs(ctx, rule, idx, 1, 'the unique frame becomes shared')]
    out.push(...cellsUnchanged(ctx, rule, idx, ['storage', 'vtablePtr', 'inList']), ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'rawCount', 'pathsInPt']))
    out.push(...otherSlotsChanged(ctx, rule, [idx]), ...otherUniqueOwnersChanged(ctx, rule, [idx]))
    // Deviation: the digest's "others unchanged" includes `slots`, but in the seed profile (MD-2)
    // a unique frame's permission is un-parked, so turning it into a Frame re-parks it.
    out.push(...parkedIs(ctx, rule, idx, true), ...parkingChanged(ctx, rule, [idx]))
    const frame = (ctx.result as { frame?: unknown } | null)?.frame
    const entry = typeof frame === 'number' ? tableGet(ctx.post.frames, frame) : null
    if (typeof frame !== 'number' || tableGet(ctx.pre.frames, frame) !== null || entry?.paddr !== paddr) out.push(finding(rule, `frames[${String(frame)}]`, `no fresh Frame handle to ${paddr} was registered under the returned id`, { paddr }, entry))
    out.push(...obligationsChanged(ctx, rule, new Map([[idx, 1]])), ...handlesUnchanged(ctx, rule, { frames: typeof frame === 'number' ? [frame] : [], uniqueFrames: [id] }))
    return out
  }),
  ens('ENS-EMB-TRYFROMSHARED-1', ['unique_frame.try_from_shared'], (ctx) => {
    const rule = 'ENS-EMB-TRYFROMSHARED-1'
    const fid = num(ctx.event, 'frame')
    const paddr = tableGet(ctx.pre.frames, fid)!.paddr
    const idx = frameToIndex(paddr)
    if (ownerOf(ctx.pre, idx).innerPerms.refCount !== 1) return []
    const out: Finding[] = []
    if (!isOkResult(ctx.result)) out.push(finding(rule, 'result', 'try_from_shared of the sole reference (rc 1) failed', 'Ok', ctx.result))
    if (tableGet(ctx.post.frames, fid) !== null) out.push(finding(rule, `frames[${fid}]`, `Frame ${fid} is still registered after it became unique`, null, tableGet(ctx.post.frames, fid)))
    out.push(...rcIs(ctx, rule, idx, REF_COUNT_UNIQUE, 'the sole reference becomes unique'))
    out.push(...cellsUnchanged(ctx, rule, idx, ['storage', 'vtablePtr', 'inList']), ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'rawCount', 'pathsInPt']))
    out.push(...otherSlotsChanged(ctx, rule, [idx]), ...otherUniqueOwnersChanged(ctx, rule, [idx]))
    // Deviation: the digest keeps `slots` unchanged (HEAD embedding); in the seed profile (MD-2)
    // the permission leaves the region into the new UniqueFrameOwner, so the slot is un-parked.
    out.push(...parkedIs(ctx, rule, idx, false), ...parkingChanged(ctx, rule, [idx]), ...ownerWf(ctx.post, rule, idx, paddr))
    out.push(...freshUnique(ctx, rule, paddr), ...obligationsChanged(ctx, rule, new Map([[idx, -1]])))
    out.push(...handlesUnchanged(ctx, rule, { frames: [fid], uniqueFrames: [...ctx.changes.uniqueFrames] }))
    return out
  }),
  ens('ENS-EMB-TRYFROMSHARED-2', ['unique_frame.try_from_shared'], (ctx) => {
    const rule = 'ENS-EMB-TRYFROMSHARED-2'
    const fid = num(ctx.event, 'frame')
    const idx = frameToIndex(tableGet(ctx.pre.frames, fid)!.paddr)
    if (ownerOf(ctx.pre, idx).innerPerms.refCount === 1) return []
    return [...resultIs(ctx, rule, { ok: false, error: { frame: fid } }, 'try_from_shared of a frame with other references'), ...storeUnchanged(ctx, rule)]
  }),
]

// ---- INV -----------------------------------------------------------------------------------

const ownerPath = (idx: number): string => `uniqueOwners[${idx}]`

export const uniqueInvariants: InvRule[] = [
  inv(
    'INV-UNIQUE-1',
    'A',
    'slot',
    (s, idx) => {
      const o = uniqueOwnerOf(s, idx)
      if (o === null) return []
      const out: Finding[] = []
      if (o.slotIndex !== idx) out.push(finding('INV-UNIQUE-1', `${ownerPath(idx)}.slotIndex`, `the UniqueFrameOwner held at slot ${idx} names slot ${o.slotIndex}`, idx, o.slotIndex))
      if (o.metaPermAddr !== metaAddr(idx)) out.push(finding('INV-UNIQUE-1', `${ownerPath(idx)}.metaPermAddr`, `meta_perm.addr() is not meta_addr(${idx})`, metaAddr(idx), o.metaPermAddr))
      return out
    },
    '[model, seed `UniqueFrameOwner::inv`] the owner held for slot `idx` has `slot_index == idx` and `meta_perm.addr() == meta_addr(slot_index)` (its permission being initialised follows from INV-UNIQUE-2, INV-REGIONS-5 and INV-SLOT-2).',
  ),
  inv(
    'INV-UNIQUE-2',
    'B',
    'slot',
    (s, idx) => {
      const o = uniqueOwnerOf(s, idx)
      if (o === null) return []
      const out: Finding[] = []
      const so = ownerOf(s, idx)
      if (isParked(s, idx)) out.push(finding('INV-UNIQUE-2', `regions.slots[${idx}]`, `slot ${idx} is parked although a UniqueFrameOwner holds its permission`, false, true))
      if (!equal(o.innerPerms, so.innerPerms)) out.push(finding('INV-UNIQUE-2', `${ownerPath(idx)}.innerPerms`, `the owner's permission and slot_owners[${idx}].inner_perms disagree`, so.innerPerms, o.innerPerms))
      if (so.selfAddr !== o.metaPermAddr) out.push(finding('INV-UNIQUE-2', `regions.slotOwners[${idx}].selfAddr`, `self_addr of slot ${idx} is not the owner's meta_perm.addr()`, o.metaPermAddr, so.selfAddr))
      return out
    },
    "[model, seed `UniqueFrameOwner::global_inv`] a slot held by a UniqueFrameOwner is not parked, its slot owner's `inner_perms` equal the owner's permission's, and its `self_addr == meta_perm.addr()`.",
  ),
  inv(
    'INV-UNIQUE-3',
    'B',
    'slot',
    (s, idx, { accounting }) =>
      accounting.uniqueCount(idx) === 0 || uniqueOwnerOf(s, idx) !== null
        ? []
        : [finding('INV-UNIQUE-3', ownerPath(idx), `a live UniqueFrame handle points at slot ${idx}, but no UniqueFrameOwner holds it`, 'owner', null)],
    '[model, seed `self.wf(owner)`] every live `UniqueFrame` handle has its `UniqueFrameOwner` (held for the handle\'s slot).',
  ),
  inv(
    'INV-UNIQUE-4',
    'B',
    'slot',
    (s, idx, { accounting }) =>
      accounting.uniqueCount(idx) === 0 || ownerOf(s, idx).rawCount === 0
        ? []
        : [finding('INV-UNIQUE-4', `regions.slotOwners[${idx}].rawCount`, `slot ${idx} has a live UniqueFrame handle and raw_count ${ownerOf(s, idx).rawCount}: a unique frame is held by its handle or forgotten (into_raw), not both`, 0, ownerOf(s, idx).rawCount)],
    '[model, seed `UniqueFrame::into_raw` / `from_raw`] a slot a live `UniqueFrame` handle points at has `raw_count == 0`: the frame is held by the handle or forgotten by `into_raw` (`raw_count == 1`), never both.',
  ),
]

export const uniqueRules = [...uniqueEnsRules, ...uniqueInvariants]
