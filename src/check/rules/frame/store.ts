/**
 * The embedding store's structural and accounting invariants that concern frames (state.md §15):
 * INV-STORE-1..3, 12..19, INV-ACCT-1..3, plus the model's obligation ledger check. Group B: they
 * hold at the boundary of a dispatched event (MD-12).
 *
 * Counts at a slot: `H` live `Frame` handles, `P = |paths_in_pt|`, `cover` covering segments,
 * and `R = raw_count - cover` forgotten `Frame` handles (`Frame::into_raw`; the embedding has no
 * such op, so the model adds `R` to the equation of INV-ACCT-2/3).
 */
import { MAX_PADDR, PAGE_SIZE, PageUsage, REF_COUNT_UNIQUE, REF_COUNT_UNUSED, refCountName, validFramePaddr } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { isParked, obligationsOf, ownerOf, uniqueOwnerOf } from '../../../model/slots.js'
import { tableGet } from '../../../model/table.js'
import type { InvRule, UmbrellaRule } from '../../rule.js'
import { ids, inv, umbrella } from '../helpers.js'

const slotPath = (idx: number): string => `regions.slotOwners[${idx}]`

export const storeInvariants: InvRule[] = [
  inv('INV-STORE-2', 'B', 'slot', (s, idx) =>
    isParked(s, idx) || uniqueOwnerOf(s, idx) !== null
      ? []
      : [finding('INV-STORE-2', `regions.slots[${idx}]`, `slot ${idx} is not parked and no UniqueFrame owner holds its permission (MD-2, seed profile)`)],
  ),
  inv('INV-STORE-3', 'B', 'slot', (s, idx) => {
    const { inList, storage } = ownerOf(s, idx).innerPerms
    if (inList === 0) return []
    // The model has a list model: in_list is the id of the LinkedList that links the frame.
    const list = tableGet(s.lists, inList - 1)
    return storage?.kind === 'FrameLink' && list !== null && list.listId === inList
      ? []
      : [finding('INV-STORE-3', `${slotPath(idx)}.innerPerms.inList`, `in_list of slot ${idx} is ${inList}, but no linked list with that id links the frame`, 0, inList)]
  }),
  inv('INV-STORE-12', 'B', 'frames', (s, id) => {
    const e = tableGet(s.frames, id)!
    return validFramePaddr(e.paddr) ? [] : [finding('INV-STORE-12', `frames[${id}].paddr`, `frame handle ${id} has an invalid paddr`, 'valid_frame_paddr', e.paddr)]
  }),
  inv('INV-STORE-13', 'B', 'slot', (s, idx, { accounting }) =>
    accounting.handleCount(idx) === 0 || ownerOf(s, idx).usage === PageUsage.Frame
      ? []
      : [finding('INV-STORE-13', `${slotPath(idx)}.usage`, `slot ${idx} has Frame handles but usage ${ownerOf(s, idx).usage}`, 'Frame', ownerOf(s, idx).usage)],
  ),
  inv('INV-STORE-14', 'B', 'segments', (s, id) => {
    const e = tableGet(s.segments, id)!
    const ok = Number.isSafeInteger(e.startPaddr) && Number.isSafeInteger(e.endPaddr) && e.startPaddr % PAGE_SIZE === 0 && e.endPaddr % PAGE_SIZE === 0 && e.startPaddr >= 0 && e.startPaddr < e.endPaddr && e.endPaddr <= MAX_PADDR
    return ok ? [] : [finding('INV-STORE-14', `segments[${id}]`, `segment ${id} range is not page aligned, non-empty and below MAX_PADDR`, 'aligned, non-empty', [e.startPaddr, e.endPaddr])]
  }),
  inv('INV-STORE-15', 'B', 'slot', (s, idx, { accounting }) =>
    accounting.coverCount(idx) === 0 || ownerOf(s, idx).usage === PageUsage.Frame
      ? []
      : [finding('INV-STORE-15', `${slotPath(idx)}.usage`, `slot ${idx} is covered by a segment but has usage ${ownerOf(s, idx).usage}`, 'Frame', ownerOf(s, idx).usage)],
  ),
  inv('INV-STORE-16', 'B', 'uniqueFrames', (s, id) => {
    const e = tableGet(s.uniqueFrames, id)!
    return validFramePaddr(e.paddr) ? [] : [finding('INV-STORE-16', `uniqueFrames[${id}].paddr`, `unique frame ${id} has an invalid paddr`, 'valid_frame_paddr', e.paddr)]
  }),
  inv('INV-STORE-17', 'B', 'slot', (s, idx, { accounting }) => {
    if (accounting.uniqueCount(idx) === 0) return []
    const o = ownerOf(s, idx)
    const out: Finding[] = []
    if (o.usage !== PageUsage.Frame) out.push(finding('INV-STORE-17', `${slotPath(idx)}.usage`, `unique frame slot ${idx} has usage ${o.usage}`, 'Frame', o.usage))
    if (o.innerPerms.refCount !== REF_COUNT_UNIQUE) out.push(finding('INV-STORE-17', `${slotPath(idx)}.innerPerms.refCount`, `unique frame slot ${idx} has rc ${refCountName(o.innerPerms.refCount)}`, 'UNIQUE', o.innerPerms.refCount))
    if (o.innerPerms.inList !== 0) out.push(finding('INV-STORE-17', `${slotPath(idx)}.innerPerms.inList`, `unique frame slot ${idx} is in list ${o.innerPerms.inList}`, 0, o.innerPerms.inList))
    if (o.pathsInPt.length !== 0) out.push(finding('INV-STORE-17', `${slotPath(idx)}.pathsInPt`, `unique frame slot ${idx} is mapped`, [], o.pathsInPt))
    return out
  }),
  inv('INV-STORE-18', 'B', 'slot', (_s, idx, { accounting }) =>
    accounting.uniqueCount(idx) <= 1 ? [] : [finding('INV-STORE-18', `uniqueFrames@${idx}`, `${accounting.uniqueCount(idx)} UniqueFrame handles share slot ${idx}`, 1, accounting.uniqueCount(idx))],
  ),
  inv(
    'INV-STORE-19',
    'B',
    'slot',
    (s, idx, { accounting }) => {
      const o = ownerOf(s, idx)
      if (o.usage !== PageUsage.Frame || o.innerPerms.refCount === REF_COUNT_UNIQUE) return []
      const cover = accounting.coverCount(idx)
      return o.rawCount >= cover
        ? []
        : [finding('INV-STORE-19', `${slotPath(idx)}.rawCount`, `slot ${idx} has raw_count ${o.rawCount} but ${cover} covering segments (each holds one forgotten reference)`, `>= ${cover}`, o.rawCount)]
    },
    '[JUN] `raw_count(idx) == cover(idx)` for `usage == Frame` slots; model form `raw_count >= cover` (the excess counts forgotten `Frame` handles).',
  ),
  inv('INV-ACCT-1', 'B', 'slot', (s, idx, { accounting }) => {
    const o = ownerOf(s, idx)
    if (o.innerPerms.refCount !== REF_COUNT_UNUSED) return []
    const h = accounting.handleCount(idx)
    const cover = accounting.coverCount(idx)
    return h === 0 && o.pathsInPt.length === 0 && cover === 0
      ? []
      : [finding('INV-ACCT-1', slotPath(idx), `UNUSED slot ${idx} still has H=${h}, P=${o.pathsInPt.length}, cover=${cover}`, { H: 0, P: 0, cover: 0 }, { H: h, P: o.pathsInPt.length, cover })]
  }),
  inv('INV-ACCT-2', 'B', 'slot', (s, idx, { accounting }) => {
    const o = ownerOf(s, idx)
    const rc = o.innerPerms.refCount
    if (o.usage !== PageUsage.Frame || rc === REF_COUNT_UNUSED || rc === REF_COUNT_UNIQUE) return []
    const cover = accounting.coverCount(idx)
    const live = accounting.handleCount(idx) + o.pathsInPt.length + cover + Math.max(0, o.rawCount - cover)
    return live > 0 ? [] : [finding('INV-ACCT-2', slotPath(idx), `frame slot ${idx} is in use (rc ${refCountName(rc)}) but nothing holds it: no handle, mapping, segment or forgotten reference`)]
  }),
  inv('INV-ACCT-3', 'B', 'slot', (s, idx, { accounting }) => {
    const o = ownerOf(s, idx)
    if (o.usage !== PageUsage.Frame) return []
    const h = accounting.handleCount(idx)
    const p = o.pathsInPt.length
    const cover = accounting.coverCount(idx)
    // A UNIQUE slot's raw_count counts a forgotten UniqueFrame (UniqueFrame::into_raw), not a
    // forgotten Frame reference: UNIQUE slots are outside the equation (state.md §15).
    const r = o.innerPerms.refCount === REF_COUNT_UNIQUE ? 0 : Math.max(0, o.rawCount - cover)
    if (h + p + cover + r === 0) return []
    const rc = o.innerPerms.refCount
    const want = h + p + cover + r
    if (rc === REF_COUNT_UNUSED || rc === REF_COUNT_UNIQUE || rc !== want || o.innerPerms.storage === null) {
      return [finding('INV-ACCT-3', `${slotPath(idx)}.innerPerms.refCount`, `slot ${idx}: rc ${refCountName(rc)} != H ${h} + P ${p} + cover ${cover} + forgotten ${r}`, want, rc)]
    }
    return []
  }),
  inv(
    'INV-OBLIG-1',
    'B',
    'slot',
    (s, idx, { accounting }) => {
      // Page-table node slots: their obligations count PageTableNode handles (INV-PTACCT-1).
      if (ownerOf(s, idx).usage === PageUsage.PageTable) return []
      if (ownerOf(s, idx).usage !== PageUsage.Frame && obligationsOf(s, idx) === 0) return []
      const h = accounting.handleCount(idx)
      const fo = obligationsOf(s, idx)
      return fo === h ? [] : [finding('INV-OBLIG-1', `regions.frameObligations[${idx}]`, `slot ${idx} has ${fo} frame obligations but ${h} live Frame handles`, h, fo)]
    },
    '[model, JUN ledger] `frame_obligations.count(idx)` equals the number of live `Frame` values at the slot (one mint per handle created, one redeem per drop or forget); page-table node slots are INV-PTACCT-1\'s.',
  ),
]

export const storeUmbrellas: UmbrellaRule[] = [
  umbrella('INV-STORE-1', ids('INV-REGIONS', 1, 6), { scope: 'slot' }),
]
