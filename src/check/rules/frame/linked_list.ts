/**
 * Rules of the frame `LinkedList` (ostd::mm::frame::linked_list). The spec digest has no IDs for
 * it; every rule here is the model's: ENS-LIST-NEW-1, ENS-LIST-INSERT-1..2, ENS-LIST-TAKE-1..2,
 * ENS-LIST-DROP-1 and INV-LIST-1..3. (REQ-LIST-1, REQ-LIST-CURSOR-1 and REQ-LIST-FROMRAW-1 come
 * from the event specs.)
 *
 * The links are exec state (`Link::next` / `prev` in the slot's storage): the structural rules
 * read the exec cells (INV-SLOT-9 keeps the ghost copies equal); a member's ownership state
 * (rc, parking, owner, `raw_count`) is ghost state and is read from the owners.
 *
 * Cost and locality: every invariant is O(1) per unit. INV-LIST-1 reads a list and its two end
 * slots, INV-LIST-3 a member, its neighbours and its list's ends; `computeChanges`
 * (src/check/changes.ts) marks those units whenever a step changes a member, a neighbour or the
 * list, so incremental and full checking agree. Two global properties are not invariants: the
 * element count equals `size` (kept step by step by ENS-LIST-INSERT-1 / ENS-LIST-TAKE-1; a walk
 * per change would make checking O(list length) per step), and a cycle of slots that claim a
 * list and link to each other consistently without being reachable from its front (no
 * unit-local rule can see it).
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, indexToFrame, PageUsage, REF_COUNT_UNIQUE, REF_COUNT_UNUSED, refCountName, validFramePaddr } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { isParked, isPhysicalSlot, ownerOf, slotOf, uniqueOwnerOf } from '../../../model/slots.js'
import type { FrameMeta, LinkedListState, MetaSlotCells, Snapshot } from '../../../model/snapshot.js'
import { tableDiff, tableGet, type Table } from '../../../model/table.js'
import type { EnsContext, EnsRule, InvRule } from '../../rule.js'
import { ens, inv, num, obligationsChanged, ownerFieldsUnchanged, parkingChanged, rcIs, storeUnchanged } from '../helpers.js'

// ---- reading lists -------------------------------------------------------------------------

interface Link {
  readonly meta: FrameMeta
  readonly nextPaddr: number | null
  readonly prevPaddr: number | null
  readonly inList: number
}

/** The exec link of the frame at `paddr`, or null when it holds no `FrameLink`. */
function linkAt(s: Snapshot, paddr: number): Link | null {
  if (!validFramePaddr(paddr) || !isPhysicalSlot(s, frameToIndex(paddr))) return null
  const cells = slotOf(s, frameToIndex(paddr))
  const st = cells.storage
  return st?.kind === 'FrameLink' ? { meta: st.meta, nextPaddr: st.nextPaddr, prevPaddr: st.prevPaddr, inList: cells.inList } : null
}

/** The members of a list, front to back, as far as its chain is well formed (at most `size + 1`). */
function members(s: Snapshot, list: LinkedListState): number[] {
  const out: number[] = []
  for (let pa = list.frontPaddr; pa !== null && out.length <= list.size; ) {
    const link = linkAt(s, pa)
    if (link === null || link.inList !== list.listId) break
    out.push(pa)
    pa = link.nextPaddr
  }
  return out
}

const listPath = (id: number): string => `lists[${id}]`
const linkPath = (idx: number): string => `metaSlots[${idx}].storage`

// ---- INV -----------------------------------------------------------------------------------

/**
 * INV-LIST-1 on one list: its own fields and its two ends. O(1): the members' links are checked
 * member by member (INV-LIST-3), and the element count — which no unit-local rule can see
 * without walking the chain on every change — is established step by step by ENS-LIST-INSERT-1
 * and ENS-LIST-TAKE-1 (size ± 1 with exactly one frame linked or unlinked).
 */
function listDefects(s: Snapshot, id: number, list: LinkedListState): Finding[] {
  const rule = 'INV-LIST-1'
  const out: Finding[] = []
  if (list.listId !== id + 1) out.push(finding(rule, `${listPath(id)}.listId`, `list ${id} has id ${list.listId}, expected ${id + 1}`, id + 1, list.listId))
  if (!(Number.isSafeInteger(list.size) && list.size >= 0)) return [...out, finding(rule, `${listPath(id)}.size`, `list ${id} has size ${list.size}`, '>= 0', list.size)]
  const empty = list.size === 0
  if ((list.frontPaddr === null) !== empty || (list.backPaddr === null) !== empty) {
    return [...out, finding(rule, listPath(id), `list ${id}: front ${list.frontPaddr}, back ${list.backPaddr} and size ${list.size} disagree`, 'both ends null iff size 0', list)]
  }
  if (empty) return out
  if ((list.frontPaddr === list.backPaddr) !== (list.size === 1)) {
    out.push(finding(rule, `${listPath(id)}.size`, `list ${id} has size ${list.size} but its front and back are ${list.frontPaddr === list.backPaddr ? 'the same frame' : 'different frames'}`, list.frontPaddr === list.backPaddr ? 1 : '>= 2', list.size))
  }
  for (const [end, pa, outer] of [['frontPaddr', list.frontPaddr!, 'prevPaddr'], ['backPaddr', list.backPaddr!, 'nextPaddr']] as const) {
    const link = linkAt(s, pa)
    if (link === null || link.inList !== list.listId || link[outer] !== null) {
      out.push(finding(rule, `${listPath(id)}.${end}`, `list ${id}: its ${end === 'frontPaddr' ? 'front' : 'back'} ${pa} is not an element of the list at that end`, { inList: list.listId, [outer]: null }, link))
    }
  }
  return out
}

/** The live list a slot's `in_list` names, or null (INV-STORE-3 reports a dangling id). */
function listOfSlot(s: Snapshot, inList: number): LinkedListState | null {
  if (!(Number.isSafeInteger(inList) && inList > 0)) return null
  const list = tableGet(s.lists, inList - 1)
  return list !== null && list.listId === inList ? list : null
}

export const linkedListInvariants: InvRule[] = [
  inv(
    'INV-LIST-1',
    'B',
    'lists',
    (s, id) => listDefects(s, id, tableGet(s.lists, id)!),
    '[model] A `LinkedList` is well formed at its ends: `listId == id + 1`; both ends are null iff `size == 0`; `front == back` iff `size == 1`; `front` is an element of the list (`FrameLink` storage, `in_list == listId`) with no predecessor and `back` one with no successor. (Its elements link consistently by INV-LIST-3; the count is kept by ENS-LIST-INSERT-1 / ENS-LIST-TAKE-1.)',
  ),
  inv(
    'INV-LIST-2',
    'B',
    'slot',
    (s, idx) => {
      const rule = 'INV-LIST-2'
      const o = ownerOf(s, idx)
      const { inList, storage, refCount } = o.innerPerms
      const path = `regions.slotOwners[${idx}]`
      if (storage?.kind === 'FrameLink' && inList === 0) return [finding(rule, `${path}.innerPerms.inList`, `slot ${idx} holds a list link but is in no list`, '!= 0', 0)]
      if (storage?.kind !== 'FrameLink' || listOfSlot(s, inList) === null) return []
      const out: Finding[] = []
      if (refCount !== REF_COUNT_UNIQUE) out.push(finding(rule, `${path}.innerPerms.refCount`, `list element ${idx} has rc ${refCountName(refCount)}, not UNIQUE`, 'UNIQUE', refCount))
      if (isParked(s, idx)) out.push(finding(rule, `regions.slots[${idx}]`, `list element ${idx} is parked: no owner holds its permission`, false, true))
      if (uniqueOwnerOf(s, idx) === null) out.push(finding(rule, `uniqueOwners[${idx}]`, `list element ${idx} has no UniqueFrameOwner`, 'owner', null))
      if (o.rawCount !== 1) out.push(finding(rule, `${path}.rawCount`, `list element ${idx} has raw_count ${o.rawCount}: the list holds it as one forgotten UniqueFrame`, 1, o.rawCount))
      return out
    },
    '[model] A frame linked into a live list (`FrameLink` storage, `in_list` = its id) is a forgotten `UniqueFrame` the list owns: rc UNIQUE, un-parked, held by a `UniqueFrameOwner`, `raw_count == 1`; a `FrameLink` slot is always in a list.',
  ),
  inv(
    'INV-LIST-3',
    'B',
    'slot',
    (s, idx) => {
      const rule = 'INV-LIST-3'
      const cells = slotOf(s, idx)
      const st = cells.storage
      if (st?.kind !== 'FrameLink') return []
      const list = listOfSlot(s, cells.inList)
      if (list === null) return []
      const pa = indexToFrame(idx)
      const out: Finding[] = []
      if (st.prevPaddr === null) {
        if (list.frontPaddr !== pa) out.push(finding(rule, `${linkPath(idx)}.prevPaddr`, `frame ${pa} has no predecessor but is not the front of list ${cells.inList - 1}`, list.frontPaddr, pa))
      } else {
        const p = linkAt(s, st.prevPaddr)
        if (p === null || p.inList !== cells.inList || p.nextPaddr !== pa) out.push(finding(rule, `${linkPath(idx)}.prevPaddr`, `frame ${pa}'s predecessor ${st.prevPaddr} does not link to it in list ${cells.inList - 1}`, { inList: cells.inList, nextPaddr: pa }, p))
      }
      if (st.nextPaddr === null) {
        if (list.backPaddr !== pa) out.push(finding(rule, `${linkPath(idx)}.nextPaddr`, `frame ${pa} has no successor but is not the back of list ${cells.inList - 1}`, list.backPaddr, pa))
      } else {
        const n = linkAt(s, st.nextPaddr)
        if (n === null || n.inList !== cells.inList || n.prevPaddr !== pa) out.push(finding(rule, `${linkPath(idx)}.nextPaddr`, `frame ${pa}'s successor ${st.nextPaddr} does not link back to it in list ${cells.inList - 1}`, { inList: cells.inList, prevPaddr: pa }, n))
      }
      return out
    },
    "[model] A frame linked into a live list is reachable in it: its predecessor links to it (or it is the list's front), its successor links back to it (or it is the list's back), both in the same list.",
  ),
]

// ---- ENS helpers ---------------------------------------------------------------------------

function preList(ctx: EnsContext): { id: number; list: LinkedListState } {
  const id = num(ctx.event, 'list')
  return { id, list: tableGet(ctx.pre.lists, id)! }
}

/** Changes of a registry other than `allowed`. */
function registryChanged<T>(rule: string, name: string, pre: Table<T>, post: Table<T>, allowed: readonly number[]): Finding[] {
  const ok = new Set(allowed)
  const out: Finding[] = []
  tableDiff(pre, post, (id, b, a) => {
    if (!ok.has(id)) out.push(finding(rule, `${name}[${id}]`, `${name}[${id}] changed although the call does not touch it`, b, a))
  })
  return out
}

/** Cells with the list links cleared (what stays when only a neighbour's link is rewritten). */
function unlinked(cells: MetaSlotCells): unknown {
  const st = cells.storage
  return st?.kind === 'FrameLink' ? { ...cells, storage: { ...st, nextPaddr: null, prevPaddr: null } } : cells
}

/**
 * The frame rule of an insert or take: slots other than the frame and its two neighbours are
 * unchanged; the neighbours change only in their links; parking, obligations and other lists
 * are unchanged; unique owners change only at those slots.
 */
function onlyLinksAround(ctx: EnsContext, rule: string, id: number, frameIdx: number, neighbours: ReadonlyArray<number | null>): Finding[] {
  const near = neighbours.filter((p): p is number => p !== null).map(frameToIndex)
  const allowed = new Set([frameIdx, ...near])
  const out: Finding[] = []
  for (const i of ctx.changes.slotCells) {
    if (!allowed.has(i)) out.push(finding(rule, `regions.slotOwners[${i}]`, `slot ${i} changed although it is neither the frame nor a neighbour`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
  }
  for (const i of ctx.changes.uniqueOwners) {
    if (!allowed.has(i)) out.push(finding(rule, `uniqueOwners[${i}]`, `the UniqueFrameOwner of slot ${i} changed`, uniqueOwnerOf(ctx.pre, i), uniqueOwnerOf(ctx.post, i)))
  }
  for (const i of near) {
    if (i === frameIdx) continue
    if (!equal(unlinked(slotOf(ctx.pre, i)), unlinked(slotOf(ctx.post, i)))) out.push(finding(rule, `metaSlots[${i}]`, `neighbour slot ${i} changed beyond its links`, slotOf(ctx.pre, i), slotOf(ctx.post, i)))
    if (!equal(ownerOf(ctx.pre, i).rawCount, ownerOf(ctx.post, i).rawCount) || ownerOf(ctx.pre, i).usage !== ownerOf(ctx.post, i).usage) out.push(finding(rule, `regions.slotOwners[${i}]`, `neighbour slot ${i}'s owner changed beyond its links`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
  }
  out.push(...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map()))
  out.push(...registryChanged(rule, 'lists', ctx.pre.lists, ctx.post.lists, [id]))
  out.push(...registryChanged(rule, 'frames', ctx.pre.frames, ctx.post.frames, []))
  out.push(...registryChanged(rule, 'segments', ctx.pre.segments, ctx.post.segments, []))
  return out
}

/** Checks the post-state links around a position: `prev -> pa -> next` (null = an end of the list). */
function linkedBetween(ctx: EnsContext, rule: string, id: number, prev: number | null, pa: number | null, next: number | null, pre: LinkedListState): Finding[] {
  const post = tableGet(ctx.post.lists, id)
  const out: Finding[] = []
  if (post === null) return [finding(rule, listPath(id), `list ${id} is gone`, 'live', null)]
  // `pa === null`: the frame was taken out, prev and next are now adjacent.
  const after = pa ?? next
  const before = pa ?? prev
  if (prev === null) {
    if (post.frontPaddr !== after) out.push(finding(rule, `${listPath(id)}.frontPaddr`, `the front of list ${id} is ${post.frontPaddr}, expected ${after}`, after, post.frontPaddr))
  } else {
    const l = linkAt(ctx.post, prev)
    if (l?.nextPaddr !== after) out.push(finding(rule, `${linkPath(frameToIndex(prev))}.nextPaddr`, `${prev} links to ${l?.nextPaddr}, expected ${after}`, after, l?.nextPaddr ?? null))
    if (post.frontPaddr !== pre.frontPaddr) out.push(finding(rule, `${listPath(id)}.frontPaddr`, `the front of list ${id} moved`, pre.frontPaddr, post.frontPaddr))
  }
  if (next === null) {
    if (post.backPaddr !== before) out.push(finding(rule, `${listPath(id)}.backPaddr`, `the back of list ${id} is ${post.backPaddr}, expected ${before}`, before, post.backPaddr))
  } else {
    const l = linkAt(ctx.post, next)
    if (l?.prevPaddr !== before) out.push(finding(rule, `${linkPath(frameToIndex(next))}.prevPaddr`, `${next} links back to ${l?.prevPaddr}, expected ${before}`, before, l?.prevPaddr ?? null))
    if (post.backPaddr !== pre.backPaddr) out.push(finding(rule, `${listPath(id)}.backPaddr`, `the back of list ${id} moved`, pre.backPaddr, post.backPaddr))
  }
  return out
}

function sizeIs(ctx: EnsContext, rule: string, id: number, want: number): Finding[] {
  const got = tableGet(ctx.post.lists, id)?.size
  return got === want ? [] : [finding(rule, `${listPath(id)}.size`, `list ${id} has size ${got}, expected ${want}`, want, got)]
}

/** Where an insert puts the frame: before this element (null: at the back). */
function insertPosition(ctx: EnsContext, list: LinkedListState): number | null {
  switch (ctx.event.type) {
    case 'linked_list.push_front':
      return list.frontPaddr
    case 'linked_list.push_back':
      return null
    default:
      return (ctx.event as unknown as { currentPaddr: number | null }).currentPaddr
  }
}

/** Which element a take removes (null: none — the ghost position or an empty list). */
function takePosition(ctx: EnsContext, list: LinkedListState): number | null {
  switch (ctx.event.type) {
    case 'linked_list.pop_front':
      return list.frontPaddr
    case 'linked_list.pop_back':
      return list.backPaddr
    default:
      return (ctx.event as unknown as { currentPaddr: number | null }).currentPaddr
  }
}

/** The metadata a slot holds (exec). */
function metaAt(s: Snapshot, idx: number): FrameMeta | null {
  const st = slotOf(s, idx).storage
  return st !== null && st.kind !== 'PTNode' ? st.meta : null
}

/** The unique frame's ownership state: rc UNIQUE, un-parked, owned, `raw_count` as given. */
function heldUnique(ctx: EnsContext, rule: string, idx: number, rawCount: number): Finding[] {
  const out = rcIs(ctx, rule, idx, REF_COUNT_UNIQUE, 'the frame stays unique')
  if (isParked(ctx.post, idx)) out.push(finding(rule, `regions.slots[${idx}]`, `slot ${idx} is parked afterwards`, false, true))
  if (uniqueOwnerOf(ctx.post, idx) === null) out.push(finding(rule, `uniqueOwners[${idx}]`, `slot ${idx} lost its UniqueFrameOwner`, 'owner', null))
  const raw = ownerOf(ctx.post, idx).rawCount
  if (raw !== rawCount) out.push(finding(rule, `regions.slotOwners[${idx}].rawCount`, `raw_count of slot ${idx} is ${raw}, expected ${rawCount}`, rawCount, raw))
  out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']))
  const a = slotOf(ctx.pre, idx).vtablePtr
  const b = slotOf(ctx.post, idx).vtablePtr
  if (a !== b) out.push(finding(rule, `metaSlots[${idx}].vtablePtr`, 'the vtable cell changed', a, b))
  return out
}

const INSERTS = ['linked_list.cursor_mut.insert_before', 'linked_list.push_front', 'linked_list.push_back']
const TAKES = ['linked_list.cursor_mut.take_current', 'linked_list.pop_front', 'linked_list.pop_back']

// ---- ENS -----------------------------------------------------------------------------------

export const linkedListEnsRules: EnsRule[] = [
  ens(
    'ENS-LIST-NEW-1',
    ['linked_list.new'],
    (ctx) => {
      const rule = 'ENS-LIST-NEW-1'
      const id = (ctx.result as { list?: unknown } | null)?.list
      if (typeof id !== 'number') return [finding(rule, 'result', 'new returned no list id', '{ list }', ctx.result)]
      const out: Finding[] = []
      const want: LinkedListState = { frontPaddr: null, backPaddr: null, size: 0, listId: id + 1 }
      if (tableGet(ctx.pre.lists, id) !== null || !equal(tableGet(ctx.post.lists, id), want)) out.push(finding(rule, listPath(id), `list ${id} is not a fresh empty list`, want, tableGet(ctx.post.lists, id)))
      const c = ctx.changes
      if (c.slotCells.size + c.parking.size + c.obligations.size + c.uniqueOwners.size + c.frames.size + c.segments.size + c.uniqueFrames.size > 0) out.push(finding(rule, 'snapshot', 'LinkedList::new changed frames or handles'))
      out.push(...registryChanged(rule, 'lists', ctx.pre.lists, ctx.post.lists, [id]))
      return out
    },
    '[model] `LinkedList::new()` registers a fresh empty list (`front`, `back` null, size 0, `listId = id + 1`); nothing else changes.',
  ),
  ens(
    'ENS-LIST-INSERT-1',
    INSERTS,
    (ctx) => {
      const rule = 'ENS-LIST-INSERT-1'
      const { id, list } = preList(ctx)
      const pa = tableGet(ctx.pre.uniqueFrames, num(ctx.event, 'unique'))!.paddr
      const next = insertPosition(ctx, list)
      const prev = next === null ? list.backPaddr : (linkAt(ctx.pre, next)?.prevPaddr ?? null)
      const out = sizeIs(ctx, rule, id, list.size + 1)
      const link = linkAt(ctx.post, pa)
      const want = { meta: metaAt(ctx.pre, frameToIndex(pa)), nextPaddr: next, prevPaddr: prev, inList: list.listId }
      if (!equal(link, want)) out.push(finding(rule, linkPath(frameToIndex(pa)), `the frame ${pa} is not linked between ${prev} and ${next} of list ${id}`, want, link))
      out.push(...linkedBetween(ctx, rule, id, prev, pa, next, list))
      return out
    },
    '[model] `insert_before` (and `push_front` / `push_back`, which insert before the front / the ghost position): the list grows by one and the frame, with its metadata, is linked between the element before the cursor (the back at the ghost position) and the cursor, with `in_list` = the list id; the ends move only where the frame becomes one.',
  ),
  ens(
    'ENS-LIST-INSERT-2',
    INSERTS,
    (ctx) => {
      const rule = 'ENS-LIST-INSERT-2'
      const { id, list } = preList(ctx)
      const uid = num(ctx.event, 'unique')
      const pa = tableGet(ctx.pre.uniqueFrames, uid)!.paddr
      const idx = frameToIndex(pa)
      const next = insertPosition(ctx, list)
      const prev = next === null ? list.backPaddr : (linkAt(ctx.pre, next)?.prevPaddr ?? null)
      const out: Finding[] = []
      if (tableGet(ctx.post.uniqueFrames, uid) !== null) out.push(finding(rule, `uniqueFrames[${uid}]`, `UniqueFrame ${uid} is still live after the list took it`, null, tableGet(ctx.post.uniqueFrames, uid)))
      out.push(...registryChanged(rule, 'uniqueFrames', ctx.pre.uniqueFrames, ctx.post.uniqueFrames, [uid]))
      out.push(...heldUnique(ctx, rule, idx, 1))
      out.push(...onlyLinksAround(ctx, rule, id, idx, [prev, next]))
      return out
    },
    '[model] Inserting forgets the `UniqueFrame` into the list (`into_raw`): its handle is gone, the frame stays UNIQUE, un-parked and owned with `raw_count == 1`; only the frame and the links of its two neighbours change (no other slot, list, handle, parking or obligation).',
  ),
  ens(
    'ENS-LIST-TAKE-1',
    TAKES,
    (ctx) => {
      const rule = 'ENS-LIST-TAKE-1'
      const { id, list } = preList(ctx)
      const pa = takePosition(ctx, list)
      if (pa === null) return ctx.result === null ? [] : [finding(rule, 'result', 'a take at the ghost position (or from an empty list) returned a frame', null, ctx.result)]
      if (ctx.result === null) return [finding(rule, 'result', `taking ${pa} from list ${id} returned None`, 'Some', null)]
      const link = linkAt(ctx.pre, pa)!
      const out = sizeIs(ctx, rule, id, list.size - 1)
      if (ctx.event.type === 'linked_list.cursor_mut.take_current') {
        const got = (ctx.result as { nextPaddr?: unknown }).nextPaddr
        if (got !== link.nextPaddr) out.push(finding(rule, 'result.nextPaddr', 'the cursor does not move to the next element', link.nextPaddr, got))
      }
      out.push(...linkedBetween(ctx, rule, id, link.prevPaddr, null, link.nextPaddr, list))
      return out
    },
    '[model] `take_current` (and `pop_front` / `pop_back`, which take the front / the back): at an element the list shrinks by one, its neighbours are linked to each other (or become the ends) and the cursor moves to the next element; at the ghost position (an empty list) the result is None.',
  ),
  ens(
    'ENS-LIST-TAKE-2',
    TAKES,
    (ctx) => {
      const rule = 'ENS-LIST-TAKE-2'
      const { id, list } = preList(ctx)
      const pa = takePosition(ctx, list)
      if (pa === null) return storeUnchanged(ctx, rule)
      const idx = frameToIndex(pa)
      const link = linkAt(ctx.pre, pa)!
      const out: Finding[] = []
      const uid = (ctx.result as { unique?: unknown } | null)?.unique
      const entry = typeof uid === 'number' ? tableGet(ctx.post.uniqueFrames, uid) : null
      if (typeof uid !== 'number' || tableGet(ctx.pre.uniqueFrames, uid) !== null || entry?.paddr !== pa) out.push(finding(rule, `uniqueFrames[${String(uid)}]`, `no fresh UniqueFrame handle to ${pa} was returned`, { paddr: pa }, entry))
      out.push(...registryChanged(rule, 'uniqueFrames', ctx.pre.uniqueFrames, ctx.post.uniqueFrames, typeof uid === 'number' ? [uid] : []))
      const cells = slotOf(ctx.post, idx)
      const want = { kind: 'Frame', meta: link.meta }
      if (!equal(cells.storage, want)) out.push(finding(rule, `metaSlots[${idx}].storage`, 'the taken frame does not hold its plain metadata again', want, cells.storage))
      if (cells.inList !== 0) out.push(finding(rule, `metaSlots[${idx}].inList`, 'the taken frame is still marked as in a list', 0, cells.inList))
      out.push(...heldUnique(ctx, rule, idx, 0))
      out.push(...onlyLinksAround(ctx, rule, id, idx, [link.prevPaddr, link.nextPaddr]))
      return out
    },
    '[model] Taking revives the element as a `UniqueFrame` (`from_raw`): a fresh handle to it is returned, its storage is its plain metadata again with `in_list == 0`, it stays UNIQUE, un-parked and owned with `raw_count == 0`; only it and its neighbours\' links change. At the ghost position nothing changes.',
  ),
  ens(
    'ENS-LIST-DROP-1',
    ['linked_list.drop'],
    (ctx) => {
      const rule = 'ENS-LIST-DROP-1'
      const { id, list } = preList(ctx)
      const out: Finding[] = []
      if (tableGet(ctx.post.lists, id) !== null) out.push(finding(rule, listPath(id), `list ${id} survives its drop`, null, tableGet(ctx.post.lists, id)))
      out.push(...registryChanged(rule, 'lists', ctx.pre.lists, ctx.post.lists, [id]))
      const dropped = members(ctx.pre, list).map(frameToIndex)
      for (const idx of dropped) {
        const o = ownerOf(ctx.post, idx)
        const p = o.innerPerms
        if (p.refCount !== REF_COUNT_UNUSED || p.storage !== null || p.vtablePtr !== null) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms`, `element ${idx} was not freed`, { refCount: 'UNUSED', storage: null, vtablePtr: null }, p))
        if (p.inList !== 0) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.inList`, `freed element ${idx} is still marked as in a list`, 0, p.inList))
        if (!isParked(ctx.post, idx)) out.push(finding(rule, `regions.slots[${idx}]`, `freed element ${idx} is not parked`, true, false))
        if (uniqueOwnerOf(ctx.post, idx) !== null) out.push(finding(rule, `uniqueOwners[${idx}]`, `freed element ${idx} still has a UniqueFrameOwner`, null, uniqueOwnerOf(ctx.post, idx)))
        if (o.rawCount !== 0) out.push(finding(rule, `regions.slotOwners[${idx}].rawCount`, `freed element ${idx} has raw_count ${o.rawCount}`, 0, o.rawCount))
        if (o.usage !== PageUsage.Frame) out.push(finding(rule, `regions.slotOwners[${idx}].usage`, `freed element ${idx} has usage ${o.usage} (UniqueFrame::drop keeps Frame)`, 'Frame', o.usage))
      }
      const members_ = new Set(dropped)
      for (const i of ctx.changes.slotCells) if (!members_.has(i)) out.push(finding(rule, `regions.slotOwners[${i}]`, `slot ${i} changed although it is not an element of list ${id}`, ownerOf(ctx.pre, i), ownerOf(ctx.post, i)))
      out.push(...parkingChanged(ctx, rule, dropped), ...obligationsChanged(ctx, rule, new Map()))
      for (const name of ['frames', 'segments', 'uniqueFrames'] as const) out.push(...registryChanged(rule, name, ctx.pre[name] as Table<unknown>, ctx.post[name] as Table<unknown>, []))
      return out
    },
    '[model] Dropping a list frees every element as `UniqueFrame::drop` does (rc UNUSED, storage and vtable uninit, `in_list` 0, re-parked, owner gone, `raw_count` 0, usage stays Frame) and removes the list; no other slot, list or handle changes.',
  ),
]

export const linkedListRules = [...linkedListEnsRules, ...linkedListInvariants]
