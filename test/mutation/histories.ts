/**
 * The fixed set of valid histories the mutation test replays (test/mutation/checker_only.test.ts).
 *
 * They are generated ONCE with the unmutated reducers (`npm run mutation:fixtures` →
 * test/mutation/fixtures.json) and read back as plain events: under Stryker the reducers are
 * mutated, and a generator that runs them would adapt its history to the mutant instead of
 * exposing it.
 *
 * Mix: `ALL_OPS` (every layer: meta slots, frames, segments, unique frames, lists, I/O, page-table
 * nodes / entries / children, page tables, cursors, VmSpace) plus `HUGE_OPS` below. The generator's
 * cursor operations map 4 KiB (tracked and untracked) and 2 MiB (untracked) pages, but never a
 * 1 GiB page: its cursor ranges stay in the first 8 MiB, and a 1 GiB item needs a cursor whose guard
 * is a root node (a range over two top-level entries). `HUGE_OPS` opens such cursors on untracked
 * page tables, jumps them to 1 GiB / 2 MiB boundaries and maps pages of the largest level the
 * position allows; the generator's own take_next / protect_next / unmap windows then split them.
 * `coverage()` counts the mapped page sizes; `make_fixtures.ts` refuses a set that lacks one.
 */
import { frameToIndex, MAX_PADDR, MAX_USERSPACE_VADDR, NR_ENTRIES, NR_LEVELS, pageSize, PageUsage, REF_COUNT_UNIQUE, REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { isOstdPanic } from '../../src/arch/errors.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { applyCall, eventSpec, type ModelEvent } from '../../reducers/index.js'
import { ALL_OPS, prefixed, Rng, type Op } from '../../src/log/gen.js'
import { VM_TLB_OPS } from '../../src/log/gen_vm_tlb.js'
import { op } from '../../src/log/gen_checked.js'
import { UNIT_META, type Snapshot } from '../../src/model/snapshot.js'
import { MAX_SEGMENT_FRAMES_EXCLUSIVE } from '../../reducers/frame/segment.js'
import { tableForEach, tableGet, tableKeys } from '../../src/model/table.js'
import { isMmioPaddr, ownerOf, slotOf, uniqueOwnerOf } from '../../src/model/slots.js'
import { History, internalSteps } from '../../src/log/history.js'
import { focus } from '../property/run.js'
import { alignDown, cursorOwningGuard, cursorRootSlot, descentOf, fullVa, guardNodeSpan, idxRange, managedViewRange, nodeSpan } from '../../src/model/pt_cursor.js'
import { vmSpaceOwningTable } from '../../src/model/vm_space.js'
import { ptConfig, type PtConfigName } from '../../src/arch/pt_config.js'
import { firstMappingFrom, mappingAt } from '../../src/model/pt_view.js'
import { childOwnerView, nodeOwnerAt, pathLength } from '../../src/model/spec/page_table.js'
import { handleOfRoot } from '../../src/model/pt_tables.js'
import { entryContext } from '../../reducers/page_table/entry.js'
import { borrowFailure } from '../../reducers/io/vm_io.js'
import { pickFrame } from '../../reducers/frame/allocator.js'
import { newAbsentPte, newPage, pteProp, pteToHex } from '../../src/arch/pte.js'
import { blockingLock, strayLockTarget } from '../../reducers/page_table/cursor.js'

/** 4 MiB of physical memory (1,024 frames), as the property tests: allocation reuses pages. */
export const PHYSICAL_MEMORY = 1 << 22

const GiB = 2 ** 30

function untrackedCursor(s: Snapshot, rng: Rng): number | undefined {
  return rng.pick(tableKeys(s.pt.cursors).filter((id) => {
    const c = tableGet(s.pt.cursors, id)!
    return c.kind === 'CursorMut' && c.config === 'untracked'
  }))
}

/** Operations that bring 1 GiB (and more 2 MiB) pages into the histories. */
export const HUGE_OPS: Record<string, Op> = {
  /** A CursorMut over two top-level entries of an untracked page table (guard = the root). */
  cursor: op(2, (s, rng) => {
    if (s.pt.cursors.count >= 3) return null
    const pageTable = rng.pick(tableKeys(s.pt.tables).filter((id) => tableGet(s.pt.tables, id)!.config === 'untracked'))
    if (pageTable === undefined) return null
    const vaStart = GiB * rng.int(4)
    return { type: 'page_table.cursor_mut', pageTable, vaStart, vaEnd: vaStart + 2 * GiB }
  }),
  /** Jump to a 1 GiB or 2 MiB boundary of the cursor's range. */
  jump: op(2, (s, rng) => {
    const cursor = untrackedCursor(s, rng)
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    const step = rng.chance(0.5) ? GiB : pageSize(2)
    const n = Math.floor((c.barrierVa.end - c.barrierVa.start) / step)
    return n < 1 ? null : { type: 'cursor.jump', cursor, va: c.barrierVa.start + step * rng.int(n) }
  }),
  /** Map a page of the largest level the cursor's address is aligned to. */
  map: op(4, (s, rng) => {
    const cursor = untrackedCursor(s, rng)
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    const level = c.va % GiB === 0 ? 3 : c.va % pageSize(2) === 0 ? 2 : 1
    const size = pageSize(level)
    const pa = size * rng.int(Math.max(1, Math.floor(PHYSICAL_MEMORY / size)))
    return { type: 'cursor_mut.map', cursor, item: { pa, level, prop: newUser(rng.chance(0.5) ? PageFlags.RW : PageFlags.R) } }
  }),
  /** protect_next / take_next over a few pages or one 2 MiB page from the cursor: inside a huge leaf, a split. */
  window: op(3, (s, rng) => {
    const cursor = untrackedCursor(s, rng)
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    const len = Math.min(rng.chance(0.5) ? pageSize(2) : pageSize(1) * (1 + rng.int(16)), c.barrierVa.end - c.va)
    if (len <= 0) return null
    return rng.chance(0.5)
      ? { type: 'cursor_mut.protect_next', cursor, len, mask: { clear: PageFlags.W, set: 0 } }
      : { type: 'cursor.find_next', cursor, len }
  }),
  take: op(2, (s, rng) => {
    const cursor = untrackedCursor(s, rng)
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    const len = Math.min(rng.chance(0.5) ? pageSize(2) : pageSize(1) * (1 + rng.int(16)), c.barrierVa.end - c.va)
    return len <= 0 ? null : { type: 'cursor_mut.take_next', cursor, len }
  }),
}

/** Page tables and cursors weigh 3× their `ALL_OPS` weight (they are a small part of that mix). */
export const MUTATION_OPS: Record<string, Op> = focus(
  {
    ...ALL_OPS,
    ...Object.fromEntries(Object.entries(HUGE_OPS).map(([k, v]) => [`huge.${k}`, v])),
  },
  ['pagetable', 'cursor', 'huge'],
  3,
)

/**
 * Calls the random mix almost never makes: `Frame::from_in_use` on a page-table node's frame
 * (`Err(InUse)`: ENS-EMB-FRAMEFROMINUSE-3), inside it unaligned (`Err(NotAligned)`) and on a freed
 * node's slot (`Err(Unused)`) — the generator's `from_in_use` targets frames and free pages only.
 */
export const EDGE_OPS: Record<string, Op> = {
  ...MUTATION_OPS,
  'edge.fromInUseNode': op(8, (s, rng) => {
    const roll = rng.int(3)
    if (roll === 2) {
      // a freed node's slot: usage stays PageTable, rc is UNUSED → Err(Unused), not InUse
      const freed = Array.from({ length: s.nrFrames }, (_, i) => i).filter((i) => ownerOf(s, i).usage === PageUsage.PageTable && ownerOf(s, i).innerPerms.refCount === REF_COUNT_UNUSED)
      const idx = rng.pick(freed)
      return idx === undefined ? null : { type: 'frame.from_in_use', paddr: idx * pageSize(1) }
    }
    const node = rng.pick(tableKeys(s.pt.nodes))
    // a live node: Err(InUse); inside its page, unaligned: Err(NotAligned)
    return node === undefined ? null : { type: 'frame.from_in_use', paddr: tableGet(s.pt.nodes, node)!.paddr + (roll === 1 ? 8 : 0) }
  }),
}

/**
 * Wide windows: `unmap` / `take_next` over the rest of a CursorMut's range (the generator keeps
 * unmap to 16 pages, for its full-mode oracle): whole sub-trees go stray, nested ones too. (No
 * seed of 1..150 makes `unmap` drop a tracked frame's handle itself: a gap, QUALITY.md.)
 */
export const WIDE_OPS: Record<string, Op> = {
  ...MUTATION_OPS,
  'edge.unmapRest': op(4, (s, rng) => {
    const cursor = rng.pick(tableKeys(s.pt.cursors).filter((id) => tableGet(s.pt.cursors, id)!.kind === 'CursorMut'))
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    const len = c.barrierVa.end - c.va
    return len <= 0 ? null : { type: rng.chance(0.7) ? 'cursor_mut.unmap' : 'cursor_mut.take_next', cursor, len }
  }),
}

/** A live CursorMut back to the start of its range (what it mapped is ahead of it again). */
const rewind: Op = op(3, (s, rng) => {
  const cursor = rng.pick(tableKeys(s.pt.cursors).filter((id) => tableGet(s.pt.cursors, id)!.kind === 'CursorMut'))
  if (cursor === undefined) return null
  const c = tableGet(s.pt.cursors, cursor)!
  return { type: 'cursor.jump', cursor, va: fullVa(c.config, c.barrierVa.start) } as ModelEvent
})

/** Slot indices of `Frame` pages mapped in some page table (their `paths_in_pt` is not empty). */
function mappedFrames(s: Snapshot): number[] {
  return Array.from({ length: s.nrFrames }, (_, i) => i).filter((i) => ownerOf(s, i).usage === PageUsage.Frame && ownerOf(s, i).pathsInPt.length > 0)
}

/**
 * One frame mapped at two VAs, and `unmap` over tracked frames: the generator maps each `Frame`
 * handle once (the map consumes it) and its unmap windows rarely reach back to what a cursor
 * mapped, so `unmap` never dropped a tracked frame's handle itself and no frame had two paths.
 * Here a mapped frame gets a second handle (`from_in_use`), a tracked cursor maps that handle,
 * and cursors jump back to the start of their range before the wide unmaps.
 */
export const ALIAS_OPS: Record<string, Op> = focus({
  // frames to map, page tables and their cursors only: in the whole mix, tracked maps are rare
  ...Object.fromEntries(Object.entries(WIDE_OPS).filter(([k]) => /^(frame|pagetable|cursor|edge)\./.test(k))),
  'edge.userTable': op(2, (s) => (tableKeys(s.pt.tables).filter((id) => tableGet(s.pt.tables, id)!.config === 'user').length >= 2 ? null : { type: 'page_table.new', config: 'user' })),
  'edge.rewind': rewind,
  'edge.handleOfMapped': op(4, (s, rng) => {
    const idx = rng.pick(mappedFrames(s))
    return idx === undefined ? null : { type: 'frame.from_in_use', paddr: idx * pageSize(1) }
  }),
  'edge.mapAgain': op(6, (s, rng) => {
    const cursor = rng.pick(tableKeys(s.pt.cursors).filter((id) => {
      const c = tableGet(s.pt.cursors, id)!
      return c.kind === 'CursorMut' && c.config !== 'untracked'
    }))
    const mapped = new Set(mappedFrames(s))
    const frame = rng.pick(tableKeys(s.frames).filter((id) => mapped.has(tableGet(s.frames, id)!.paddr / pageSize(1))))
    return cursor === undefined || frame === undefined ? null : { type: 'cursor_mut.map', cursor, item: { frame, prop: newUser(PageFlags.RW) } }
  }),
}, ['edge'], 4)

/**
 * A kernel page table (`page_table.new_kernel`, which the generator leaves out: ~3,100 internal
 * steps) with CursorMuts over a few pages of its half (full addresses as hex strings): a kernel
 * cursor clears AVAIL1 in the items it takes, and may not unmap a top-level entry. No second
 * handle of a frame is made (`frame.clone`, `frame.from_in_use` left out): a kernel page table's
 * mappings must stay PA-disjoint (INV-VIEW-2, MD-8), which mapping one frame twice would break.
 */
export const KERNEL_OPS: Record<string, Op> = focus({
  ...Object.fromEntries(Object.entries(WIDE_OPS).filter(([k]) => /^(frame|pagetable|cursor|edge)\./.test(k) && k !== 'frame.clone' && k !== 'frame.fromInUse')),
  'edge.rewind': rewind,
  'edge.kernelNew': op(2, (s) => (tableKeys(s.pt.tables).some((id) => tableGet(s.pt.tables, id)!.config === 'kernel') ? null : { type: 'page_table.new_kernel' })),
  'edge.kernelCursor': op(2, (s, rng) => {
    if (s.pt.cursors.count >= 3) return null
    const pageTable = rng.pick(tableKeys(s.pt.tables).filter((id) => tableGet(s.pt.tables, id)!.config === 'kernel'))
    if (pageTable === undefined) return null
    // a 2 MiB-aligned start in the first top-level entries of the kernel half, up to 2 MiB long
    const vaStart = managedViewRange('kernel').start + pageSize(2) * rng.int(4)
    const lenBytes = rng.chance(0.3) ? pageSize(2) : pageSize(1) * (1 + rng.int(16))
    return { type: 'page_table.cursor_mut', pageTable, vaStart: fullVa('kernel', vaStart), vaEnd: fullVa('kernel', vaStart + lenBytes) } as ModelEvent
  }),
}, ['edge'], 4)

/**
 * `map` of a page larger than the cursor's level: the cursor went down (a query at a 2 MiB boundary
 * over a level-1 node) and `map` pops back up before it replaces the entry — the mix's cursors map
 * at the level they are at.
 */
export const POPUP_OPS: Record<string, Op> = focus({
  ...Object.fromEntries(Object.entries(MUTATION_OPS).filter(([k]) => /^(frame|pagetable|cursor|huge)\./.test(k))),
  'edge.query': op(4, (s, rng) => {
    const cursor = untrackedCursor(s, rng)
    return cursor === undefined ? null : { type: 'cursor.query', cursor }
  }),
  'edge.mapAbove': op(6, (s, rng) => {
    const cursor = rng.pick(tableKeys(s.pt.cursors).filter((id) => {
      const c = tableGet(s.pt.cursors, id)!
      return c.kind === 'CursorMut' && c.config === 'untracked' && c.level === 1 && c.va % pageSize(2) === 0 && c.va + pageSize(2) <= c.barrierVa.end
    }))
    if (cursor === undefined) return null
    return { type: 'cursor_mut.map', cursor, item: { pa: pageSize(2) * rng.int(Math.max(1, Math.floor(PHYSICAL_MEMORY / pageSize(2)))), level: 2, prop: newUser(PageFlags.RW) } }
  }),
}, ['edge', 'huge'], 3)

/**
 * A frame mapped again at the very VA where it is mapped (OSTD's map replaces the old leaf, the
 * same frame): a CursorMut of a tracked configuration jumps to the first mapping in its range,
 * and a second handle of that frame (`from_in_use`) is mapped there. A table of its own: adding
 * operations to another table would change its seeds' histories.
 */
export const SELF_OPS: Record<string, Op> = {
  ...ALIAS_OPS,
  'edge.jumpToMapped': op(8, (s, rng) => {
    const cursor = rng.pick(tableKeys(s.pt.cursors).filter((id) => {
      const c = tableGet(s.pt.cursors, id)!
      return c.kind === 'CursorMut' && c.config !== 'untracked'
    }))
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    const root = cursorRootSlot(s, c)
    const m = root === null ? null : firstMappingFrom(s, root, c.barrierVa.start, c.barrierVa.end, { source: 'ghost', config: c.config })
    return m === null ? null : ({ type: 'cursor.jump', cursor, va: fullVa(c.config, m.vaRange.start) } as ModelEvent)
  }),
  // a frame mapped again at the very VA where it is mapped (the cursor at it, a second handle of it)
  'edge.mapSelf': op(12, (s, rng) => {
    const pairs: Array<{ cursor: number; frame: number }> = []
    for (const id of tableKeys(s.pt.cursors)) {
      const c = tableGet(s.pt.cursors, id)!
      const root = c.kind === 'CursorMut' && c.config !== 'untracked' ? cursorRootSlot(s, c) : null
      const m = root === null ? null : mappingAt(s, root, c.va, { source: 'ghost', config: c.config })
      if (m === null || m.pageSize !== pageSize(1)) continue
      for (const f of tableKeys(s.frames)) if (tableGet(s.frames, f)!.paddr === m.paRange.start) pairs.push({ cursor: id, frame: f })
    }
    const pick = rng.pick(pairs)
    return pick === undefined ? null : { type: 'cursor_mut.map', cursor: pick.cursor, item: { frame: pick.frame, prop: newUser(PageFlags.R) } }
  }),
}

/** `POPUP_OPS` and untracked items whose property carries AVAIL1 (meaningless outside the kernel configuration: it must come back as it went in). */
export const AVAIL1_OPS: Record<string, Op> = {
  ...POPUP_OPS,
  // an untracked item whose property carries AVAIL1 (meaningless there: it must come back as it went in)
  'edge.mapAvail1': op(3, (s, rng) => {
    const cursor = untrackedCursor(s, rng)
    if (cursor === undefined) return null
    return { type: 'cursor_mut.map', cursor, item: { pa: pageSize(1) * rng.int(PHYSICAL_MEMORY / pageSize(1)), level: 1, prop: newUser(PageFlags.RW | PageFlags.AVAIL1) } }
  }),
}

/**
 * `AVAIL1_OPS`, and the untracked cursors go back over what they mapped and take it: an item that
 * went in with AVAIL1 must come back with it (only a kernel cursor clears AVAIL1).
 */
export const AVAIL1_TAKE_OPS: Record<string, Op> = {
  ...AVAIL1_OPS,
  // an untracked CursorMut jumps to the first AVAIL1 item in its range …
  'edge.jumpToAvail1': op(8, (s, rng) => {
    const cursor = untrackedCursor(s, rng)
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    const root = cursorRootSlot(s, c)
    for (let from = c.barrierVa.start; root !== null && from < c.barrierVa.end; ) {
      const m = firstMappingFrom(s, root, from, c.barrierVa.end, { source: 'ghost', config: c.config })
      if (m === null) break
      if ((m.property.flags & PageFlags.AVAIL1) !== 0) return m.vaRange.start === c.va ? null : ({ type: 'cursor.jump', cursor, va: fullVa(c.config, m.vaRange.start) } as ModelEvent)
      from = m.vaRange.end
    }
    return null
  }),
  // … and takes it back
  'edge.takeAvail1': op(12, (s, rng) => {
    const cursor = untrackedCursor(s, rng)
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    const root = cursorRootSlot(s, c)
    const m = root === null ? null : mappingAt(s, root, c.va, { source: 'ghost', config: c.config })
    if (m === null || (m.property.flags & PageFlags.AVAIL1) === 0 || m.vaRange.start !== c.va) return null
    return { type: 'cursor_mut.take_next', cursor, len: Math.min(m.pageSize, c.barrierVa.end - c.va) }
  }),
}

/**
 * Frames, unique frames and linked lists only, the lists' operations 4× as likely: in the whole mix
 * every `linked_list.drop` met an empty list, so the drop's walk (take each frame, drop it) never ran.
 */
export const LIST_FOCUS_OPS: Record<string, Op> = focus(
  Object.fromEntries(Object.entries(ALL_OPS).filter(([k]) => /^(frame|unique|list)\./.test(k))),
  ['list'],
  4,
)

/**
 * Frames and VmSpaces only, VmSpace map / unmap / activate / flush 3× as likely: in the whole mix
 * one VmSpace `unmap` in all the fixtures removed a page (the first vm_space run, QUALITY.md).
 */
export const VM_FOCUS_OPS: Record<string, Op> = Object.fromEntries(
  Object.entries(ALL_OPS)
    .filter(([k]) => /^(frame|vm)\./.test(k))
    .map(([k, o]) => [k, ['vm.vmMap', 'vm.vmUnmap', 'vm.vmActivate', 'vm.vmFlush'].includes(k) ? { ...o, weight: o.weight * 3 } : o]),
)

/**
 * `VM_FOCUS_OPS` and the TLB operations (src/log/gen_vm_tlb.ts): in every fixture before these the
 * TLB never cached a translation, so no flush ever removed one.
 */
export const TLB_OPS: Record<string, Op> = {
  ...VM_FOCUS_OPS,
  // an activation flushes the whole TLB: rarer here, so cached translations live long enough to meet a flush
  'vm.vmActivate': { ...VM_FOCUS_OPS['vm.vmActivate']!, weight: 1 },
  ...prefixed('edge', VM_TLB_OPS),
}

/**
 * Frames and page-table nodes only, `Child` handles made and dropped 4× as likely: in the whole mix
 * no tracked `Child::Frame` is ever dropped (`Entry::replace` or a cursor takes each one back as a
 * `Frame` handle), so child.drop's frame branch never ran (the first child.ts run, QUALITY.md).
 */
export const CHILD_FOCUS_OPS: Record<string, Op> = Object.fromEntries(
  Object.entries(ALL_OPS)
    .filter(([k]) => /^(frame|pt)\./.test(k))
    .map(([k, o]) => [k, k === 'pt.child' || k === 'pt.childDrop' ? { ...o, weight: o.weight * 4 } : o]),
)

/**
 * `CHILD_FOCUS_OPS` and children that outlive their tree, or share their frame: Child values made
 * at a detached root's entries and that root dropped while they live (on_drop removes its record:
 * the child's tree is gone), and a second `Child::Frame` of a frame another child or a mapping
 * already holds (its slot records two paths; dropping one child must leave the other). The first
 * child.ts run found neither in any fixture (QUALITY.md, G1 and G3).
 */
export const CHILD_EDGE_OPS: Record<string, Op> = {
  ...CHILD_FOCUS_OPS,
  // a Child at entry `k` of a detached root record (no PageTable owns it)
  'edge.rootChild': op(4, (s, rng, g) => {
    const root = rng.pick(detachedRoots(s))
    if (root === undefined) return null
    const r = nodeOwnerAt(s, root)!
    const pos = { tree: root, path: String(rng.int(4)), parentLevel: r.level }
    if (r.config === 'untracked' && rng.chance(0.6)) return { type: 'child.untracked', paddr: pageSize(1) * rng.int(PHYSICAL_MEMORY / pageSize(1)), level: 1, prop: newUser(PageFlags.RW), tree: pos.tree, path: pos.path }
    const frame = r.config === 'untracked' ? undefined : g.frames.pick(rng)
    return frame !== undefined && rng.chance(0.6) ? { type: 'child.from_frame', frame, prop: newUser(PageFlags.RW), ...pos } : { type: 'child.none', ...pos }
  }),
  // the last handle of a detached root whose entries have live Child values
  'edge.rootDrop': op(2, (s, rng) => {
    const roots = new Set(detachedRoots(s))
    const withChild = new Set(tableKeys(s.pt.childOwners).map((id) => tableGet(s.pt.childOwners, id)!.tree).filter((t) => roots.has(t)))
    const node = rng.pick(tableKeys(s.pt.nodes).filter((id) => withChild.has(tableGet(s.pt.nodes, id)!.paddr / pageSize(1))))
    return node === undefined ? null : { type: 'page_table_node.drop', node }
  }),
  // a level-1 node of a tracked configuration: the only root a Child::Frame can be positioned in
  'edge.userLeafNode': op(2, (s) => (detachedRoots(s).some((slot) => nodeOwnerAt(s, slot)!.config === 'user' && nodeOwnerAt(s, slot)!.level === 1) ? null : { type: 'page_table_node.alloc', level: 1, config: 'user' })),
  // a second handle of a frame, kept for a second Child::Frame …
  'edge.clone': op(3, (s, rng, g) => {
    const frame = g.frames.pick(rng)
    return frame === undefined ? null : { type: 'frame.clone', frame }
  }),
  // … made into a Child::Frame at another entry while the first child lives
  'edge.childOfHeld': op(8, (s, rng) => {
    const frame = rng.pick(tableKeys(s.frames).filter((id) => ownerOf(s, tableGet(s.frames, id)!.paddr / pageSize(1)).pathsInPt.length > 0))
    const root = rng.pick(detachedRoots(s).filter((slot) => nodeOwnerAt(s, slot)!.config !== 'untracked' && nodeOwnerAt(s, slot)!.level === 1))
    return frame === undefined || root === undefined ? null : { type: 'child.from_frame', frame, prop: newUser(PageFlags.R), tree: root, path: String(rng.int(8)), parentLevel: 1 }
  }),
}

/** Root records (path "") of trees no PageTable owns, that a live node handle references. */
function detachedRoots(s: Snapshot): number[] {
  const handled = new Set(tableKeys(s.pt.nodes).map((id) => tableGet(s.pt.nodes, id)!.paddr / pageSize(1)))
  return tableKeys(s.pt.owners).filter((slot) => {
    const r = nodeOwnerAt(s, slot)!
    return r.path === '' && !r.inScope && handled.has(slot) && handleOfRoot(s, slot) === null
  })
}

/** The MMIO range of the one fixture that has one: 16 pages the bump allocator meets early (64 KiB..128 KiB). */
export const MMIO_RANGES: ReadonlyArray<readonly [number, number]> = [[0x10000, 0x20000]]

/** Operation tables a fixture history can be generated from. */
export const FIXTURE_OPERATIONS = { mutation: MUTATION_OPS, edge: EDGE_OPS, wide: WIDE_OPS, alias: ALIAS_OPS, kernel: KERNEL_OPS, popup: POPUP_OPS, self: SELF_OPS, avail1: AVAIL1_OPS, avail1Take: AVAIL1_TAKE_OPS, list: LIST_FOCUS_OPS, vm: VM_FOCUS_OPS, tlb: TLB_OPS, child: CHILD_FOCUS_OPS, childEdge: CHILD_EDGE_OPS } as const

/**
 * Histories beyond `FIXTURE_SEEDS`, each for paths those never take (found by scanning seeds
 * 1..60 of `MUTATION_OPS`; make_fixtures.ts refuses a set that misses one of them).
 */
export const EXTRA_FIXTURES: ReadonlyArray<{ readonly seed: number; readonly physicalMemory?: number; readonly mmioRanges?: ReadonlyArray<readonly [number, number]>; readonly operations?: keyof typeof FIXTURE_OPERATIONS; readonly why: string }> = [
  { seed: 50, why: 'take_next over a whole level-1 sub-tree: StrayPageTable' },
  { seed: 38, why: 'unmap over two or more mapped fragments' },
  { seed: 5, operations: 'wide', why: 'unmap over a whole sub-tree (its node dropped by unmap)' },
  { seed: 47, operations: 'wide', why: 'a stray sub-tree above level 1 (the DFS that marks it stray recurses)' },
  { seed: 11, physicalMemory: 1 << 16, operations: 'edge', why: '64 KiB of memory: alloc_frame and node allocation Err(NoMemory); from_in_use on a page-table node Err(InUse)' },
  // The generator's VM mix changed after FIXTURE_SEEDS were picked: these bring back the event
  // types the twelve no longer contain (seeds 1..120 scanned for them).
  { seed: 16, why: 'vm_writer.fill_zeros, vm_writer.write_fallible' },
  { seed: 14, why: 'vm_cursor_mut.issue_tlb_flush_with (its protect_next went when the generator stopped reusing a frame moved into a flusher)' },
  { seed: 99, why: 'vm_cursor_mut.issue_tlb_flush, vm_cursor_mut.dispatch_tlb_flush' },
  { seed: 30, why: 'vm_space_owner.new_vm_io_id, child.from_frame' },
  // Tracked frames in page tables (seeds 1..12 of ALIAS_OPS, 1..8 of KERNEL_OPS scanned): the twenty-one above never
  // map one frame twice, nor make `unmap` drop a tracked frame's handle, nor have a kernel page table.
  { seed: 6, operations: 'alias', why: 'a frame mapped at two VAs (a second handle from from_in_use), taken at one of them; unmap dropping tracked frames' },
  { seed: 8, operations: 'popup', why: 'map of a 2 MiB page by a cursor that went down to level 1 (adjustToLevel pops up; seeds 1..12 scanned)' },
  { seed: 9, operations: 'self', why: "a frame mapped again at the VA where it is mapped (map's old leaf is the same frame; seeds 1..12 scanned)" },
  { seed: 4, operations: 'avail1', why: 'untracked items mapped with AVAIL1 in their property (seeds 1..8 scanned)' },
  { seed: 9, operations: 'avail1Take', why: 'an untracked item mapped with AVAIL1 taken back by take_next (it must keep AVAIL1; seeds 1..12 scanned)' },
  { seed: 7, operations: 'kernel', why: 'a kernel page table: its CursorMuts map and take tracked frames (AVAIL1 cleared in the item taken)' },
  // No history above has an MMIO range: `get_from_unused` of a device page (Err(InUse)) and the allocator stepping over one were never seen.
  { seed: 9, operations: 'list', why: 'linked_list.drop of non-empty lists (each frame taken and dropped; seeds 1..10 scanned)' },
  { seed: 5, operations: 'vm', why: 'VmSpace maps, unmaps that remove pages, activations and flushes (seeds 1..8 scanned: 12 maps, 3 pages unmapped)' },
  { seed: 9, mmioRanges: MMIO_RANGES, why: 'an MMIO range: get_from_unused of a device page Err(InUse), the allocator stepping over the range (seeds 0..12 scanned)' },
  // TLB_OPS seeds 1..160 scanned for flushes of a cached translation by an empty flusher (nothing issued before masks them)
  { seed: 145, operations: 'tlb', why: "a VmSpace map replacing a cached page; an unmap straying a level-1 node whose Range flush removes a cached translation" },
  { seed: 94, operations: 'tlb', why: 'a VmSpace map and an unmap each flushing a cached page by Address' },
  { seed: 55, operations: 'tlb', why: "dispatches of a non-activated space's flusher whose ops cover cached translations (they must stay); a map replacing a cached page" },
  { seed: 21, operations: 'tlb', why: 'protect_next on an active space, changing its ghost views (seeds 1..40 scanned: five)' },
  { seed: 28, operations: 'tlb', why: 'issue_tlb_flush_with at the top level (four; their handles kept while other calls come: probes keep them twice)' },
  { seed: 8, operations: 'child', why: 'child.drop of tracked Child::Frame handles (the frame branch: its path leaves paths_in_pt, a Frame handle is dropped; seeds 1..12 scanned: two)' },
  { seed: 3, operations: 'childEdge', why: "child.drop of an untracked Child::Frame and of a Child::None whose tree's root record was dropped while they lived (seeds 1..30 scanned)" },
  { seed: 20, operations: 'childEdge', why: 'child.drop of a tracked Child::Frame whose frame another Child::Frame also holds (its slot records two paths; seeds 1..30 scanned: one)' },
]

/**
 * Histories written as scripts, for paths a random generator reaches too rarely to pick a seed for
 * (each replayed and probed like a generated one; `seed` names it and seeds its random probes).
 * A script calls the model with `call(event)` and gets the result back.
 */
export interface ScriptedFixture {
  readonly seed: number
  readonly why: string
  /** Physical memory of this history, when not the set's `PHYSICAL_MEMORY`. */
  readonly physicalMemory?: number
  /** MMIO ranges of this history's model, when it has any. */
  readonly mmioRanges?: ReadonlyArray<readonly [number, number]>
  readonly script: (call: <R>(e: ModelEvent) => R) => void
}

export const SCRIPTED_FIXTURES: readonly ScriptedFixture[] = [
  {
    seed: 1001,
    why: "Entry::replace of a node sub-tree two levels deep with a tracked frame at its bottom (held at a second path by another Child), into another tree, then moved to another entry of that tree and to the same entry of a third one: the rebase of the sub-tree's records and of the frame's path (no generated history installs a sub-tree whose records are not its own root's); a mis-levelled Child::None live at the replaces",
    script: rebaseScript,
  },
  {
    seed: 1002,
    physicalMemory: 64 * 1024,
    why: "fragmented memory: every frame handed out once, then segments freed around frames still in use, so alloc_segment finds no run after the never-used mark and takes the lowest free run (the allocator's fallback; no generated history exhausts the bump region and then asks for a segment); readers and writers that outlive the frame or segment they borrow (the vm_io calls that REQ-BORROW-1 refuses)",
    script: fragmentScript,
  },
  {
    seed: 1003,
    physicalMemory: MAX_PADDR,
    why: "memory of MAX_PADDR (2 GiB, the most genesis allows): a segment and a frame that end at MAX_PADDR exactly, which `OutOfBound` must not refuse (every other history's memory ends far below it)",
    script: topOfMemoryScript,
  },
  {
    seed: 1004,
    mmioRanges: MMIO_RANGES,
    why: "a kernel page table's level-1 node holding a tracked leaf (AVAIL1 in its PTE) and an untracked one, unmapped as a whole by a cursor over 4 MiB: the stray node's on_drop tells the two apart by AVAIL1 (`itemTracked` for the kernel configuration; generated kernel unmaps never take a whole node with leaves); and an untracked table's node whose leaf carries AVAIL1, untracked all the same",
    script: kernelStrayScript,
  },
  {
    seed: 1005,
    why: "readers and writers at unaligned cursors and exact limits (ioProbes then offers the alignment, fill and skip asserts), values of every kind written and read back through a copy, write_vals running past the end (the frame_io / vm_io boundaries no generated history reaches)",
    script: ioBoundaryScript,
  },
  {
    seed: 1006,
    why: "PageTable::create_user_page_table (no generated history calls it): a user page table sharing the kernel's top-level nodes, a map through it, and its drop; probes offer it on the user table (REQ-PT-CREATEUSER-1)",
    script: createUserScript,
  },
  {
    seed: 1007,
    why: "a kernel-configuration page table without shared top-level nodes (page_table.new), so probes offer create_user_page_table on it (REQ-PT-CREATEUSER-2) and drop a kernel table a user table shares (REQ-PT-DROP-1); page walks at hex-string addresses; a boot page table walked at a mapped address, protected, and probed at addresses whose upper-level PTEs are absent (REQ-BOOTPT-PROTECT-1); a PageTableNode kept behind a TLB flush, which probes drop; a user-space write_val that does not fault",
    script: kernelSharingScript,
  },
  {
    seed: 1008,
    physicalMemory: 16 * 4096,
    why: "a boot page table made from firmware mappings (a 1 GiB and a 2 MiB leaf: no other history has a huge boot leaf) with its tables taken from the allocator's free stack (the bump region spent), base pages mapped with exactly the frames they need and with none (tables present), and protects that split the 2 MiB leaf (one table) and the 1 GiB leaf (two) with exactly that many frames free; probes map under the huge leaves (REQ-BOOTPT-MAP-1) and protect in them when memory is short (REQ-BOOTPT-ALLOC-1)",
    script: bootFirmwareScript,
  },
  {
    seed: 1009,
    why: "Entries at the ends of a tree: an Entry of a page table's root while it lives (probes split it: REQ-ENTRY-SPLIT-3) and an Entry of its level-1 node, four levels down (probes alloc_if_none on it: REQ-ENTRY-ALLOCIFNONE-4), the nodes made by alloc_if_none; and alloc_if_none on an absent entry of a detached level-1 node, which returns None (no node below level 1)",
    script: entryEndsScript,
  },
  {
    seed: 1010,
    why: "user readers and writers registered with their VmSpace side by side (no generated history registers two of one kind, unregisters a reader, or holds one overlapping a registered one of the other kind): readers and writers at address 0, empty, and ending at MAX_USERSPACE_VADDR (the direct path of VmSpace::reader / writer); a reader overlapping a registered reader (allowed); readers and writers overlapping registered ones of the other kind, which probes register (REQ-VMSOWNER-CAN*-1); a reader over an unmapped page; a reader unregistered while another stays, a writer unregistered while another stays",
    script: registrationScript,
  },
  {
    seed: 1011,
    why: "user-space I/O that moves bytes (generated user accesses fault or read zeros): a user read of non-zero bytes; fallible copies that complete, kernel → user and user → kernel, from a frame and from a segment, and one with nothing left to copy; fill_zeros shorter and longer than what the writer has left, and of 0; a registered reader whose space is switched away and back (its view released, then registered again); the activated VmSpace dropped, then freed when another is activated",
    script: userIoScript,
  },
  {
    seed: 1012,
    mmioRanges: MMIO_RANGES,
    why: "cursor paths of reducers/page_table/cursor.ts no other history takes: a read-only Cursor's query and next over a kernel page table's tracked leaf and untracked (MMIO) leaf (clonedItem for the kernel configuration: AVAIL1 tells the kinds apart and is stripped from the item); a kernel CursorMut ending exactly at LOCKED_END_BOUND (probes: one past it, REQ-VMSPACE-CURSOR-1; protect_next clearing AVAIL1 on the tracked leaf, REQ-CURSORMUT-PROTECTNEXT-5); the query of an untracked table's leaf whose property carries AVAIL1 at a free page (untracked all the same, AVAIL1 kept), protect_next clearing it; a creation whose descent stops at a 2 MiB leaf; creations whose guard node is a level-3 node with level-1 nodes just outside the range in its first and last child; and the states creation probes need: refused below the guard node (a live cursor holds a covered node), on the allocation path (a live cursor holds the node lacking the child), by a PageTableGuard on the root; cursor.forget_guard of a guard of another tree (REQ-PTCURSOR-FORGET-1); a creation with an unaligned start and an aligned end (answered: Err(UnalignedVaddr))",
    script: cursorEdgesScript,
  },
  {
    seed: 1013,
    why: "cursor paths of reducers/page_table/cursor.ts still missed after 1012: a read-only Cursor over [2 MiB + 4K, 2 MiB + 12K) of a user table, whose only node around it starts at 2 MiB, jumped below its start and to its end (both Err(InvalidVaddr)); a user table's root marked stray (`stray_mut.write`) while no guard holds it, a creation below it that locks only a level-1 node, then unmarked (probes: a creation over two root entries, REQ-PTCURSOR-NEW-2); a kernel CursorMut over two whole top-level entries (guard node = the root) whose take_next and unmap walk into the shared level-3 nodes instead of taking the entries (a kernel cannot unmap top-level entries); probes on its live cursors: an unaligned jump (REQ-CURSOR-JUMP-3, a hex address for the kernel), find_next / protect_next of an unaligned length inside the range (FINDNEXT-4 / PROTECTNEXT-4)",
    script: cursorGapsScript,
  },
  {
    seed: 1014,
    physicalMemory: 16 * 4096,
    why: "the allocator's first-fit edges, now that ENS-FRAMEALLOC-SEGMENT-1 reads the policy apart from the reducer's pickRun (G-A1): a run in the never-used region bounded by a frame in use right after it (frame.from_unused at frame 3, then 3 frames: [0, 3)); a run after the never-used mark that ends at the last frame ([3, 16)); a segment of every frame of memory",
    script: allocatorEdgeScript,
  },
  {
    seed: 1015,
    mmioRanges: MMIO_RANGES,
    why: "the states of map's precondition probes, each where one clause alone fails: an untracked CursorMut over [2 MiB - 4K, 2 MiB + 4K) with guard level 2, at 2 MiB (a 2 MiB item past the range end, REQ-CURSORMUT-MAP-5; a property without R or with a cache policy no PTE encodes, REQ-CURSORMUT-MAP-3; a Frame item, REQ-PTCURSOR-ITEM-1), one over [1 GiB, 1 GiB + 2 MiB) with guard level 1 (a 2 MiB item above the guard level), a kernel one over 2 GiB with guard level 3 (a 1 GiB item above HIGHEST_TRANSLATION_LEVEL); CursorMuts with guard level 2 while PageTableGuards hold its table's root or the level-3 node its guard node starts (above it), or level-1 nodes in its guard node's span before and after its range (each forgotten by the cursor, REQ-PTCURSOR-FORGET-1); a CursorMut whose range ends where its guard node does, whose creation forgets the last entry's node into its range lock; a kernel map of a raw MMIO item whose property carries AVAIL1 (stripped by item_into_raw: the leaf is untracked); an untracked page ending at MAX_PADDR exactly; protect_next(0) at a leaf with an op that clears R (None: the op is never applied); a CursorMut whose window's first leaf lies past its address (probes: R cleared, REQ-CURSORMUT-PROTECTNEXT-5)",
    script: cursorMutEdgesScript,
  },
  {
    seed: 1016,
    mmioRanges: MMIO_RANGES,
    why: "Entry::protect on a kernel page table's leaves, at the top level: an Entry on a tracked frame's leaf (AVAIL1 in its PTE) and one on an untracked MMIO leaf, each protected with an op that keeps AVAIL1 (probes: an op that flips it, so the item would change trackedness, REQ-ENTRY-PROTECT-2 — no other history holds an Entry on a kernel leaf)",
    script: kernelEntryProtectScript,
  },
  {
    seed: 1017,
    why: "a boot page table whose firmware leaves come in an order no earlier one has: one above an earlier one, one ending where an earlier one starts, one starting where an earlier one ends (REQ-BOOTPT-NEW-2's overlap test must accept each); probes at its creation: leaves off their pages, two over one address",
    script: bootFirmwareOrderScript,
  },
  {
    seed: 1018,
    why: "a node record naming its own slot as its tree without being a root (a sub-tree taken out of a table keeps the root's tree id; the root was dropped and its slot reused by a node installed in that sub-tree): probes position a Child in that slot's \"tree\", which REQ-CHILD-FROMFRAME-1 refuses — no root record (no other history reuses a dropped root's slot inside its old tree)",
    script: staleTreeIdScript,
  },
]

/** The events of a scripted fixture, as the unmutated model accepts them. */
export function scriptedEvents(f: ScriptedFixture): ModelEvent[] {
  const h = new History({ check: 'off', physicalMemory: f.physicalMemory ?? PHYSICAL_MEMORY, mmioRanges: f.mmioRanges ?? [] })
  const events: ModelEvent[] = []
  f.script(<R>(e: ModelEvent): R => {
    const step = h.dispatch(e)
    events.push(e)
    return step.result as R
  })
  return events
}

function rebaseScript(call: <R>(e: ModelEvent) => R): void {
  const RW = newUser(PageFlags.RW)
  const { alloc, lock, put, dropChild: drop } = ptScriptHelpers(call, 1001)
  // a detached level-2 root with a level-1 node at entry 0, a tracked frame at its entry 3
  const n2 = alloc(2)
  const g2 = lock(n2.paddr)
  const n1 = alloc(1)
  drop(put(g2, 0, call<{ child: number }>({ type: 'child.from_node', node: n1.node } as ModelEvent).child))
  const g1 = lock(n1.paddr)
  const frame = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame' } as ModelEvent).value.frame
  // the frame is held at a second path too (a Child::Frame of a second handle, in a level-1 tree of its own)
  const second = call<{ frame: number }>({ type: 'frame.clone', frame } as ModelEvent).frame
  const n0 = alloc(1)
  call({ type: 'child.from_frame', frame: second, prop: RW, tree: n0.slot, path: '0', parentLevel: 1 } as ModelEvent)
  drop(put(g1, 3, call<{ child: number }>({ type: 'child.from_frame', frame, prop: RW, tree: n2.slot, path: '0.3', parentLevel: 1 } as ModelEvent).child))
  call({ type: 'page_table_guard.drop', guard: g1 } as ModelEvent)
  call({ type: 'page_table_guard.drop', guard: g2 } as ModelEvent)
  // into entry 5 of a level-3 tree: (n2, "") -> (n3, "5"), (n2, "0") -> (n3, "5.0"), the frame's path "n2:0.3" -> "n3:5.0.3"
  const n3 = alloc(3)
  const g3 = lock(n3.paddr)
  // a Child::None positioned at entry 6 of this tree one level too low (REQ-CHILD-POS-1 allows it): the replaces
  // below are probed with it, which REQ-ENTRY-REPLACE-4 refuses for its parent level alone
  call({ type: 'child.none', tree: n3.slot, path: '6', parentLevel: 2 } as ModelEvent)
  drop(put(g3, 5, call<{ child: number }>({ type: 'child.from_node', node: n2.node } as ModelEvent).child))
  // taken out (its records keep their position) and put at entry 6 of the same tree: the same tree, another path
  const none5 = call<{ child: number }>({ type: 'child.none', tree: n3.slot, path: '5', parentLevel: 3 } as ModelEvent).child
  const sub = put(g3, 5, none5)
  drop(put(g3, 6, sub))
  // and out again, into entry 6 of another level-3 tree: the same path, another tree
  const none6 = call<{ child: number }>({ type: 'child.none', tree: n3.slot, path: '6', parentLevel: 3 } as ModelEvent).child
  const again = put(g3, 6, none6)
  const n4 = alloc(3)
  const g4 = lock(n4.paddr)
  drop(put(g4, 6, again))
  call({ type: 'page_table_guard.drop', guard: g3 } as ModelEvent)
  call({ type: 'page_table_guard.drop', guard: g4 } as ModelEvent)
}

/**
 * 16 frames. A 12-frame segment at frames 0..11 is cut into [0], [1..2], [3], [4..11]; the rest of
 * memory is taken frame by frame (the never-used mark reaches the end); [1..2] and [4..11] are
 * dropped, [0] and [3] stay. Segments of 3, 2 and 4 frames then come from the lowest free runs
 * (4..6, 1..2, 7..10: a run must restart after each frame in use), and a fourth of 3 finds none.
 * Readers / writers of a frame and of segments outlive what they borrow (dropped while they
 * live, which the model allows); vm_io calls follow, so `vmProbes` offers the ended borrows'
 * calls, which REQ-BORROW-1 refuses.
 */
function fragmentScript(call: <R>(e: ModelEvent) => R): void {
  const segment = (nframes: number): number | null => {
    const r = call<{ ok: boolean; value?: { segment: number } }>({ type: 'frame_alloc.alloc_segment', nframes, zeroed: true, meta: UNIT_META } as ModelEvent)
    return r.ok ? r.value!.segment : null
  }
  const split = (seg: number, frames: number): { left: number; right: number } => call({ type: 'segment.split', segment: seg, offset: frames * pageSize(1) } as ModelEvent)
  const io = <K extends string>(type: string, field: string, id: number, key: K): number => call<Record<K, number>>({ type, [field]: id } as ModelEvent)[key]
  const all = segment(12)!
  const a = split(all, 1)
  const b = split(a.right, 2)
  const c = split(b.right, 1)
  // the rest of memory, one frame at a time: nothing is left after the never-used mark
  const frames: number[] = []
  for (;;) {
    const r = call<{ ok: boolean; value?: { frame: number } }>({ type: 'frame_alloc.alloc_frame', zeroed: false, meta: UNIT_META } as ModelEvent)
    if (!r.ok) break
    frames.push(r.value!.frame)
  }
  // readers and writers of what is about to be dropped: a frame, and both freed segments
  const frame = frames[0]!
  const frameReader = io('frame.reader', 'frame', frame, 'reader')
  const frameWriter = io('frame.writer', 'frame', frame, 'writer')
  const segReader = io('segment.reader', 'segment', b.left, 'reader')
  const segWriter = io('segment.writer', 'segment', c.right, 'writer')
  // a reader and a writer whose frame stays: live ones to call between the ended ones
  const kept = frames[1]!
  const liveReader = io('frame.reader', 'frame', kept, 'reader')
  const liveWriter = io('frame.writer', 'frame', kept, 'writer')
  call({ type: 'segment.drop', segment: b.left } as ModelEvent)
  call({ type: 'segment.drop', segment: c.right } as ModelEvent)
  call({ type: 'frame.drop', frame } as ModelEvent)
  call({ type: 'vm_reader.remain', reader: liveReader } as ModelEvent)
  call({ type: 'vm_writer.avail', writer: liveWriter } as ModelEvent)
  call({ type: 'vm_reader.read', reader: liveReader, writer: liveWriter } as ModelEvent)
  // the fallback: 4..6, then 1..2, then 7..10; then no run of 3 is left (11 and the dropped frame 12)
  const got = [segment(3), segment(2), segment(4), segment(3)]
  if (got[3] !== null || got.slice(0, 3).some((x) => x === null)) throw new Error(`script 1002: the allocator answered ${JSON.stringify(got)}`)
  for (const id of [frameReader, segReader, liveReader]) call({ type: 'vm_reader.drop', reader: id } as ModelEvent)
  for (const id of [frameWriter, segWriter, liveWriter]) call({ type: 'vm_writer.drop', writer: id } as ModelEvent)
}

/** With memory ending at MAX_PADDR: the last two pages as a segment, dropped; the last page as a frame, dropped. */
function topOfMemoryScript(call: <R>(e: ModelEvent) => R): void {
  const last = MAX_PADDR - pageSize(1)
  const seg = call<{ ok: true; value: { segment: number } }>({ type: 'segment.from_unused', startPaddr: last - pageSize(1), endPaddr: MAX_PADDR, meta: UNIT_META } as ModelEvent)
  call({ type: 'segment.drop', segment: seg.value.segment } as ModelEvent)
  const frame = call<{ ok: true; value: { frame: number } }>({ type: 'frame.from_unused', paddr: last, meta: UNIT_META } as ModelEvent)
  call({ type: 'frame.drop', frame: frame.value.frame } as ModelEvent)
}

/**
 * A kernel page table: a tracked frame and an untracked MMIO page (INV-ENTRY-6) mapped in one
 * level-1 node, then the node's whole 2 MiB unmapped; then an untracked table's node with an
 * AVAIL1 leaf, the same way.
 */
function kernelStrayScript(call: <R>(e: ModelEvent) => R): void {
  const RW = newUser(PageFlags.RW)
  const { pageTable } = call<{ pageTable: number }>({ type: 'page_table.new_kernel' } as ModelEvent)
  const start = '0xffff800000200000'
  const cursor = call<{ ok: true; value: { cursor: number } }>({ type: 'page_table.cursor_mut', pageTable, vaStart: start, vaEnd: '0xffff800000600000' } as ModelEvent).value.cursor
  const frame = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame', zeroed: false, meta: UNIT_META } as ModelEvent).value.frame
  call({ type: 'cursor_mut.map', cursor, item: { frame, prop: RW } } as ModelEvent)
  call({ type: 'cursor_mut.map', cursor, item: { pa: MMIO_RANGES[0]![0], level: 1, prop: RW } } as ModelEvent)
  // out of the node and back: the cursor's lowest guard is then the level-2 node, so the whole level-1 node can go
  call({ type: 'cursor.jump', cursor, va: '0xffff800000400000' } as ModelEvent)
  call({ type: 'cursor.jump', cursor, va: start } as ModelEvent)
  const pages = call<number>({ type: 'cursor_mut.unmap', cursor, len: pageSize(2) } as ModelEvent)
  if (pages !== 2) throw new Error(`script 1004: unmap answered ${pages}`)
  call({ type: 'cursor.drop', cursor } as ModelEvent)
  // the same in an untracked page table, its leaf's PTE carrying AVAIL1: untracked all the same
  const untracked = call<{ pageTable: number }>({ type: 'page_table.new', config: 'untracked' } as ModelEvent).pageTable
  const c2 = call<{ ok: true; value: { cursor: number } }>({ type: 'page_table.cursor_mut', pageTable: untracked, vaStart: pageSize(2), vaEnd: 3 * pageSize(2) } as ModelEvent).value.cursor
  call({ type: 'cursor_mut.map', cursor: c2, item: { pa: 0, level: 1, prop: newUser(PageFlags.RW | PageFlags.AVAIL1) } } as ModelEvent)
  call({ type: 'cursor.jump', cursor: c2, va: 2 * pageSize(2) } as ModelEvent)
  call({ type: 'cursor.jump', cursor: c2, va: pageSize(2) } as ModelEvent)
  if (call<number>({ type: 'cursor_mut.unmap', cursor: c2, len: pageSize(2) } as ModelEvent) !== 1) throw new Error('script 1004: the untracked unmap')
  call({ type: 'cursor.drop', cursor: c2 } as ModelEvent)
}

/**
 * One frame, written through `frame.write_val(s)` with values at their edges (a u64 as a JS
 * number, zeros), then readers / writers over it: one skipped to an unaligned cursor, one limited
 * to 4 bytes there, ones skipped to exactly the size of the value left, a writer filled twice; a
 * copy of non-zero bytes into a second frame.
 */
function ioBoundaryScript(call: <R>(e: ModelEvent) => R): void {
  const PAGE = pageSize(1)
  const frame = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame', zeroed: true, meta: UNIT_META } as ModelEvent).value.frame
  const other = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame', zeroed: true, meta: UNIT_META } as ModelEvent).value.frame
  const write = (offset: number, valType: unknown, value: unknown): unknown => call({ type: 'frame.write_val', frame, offset, valType, value } as ModelEvent)
  write(0, 'u32', 0x01020304)
  write(8, 'u64', 5)
  write(16, 'u64', 0)
  write(24, 'u8', 0)
  call({ type: 'frame.read_bytes', frame, offset: 0, len: 3 } as ModelEvent)
  // items at 4092 (written), 4096 (the end: empty, counted) and 4100 (past it: stops)
  const n = call<{ ok: boolean; value: number }>({ type: 'frame.write_vals', frame, offset: PAGE - 4, valType: 'u32', values: [1, 2, 3], align: 0 } as ModelEvent)
  if (!n.ok || n.value !== 2) throw new Error(`script 1005: write_vals answered ${JSON.stringify(n)}`)
  const reader = (): number => call<{ reader: number }>({ type: 'frame.reader', frame } as ModelEvent).reader
  const writer = (): number => call<{ writer: number }>({ type: 'frame.writer', frame } as ModelEvent).writer
  const skipR = (r: number, bytes: number): void => void call({ type: 'vm_reader.skip', reader: r, n: bytes } as ModelEvent)
  const skipW = (w: number, bytes: number): void => void call({ type: 'vm_writer.skip', writer: w, n: bytes } as ModelEvent)
  // a copy of the non-zero first bytes into the other frame
  const r0 = reader()
  const w0 = call<{ writer: number }>({ type: 'frame.writer', frame: other } as ModelEvent).writer
  call({ type: 'vm_reader.read', reader: r0, writer: w0 } as ModelEvent)
  // unaligned: a reader and a writer one byte in, and a reader limited to 4 bytes there
  const r1 = reader()
  skipR(r1, 1)
  call({ type: 'vm_reader.remain', reader: r1 } as ModelEvent)
  const w1 = writer()
  skipW(w1, 1)
  call({ type: 'vm_writer.avail', writer: w1 } as ModelEvent)
  const r2 = reader()
  skipR(r2, 1)
  call({ type: 'vm_reader.limit', reader: r2, n: 4 } as ModelEvent)
  call({ type: 'vm_reader.remain', reader: r2 } as ModelEvent)
  // too few bytes left at an unaligned cursor: Err(InvalidArgs), not the alignment assert
  const r3 = reader()
  skipR(r3, PAGE - 3)
  call({ type: 'vm_reader.read_once', reader: r3, valType: 'u32' } as ModelEvent)
  // exactly the value's size left
  const r4 = reader()
  skipR(r4, PAGE - 4)
  call({ type: 'vm_reader.read_val', reader: r4, valType: 'u32' } as ModelEvent)
  const w2 = writer()
  skipW(w2, PAGE - 8)
  call({ type: 'vm_writer.write_val', writer: w2, valType: 'u64', value: '5' } as ModelEvent)
  skipR(reader(), PAGE)
  // a zero-size value; a fill, then a fill of an exhausted writer
  const w3 = writer()
  call({ type: 'vm_writer.write_val', writer: w3, valType: { size: 0 }, value: '' } as ModelEvent)
  call({ type: 'vm_writer.fill', writer: w3, valType: 'u32', value: 7 } as ModelEvent)
  call({ type: 'vm_writer.fill', writer: w3, valType: 'u32', value: 7 } as ModelEvent)
}

/** A kernel page table, a user page table made from it, a frame mapped through the user one, everything dropped. */
function createUserScript(call: <R>(e: ModelEvent) => R): void {
  const kernel = call<{ pageTable: number }>({ type: 'page_table.new_kernel' } as ModelEvent).pageTable
  const user = call<{ pageTable: number }>({ type: 'page_table.create_user_page_table', pageTable: kernel } as ModelEvent).pageTable
  call({ type: 'page_table.create_user_page_table', pageTable: kernel } as ModelEvent)
  const cursor = call<{ ok: true; value: { cursor: number } }>({ type: 'page_table.cursor_mut', pageTable: user, vaStart: 0, vaEnd: pageSize(2) } as ModelEvent).value.cursor
  const frame = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame', zeroed: false, meta: UNIT_META } as ModelEvent).value.frame
  call({ type: 'cursor_mut.map', cursor, item: { frame, prop: newUser(PageFlags.RW) } } as ModelEvent)
  call({ type: 'cursor.drop', cursor } as ModelEvent)
  call({ type: 'page_table.page_walk', pageTable: user, va: 0 } as ModelEvent)
  call({ type: 'page_table.drop', pageTable: user } as ModelEvent)
}

function kernelSharingScript(call: <R>(e: ModelEvent) => R): void {
  call({ type: 'page_table.new', config: 'kernel' } as ModelEvent)
  const kernel = call<{ pageTable: number }>({ type: 'page_table.new_kernel' } as ModelEvent).pageTable
  const user = call<{ pageTable: number }>({ type: 'page_table.create_user_page_table', pageTable: kernel } as ModelEvent).pageTable
  call({ type: 'page_table.page_walk', pageTable: user, va: '0x0' } as ModelEvent)
  call({ type: 'page_table.page_walk', pageTable: kernel, va: '0xffff800000001000' } as ModelEvent)
  call({ type: 'page_table.drop', pageTable: user } as ModelEvent)
  call({ type: 'boot_page_table.new' } as ModelEvent)
  call({ type: 'boot_page_table.map_base_page', va: 0x5000, frameNumber: 7, prop: newUser(PageFlags.RW) } as ModelEvent)
  call({ type: 'boot_page_table.page_walk', va: 0x5123 } as ModelEvent)
  call({ type: 'boot_page_table.protect_base_page', va: 0x5000, prop: newUser(PageFlags.R) } as ModelEvent)
  call({ type: 'boot_page_table.page_walk', va: '0x5000' } as ModelEvent)
  call({ type: 'boot_page_table.drop' } as ModelEvent)
  // a PageTableNode kept behind a TLB flush while the cursor goes on: probes drop it (REQ-HANDLE-1, kept by the flusher)
  const vmSpace = call<{ vmSpace: number }>({ type: 'vm_space.new' } as ModelEvent).vmSpace
  const cursor = call<{ ok: true; value: { cursor: number } }>({ type: 'vm_space.cursor_mut', vmSpace, vaStart: 0x10000, vaEnd: 0x20000 } as ModelEvent).value.cursor
  const node = call<{ node: number }>({ type: 'page_table_node.alloc', level: 1, config: 'user' } as ModelEvent).node
  call({ type: 'vm_cursor_mut.issue_tlb_flush_with', cursor, op: { kind: 'All' }, release: { kind: 'node', handle: node } } as ModelEvent)
  call({ type: 'vm_cursor_mut.issue_tlb_flush', cursor, op: { kind: 'Address', va: 0x10000 } } as ModelEvent)
  call({ type: 'vm_cursor_mut.dispatch_tlb_flush', cursor } as ModelEvent)
  // a user-space write_val that does not fault (the generated ones all fault: nothing mapped where they write)
  const frame = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame' } as ModelEvent).value.frame
  call({ type: 'vm_cursor_mut.map', cursor, frame, prop: newUser(PageFlags.RW) } as ModelEvent)
  call({ type: 'vm_cursor.drop', cursor } as ModelEvent)
  call({ type: 'vm_space.activate', vmSpace } as ModelEvent)
  const writer = call<{ ok: true; value: { writer: number } }>({ type: 'vm_space.writer', vmSpace, va: 0x10010, len: 8 } as ModelEvent).value.writer
  call({ type: 'vm_writer.write_val', writer, valType: 'u32', value: 0x01020304 } as ModelEvent)
  call({ type: 'vm_writer.drop', writer } as ModelEvent)
}

/** The firmware's mappings of script 1008: a 1 GiB leaf at 1 GiB and a 2 MiB leaf at 2 MiB. */
const BOOT_FIRMWARE = [
  { va: 0x4000_0000, paddr: 0x4000_0000, level: 3, prop: newUser(PageFlags.RW) },
  { va: 0x20_0000, paddr: 0x40_0000, level: 2, prop: newUser(PageFlags.RW) },
]

/** Script 1008 (64 KiB of memory): the boot page table's calls with exactly the frames they need. */
function bootFirmwareScript(call: <R>(e: ModelEvent) => R): void {
  // spend every frame, then free them one call at a time: the tables come from the free stack
  const held: number[] = []
  for (;;) {
    const r = call<{ ok: boolean; value?: { frame: number } }>({ type: 'frame_alloc.alloc_frame' } as ModelEvent)
    if (!r.ok) break
    held.push(r.value!.frame)
  }
  const free = (n: number): void => {
    for (let i = 0; i < n; i++) call({ type: 'frame.drop', frame: held.pop()! } as ModelEvent)
  }
  free(3) // the root, the level-3 table (1 GiB leaf) and the level-2 table (2 MiB leaf)
  call({ type: 'boot_page_table.new', firmware: BOOT_FIRMWARE } as ModelEvent)
  free(1) // the level-1 table under VA 0
  call({ type: 'boot_page_table.map_base_page', va: 0x1000, frameNumber: 3, prop: newUser(PageFlags.RW) } as ModelEvent)
  // no frame free: a map into existing tables and a protect of a base page need none
  call({ type: 'boot_page_table.map_base_page', va: 0x2000, frameNumber: 4, prop: newUser(PageFlags.RW) } as ModelEvent)
  call({ type: 'boot_page_table.protect_base_page', va: 0x1000, prop: newUser(PageFlags.R) } as ModelEvent)
  free(1) // the 2 MiB leaf split into a level-1 table
  call({ type: 'boot_page_table.protect_base_page', va: 0x20_3000, mask: { clear: PageFlags.W, set: 0 } } as ModelEvent)
  call({ type: 'boot_page_table.page_walk', va: 0x20_3010 } as ModelEvent)
  call({ type: 'boot_page_table.page_walk', va: 0x3f_f000 } as ModelEvent)
  free(2) // the 1 GiB leaf split into a level-2 table, then one of its 2 MiB pages into a level-1 table
  call({ type: 'boot_page_table.protect_base_page', va: 0x4060_5000, prop: newUser(PageFlags.R) } as ModelEvent)
  call({ type: 'boot_page_table.page_walk', va: 0x4060_5abc } as ModelEvent)
  call({ type: 'boot_page_table.page_walk', va: 0x4060_4000 } as ModelEvent)
  call({ type: 'boot_page_table.page_walk', va: 0x7fe0_0000 } as ModelEvent)
  call({ type: 'boot_page_table.drop' } as ModelEvent)
  free(held.length)
}

/** Script 1017: firmware leaves adjacent to each other and above each other, in the order given; the boot page table walked and dropped. */
function bootFirmwareOrderScript(call: <R>(e: ModelEvent) => R): void {
  const prop = newUser(PageFlags.RW)
  const K4 = pageSize(1)
  const firmware = [
    { va: 3 * K4, paddr: 3 * K4, level: 1, prop },
    { va: 2 * K4, paddr: 2 * K4, level: 1, prop }, // ends where the first starts
    { va: 4 * K4, paddr: 4 * K4, level: 1, prop }, // starts where the first ends
    { va: pageSize(2), paddr: 2 * pageSize(2), level: 2, prop }, // above them all
    { va: GiB, paddr: GiB, level: 3, prop },
  ]
  call({ type: 'boot_page_table.new', firmware } as ModelEvent)
  for (const va of [2 * K4, 4 * K4 + 0x10, pageSize(2) + K4]) call({ type: 'boot_page_table.page_walk', va } as ModelEvent)
  call({ type: 'boot_page_table.drop' } as ModelEvent)
}

/**
 * Script 1018: a node record that names its own slot as its tree but is no root. A level-2 node is
 * taken out of a level-3 root (its record keeps the root's tree id), the root is dropped, and a
 * level-1 node allocated in the root's freed slot is installed under the taken-out node: its
 * record, at path "0.5", names tree = its own slot. A Child is then made for a live root, where
 * `childProbes` offers one positioned in that slot's "tree" (REQ-CHILD-FROMFRAME-1: no root record).
 */
function staleTreeIdScript(call: <R>(e: ModelEvent) => R): void {
  const { fail, alloc, lock, unlock, put, dropChild, fromNode } = ptScriptHelpers(call, 1018)
  const root = alloc(3)
  const mid = alloc(2)
  let guard = lock(root.paddr)
  dropChild(put(guard, 0, fromNode(mid.node)))
  const taken = put(guard, 0, call<{ child: number }>({ type: 'child.none', tree: root.slot, path: '0', parentLevel: 3 } as ModelEvent).child)
  unlock(guard)
  call({ type: 'page_table_node.drop', node: root.node } as ModelEvent)
  const reuse = alloc(1)
  if (reuse.slot !== root.slot) fail('the allocation after the root was dropped', reuse)
  guard = lock(mid.paddr)
  dropChild(put(guard, 5, fromNode(reuse.node)))
  unlock(guard)
  // a tracked frame made a Child for a live root's entry, and dropped
  const live = alloc(1)
  const frame = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame', zeroed: false, meta: UNIT_META } as ModelEvent).value.frame
  dropChild(call<{ child: number }>({ type: 'child.from_frame', frame, prop: newUser(PageFlags.RW), tree: live.slot, path: '3', parentLevel: 1 } as ModelEvent).child)
  call({ type: 'page_table_node.drop', node: live.node } as ModelEvent)
  dropChild(taken)
}

/** Script 1009: Entries of a root and of a level-1 node in one page table, and of a detached level-1 node. */
function entryEndsScript(call: <R>(e: ModelEvent) => R): void {
  const entry = (guard: number, idx: number): number => call<{ entry: number }>({ type: 'page_table_guard.entry', guard, idx } as ModelEvent).entry
  const { pageTable, rootPaddr } = call<{ pageTable: number; rootPaddr: number }>({ type: 'page_table.new', config: 'untracked' } as ModelEvent)
  const guards = [call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: rootPaddr } as ModelEvent).guard]
  const entries: number[] = []
  // levels 4 → 1: each entry 0 gets a node by alloc_if_none (the root's Entry lives while the others are made)
  for (let level = 4; level > 1; level--) {
    const e = entry(guards.at(-1)!, 0)
    entries.push(e)
    guards.push(call<{ guard: number }>({ type: 'entry.alloc_if_none', entry: e } as ModelEvent).guard)
  }
  const leafEntry = entry(guards.at(-1)!, 5)
  call({ type: 'entry.is_none', entry: leafEntry } as ModelEvent)
  call({ type: 'entry.split_if_mapped_huge', entry: leafEntry } as ModelEvent) // absent: None
  call({ type: 'entry.drop', entry: leafEntry } as ModelEvent)
  for (const e of entries.reverse()) call({ type: 'entry.drop', entry: e } as ModelEvent)
  for (const guard of guards.reverse()) call({ type: 'page_table_guard.drop', guard } as ModelEvent)
  call({ type: 'page_table.drop', pageTable } as ModelEvent)
  // a detached level-1 node: alloc_if_none on its absent entry returns None
  const { node, paddr } = call<{ node: number; paddr: number }>({ type: 'page_table_node.alloc', level: 1, config: 'user' } as ModelEvent)
  const { guard } = call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr } as ModelEvent)
  const e = entry(guard, 0)
  if (call({ type: 'entry.alloc_if_none', entry: e } as ModelEvent) !== null) throw new Error('script 1009: alloc_if_none below level 2 answered a node')
  call({ type: 'entry.drop', entry: e } as ModelEvent)
  call({ type: 'page_table_guard.drop', guard } as ModelEvent)
  call({ type: 'page_table_node.drop', node } as ModelEvent)
}

/** Script 1010: VmSpace registration with several readers and writers (reader_writer.ts, owner.ts). */
function registrationScript(call: <R>(e: ModelEvent) => R): void {
  const RW = newUser(PageFlags.RW)
  // a VmSpace with `pages` pages mapped from `base`
  const space = (pages: number, base: number): number => {
    const vmSpace = call<{ vmSpace: number }>({ type: 'vm_space.new' } as ModelEvent).vmSpace
    const cursor = call<{ ok: true; value: { cursor: number } }>({ type: 'vm_space.cursor_mut', vmSpace, vaStart: base, vaEnd: base + 0x10000 } as ModelEvent).value.cursor
    for (let i = 0; i < pages; i++) {
      const frame = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame' } as ModelEvent).value.frame
      call({ type: 'vm_cursor_mut.map', cursor, frame, prop: RW } as ModelEvent)
    }
    call({ type: 'vm_cursor.drop', cursor } as ModelEvent)
    return vmSpace
  }
  const vs = space(4, 0x10000)
  const vs2 = space(1, 0x40000) // inactive while vs is registered into: probes dispose into it
  call({ type: 'vm_space.activate', vmSpace: vs } as ModelEvent)
  const io = (kind: 'reader' | 'writer', va: number, len: number, vmSpace = vs): number => {
    const r = call<{ ok: boolean; value?: Record<string, number> }>({ type: `vm_space.${kind}`, vmSpace, va, len } as unknown as ModelEvent)
    if (!r.ok) throw new Error(`script 1010: ${kind} at ${va} + ${len} refused`)
    return r.value![kind]!
  }
  const register = (kind: 'reader' | 'writer', id: number, vmSpace = vs): void => void call({ type: `vm_space.register_${kind}`, vmSpace, [kind]: id } as unknown as ModelEvent)
  const unregister = (kind: 'reader' | 'writer', id: number, vmSpace = vs): void => void call({ type: `vm_space.unregister_${kind}`, vmSpace, [kind]: id } as unknown as ModelEvent)
  const drop = (kind: 'reader' | 'writer', id: number): void => void call({ type: `vm_${kind}.drop`, [kind]: id } as unknown as ModelEvent)
  // the direct path of reader / writer: address 0, empty ranges; and ranges ending at MAX_USERSPACE_VADDR
  const direct = { readers: [io('reader', 0x10000, 0), io('reader', 0, 0), io('reader', MAX_USERSPACE_VADDR - 16, 16)], writers: [io('writer', 0, 8), io('writer', MAX_USERSPACE_VADDR - 16, 16)] }
  call({ type: 'vm_space.create_reader', vmSpace: vs, va: 0x10100, len: 0x10 } as ModelEvent)
  const r1 = io('reader', 0x10010, 16)
  const r2 = io('reader', 0x11010, 16)
  const w1 = io('writer', 0x12010, 16) // the page below (0x11000, r2's) is mapped
  const w2 = io('writer', 0x13010, 16)
  // made before r1 / w1 are registered, so they exist to be probed: r3 overlaps r1 (registering it is refused),
  // w4 shares r1's page with disjoint bytes, w5 overlaps r1, r5 overlaps w1
  const r3 = io('reader', 0x10018, 4)
  const w4 = io('writer', 0x10030, 4)
  const w5 = io('writer', 0x10014, 4)
  const r5 = io('reader', 0x12014, 4)
  const unmapped = io('reader', 0x18000, 16)
  // a kernel Reader, which probes offer where a user one is asked for
  const kernelFrame = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame' } as ModelEvent).value.frame
  const kernelReader = call<{ reader: number }>({ type: 'frame.reader', frame: kernelFrame } as ModelEvent).reader
  register('reader', r1)
  const rr = io('reader', 0x10010, 8) // a reader may overlap a registered reader
  register('reader', r2) // into a non-empty list
  register('writer', w1)
  register('writer', w2)
  call({ type: 'vm_reader.remain', reader: r1 } as ModelEvent)
  unregister('writer', w1) // idx 0 of 2
  unregister('writer', w2)
  unregister('reader', r1) // idx 0 of 2, no writer registered
  unregister('reader', r2)
  // a space with one mapped page and a writer taking all of it: the remaining view becomes empty
  call({ type: 'vm_space.activate', vmSpace: vs2 } as ModelEvent)
  const w3 = io('writer', 0x40100, 8, vs2)
  register('writer', w3, vs2)
  unregister('writer', w3, vs2)
  drop('writer', w3)
  for (const id of [r1, r2, r3, r5, rr, unmapped, ...direct.readers]) drop('reader', id)
  for (const id of [w1, w2, w4, w5, ...direct.writers]) drop('writer', id)
  call({ type: 'vm_reader.drop', reader: kernelReader } as ModelEvent)
  call({ type: 'frame.drop', frame: kernelFrame } as ModelEvent)
}

/** Script 1011: user-space I/O that moves bytes, and the VmSpace lifecycle around the activated one. */
/** Script 1014 (16 frames): see its `why`. Each allocation is checked against the policy the script expects. */
function allocatorEdgeScript(call: <R>(e: ModelEvent) => R): void {
  const segment = (nframes: number): { segment: number; startPaddr: number } => {
    const r = call<{ ok: boolean; value?: { segment: number; startPaddr: number } }>({ type: 'frame_alloc.alloc_segment', nframes, zeroed: true, meta: UNIT_META } as ModelEvent)
    if (!r.ok) throw new Error(`script 1014: alloc_segment(${nframes}) failed`)
    return r.value!
  }
  const expectStart = (got: { startPaddr: number }, frame: number): void => {
    if (got.startPaddr !== frame * pageSize(1)) throw new Error(`script 1014: expected a run at frame ${frame}, got ${got.startPaddr}`)
  }
  const inUse = call<{ ok: true; value: { frame: number } }>({ type: 'frame.from_unused', paddr: 3 * pageSize(1), meta: UNIT_META } as ModelEvent).value.frame
  const head = segment(3)
  expectStart(head, 0)
  call({ type: 'segment.drop', segment: head.segment } as ModelEvent)
  call({ type: 'frame.drop', frame: inUse } as ModelEvent)
  const tail = segment(13)
  expectStart(tail, 3)
  call({ type: 'segment.drop', segment: tail.segment } as ModelEvent)
  const every = segment(16)
  expectStart(every, 0)
  call({ type: 'segment.drop', segment: every.segment } as ModelEvent)
}

function userIoScript(call: <R>(e: ModelEvent) => R): void {
  const RW = newUser(PageFlags.RW)
  const frame = (): number => call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame' } as ModelEvent).value.frame
  const vs = call<{ vmSpace: number }>({ type: 'vm_space.new' } as ModelEvent).vmSpace
  const cursor = call<{ ok: true; value: { cursor: number } }>({ type: 'vm_space.cursor_mut', vmSpace: vs, vaStart: 0x10000, vaEnd: 0x14000 } as ModelEvent).value.cursor
  for (let i = 0; i < 2; i++) call({ type: 'vm_cursor_mut.map', cursor, frame: frame(), prop: RW } as ModelEvent)
  call({ type: 'vm_cursor.drop', cursor } as ModelEvent)
  call({ type: 'vm_space.activate', vmSpace: vs } as ModelEvent)
  const io = (kind: 'reader' | 'writer', va: number, len: number, vmSpace = vs): number => {
    const r = call<{ ok: boolean; value?: Record<string, number> }>({ type: `vm_space.${kind}`, vmSpace, va, len } as unknown as ModelEvent)
    if (!r.ok) throw new Error(`script 1011: ${kind} at ${va} + ${len} refused`)
    return r.value![kind]!
  }
  // non-zero bytes written and read back through user space
  const w0 = io('writer', 0x10010, 8)
  call({ type: 'vm_writer.write_val', writer: w0, valType: 'u64', value: '578437695752307201' } as ModelEvent)
  const r0 = io('reader', 0x10010, 8)
  call({ type: 'vm_reader.collect', reader: r0 } as ModelEvent)
  // kernel → user: a frame's non-zero bytes copied to a user writer (Ok(8): the writer has less), then again with nothing left
  const f1 = frame()
  const kw = call<{ writer: number }>({ type: 'frame.writer', frame: f1 } as ModelEvent).writer
  call({ type: 'vm_writer.write_val', writer: kw, valType: 'u64', value: '1157159078456920585' } as ModelEvent)
  const kr = call<{ reader: number }>({ type: 'frame.reader', frame: f1 } as ModelEvent).reader
  const w1 = io('writer', 0x10020, 8)
  call({ type: 'vm_writer.write_fallible', writer: w1, reader: kr } as ModelEvent)
  call({ type: 'vm_writer.write_fallible', writer: w1, reader: kr } as ModelEvent)
  // user → kernel: user bytes into a frame writer (Ok(8): the reader has less)
  const r1 = io('reader', 0x10010, 8)
  const f2 = frame()
  const kw2 = call<{ writer: number }>({ type: 'frame.writer', frame: f2 } as ModelEvent).writer
  call({ type: 'vm_reader.read_fallible', reader: r1, writer: kw2 } as ModelEvent)
  // a segment reader into a user writer
  const seg = call<{ ok: true; value: { segment: number } }>({ type: 'frame_alloc.alloc_segment', nframes: 2, zeroed: true, meta: UNIT_META } as ModelEvent).value.segment
  const sr = call<{ reader: number }>({ type: 'segment.reader', segment: seg } as ModelEvent).reader
  const w2 = io('writer', 0x11000, 16)
  call({ type: 'vm_writer.write_fallible', writer: w2, reader: sr } as ModelEvent)
  // fill_zeros: shorter than what is left, longer, and 0
  const w3 = io('writer', 0x10100, 16)
  call({ type: 'vm_writer.fill_zeros', writer: w3, len: 8 } as ModelEvent)
  call({ type: 'vm_writer.fill_zeros', writer: w3, len: 32 } as ModelEvent)
  call({ type: 'vm_writer.fill_zeros', writer: w3, len: 0 } as ModelEvent)
  // a registered reader across a switch away and back: its view is released, then it registers again
  const r2 = io('reader', 0x11000, 8)
  call({ type: 'vm_space.register_reader', vmSpace: vs, reader: r2 } as ModelEvent)
  const other = call<{ vmSpace: number }>({ type: 'vm_space.new' } as ModelEvent).vmSpace
  call({ type: 'vm_space.activate', vmSpace: other } as ModelEvent)
  call({ type: 'vm_space.activate', vmSpace: vs } as ModelEvent)
  call({ type: 'vm_space.register_reader', vmSpace: vs, reader: r2 } as ModelEvent)
  // cursor calls next to the mapping r2's view holds ([0x11000, 0x12000)): an unmap below it, ending at
  // its start, and a map from its end (REQ-VMSCURSOR-1 allows both)
  const c2 = call<{ ok: true; value: { cursor: number } }>({ type: 'vm_space.cursor_mut', vmSpace: vs, vaStart: 0x10000, vaEnd: 0x14000 } as ModelEvent).value.cursor
  call({ type: 'vm_cursor_mut.unmap', cursor: c2, len: 0x1000 } as ModelEvent)
  call({ type: 'cursor.jump', cursor: c2, va: 0x12000 } as ModelEvent)
  call({ type: 'vm_cursor_mut.map', cursor: c2, frame: frame(), prop: RW } as ModelEvent)
  call({ type: 'vm_cursor.drop', cursor: c2 } as ModelEvent)
  call({ type: 'vm_space.unregister_reader', vmSpace: vs, reader: r2 } as ModelEvent)
  // a registered writer's part is out of the remaining view (the total and the remaining view are two lists
  // now) while a cursor maps the page after the mapped ones: both views gain it, the writer's part stays out
  const w4 = io('writer', 0x11000, 8)
  call({ type: 'vm_space.register_writer', vmSpace: vs, writer: w4 } as ModelEvent)
  const c3 = call<{ ok: true; value: { cursor: number } }>({ type: 'vm_space.cursor_mut', vmSpace: vs, vaStart: 0x13000, vaEnd: 0x14000 } as ModelEvent).value.cursor
  call({ type: 'vm_cursor_mut.map', cursor: c3, frame: frame(), prop: RW } as ModelEvent)
  call({ type: 'vm_cursor.drop', cursor: c3 } as ModelEvent)
  call({ type: 'vm_space.unregister_writer', vmSpace: vs, writer: w4 } as ModelEvent)
  // the frame and the segment go while their readers / writers live, beside live user ones: probes offer the
  // fallible copies between them (REQ-BORROW-1)
  call({ type: 'frame.drop', frame: f1 } as ModelEvent)
  call({ type: 'segment.drop', segment: seg } as ModelEvent)
  call({ type: 'vm_reader.remain', reader: r1 } as ModelEvent)
  for (const reader of [r0, r1, r2, kr, sr]) call({ type: 'vm_reader.drop', reader } as ModelEvent)
  for (const writer of [w0, w1, w2, w3, w4, kw, kw2]) call({ type: 'vm_writer.drop', writer } as ModelEvent)
  // the activated space dropped (the CPU keeps it), then freed when another is activated
  call({ type: 'vm_space.activate', vmSpace: other } as ModelEvent)
  call({ type: 'vm_space.drop', vmSpace: other } as ModelEvent)
  call({ type: 'vm_space.activate', vmSpace: vs } as ModelEvent)
  call({ type: 'frame.drop', frame: f2 } as ModelEvent)
}

/**
 * The small helpers the page-table scripts share: `fail` names the script in the error, `open`
 * creates a cursor and returns its id (failing on `Err`), `drop` drops a cursor, `lock` / `unlock`
 * take and drop a PageTableGuard, `childPaddr` reads the node at an entry through a guard and an Entry.
 */
function ptScriptHelpers(call: <R>(e: ModelEvent) => R, script: number) {
  const fail = (what: string, r: unknown): never => {
    throw new Error(`script ${script}: ${what} answered ${JSON.stringify(r)}`)
  }
  const open = (type: 'page_table.cursor' | 'page_table.cursor_mut', pageTable: number, vaStart: number | string, vaEnd: number | string): number => {
    const r = call<{ ok: boolean; value?: { cursor: number } }>({ type, pageTable, vaStart, vaEnd } as ModelEvent)
    return r.ok ? r.value!.cursor : fail(`${type} [${vaStart}, ${vaEnd})`, r)
  }
  const drop = (cursor: number): void => void call({ type: 'cursor.drop', cursor } as ModelEvent)
  const lock = (paddr: number): number => call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr } as ModelEvent).guard
  const unlock = (guard: number): void => void call({ type: 'page_table_guard.drop', guard } as ModelEvent)
  // the node at entry `idx` of the node at `paddr`
  const childPaddr = (paddr: number, idx: number): number => {
    const guard = lock(paddr)
    const entry = call<{ entry: number }>({ type: 'page_table_guard.entry', guard, idx } as ModelEvent).entry
    const ref = call<{ kind: string; paddr?: number }>({ type: 'entry.to_ref', entry } as ModelEvent)
    call({ type: 'entry.drop', entry } as ModelEvent)
    unlock(guard)
    return ref.kind === 'PageTable' ? ref.paddr! : fail(`entry ${idx} of node ${paddr}`, ref)
  }
  // a detached user node (its own tree's root)
  const alloc = (level: number): { node: number; paddr: number; slot: number } => {
    const r = call<{ node: number; paddr: number }>({ type: 'page_table_node.alloc', level, config: 'user' } as ModelEvent)
    return { ...r, slot: r.paddr / pageSize(1) }
  }
  // replaces entry `idx` under `guard` by `child`; the old child, still live
  const put = (guard: number, idx: number, child: number): number => {
    const entry = call<{ entry: number }>({ type: 'page_table_guard.entry', guard, idx } as ModelEvent).entry
    const old = call<{ child: number }>({ type: 'entry.replace', entry, child } as ModelEvent).child
    call({ type: 'entry.drop', entry } as ModelEvent)
    return old
  }
  const dropChild = (child: number): void => void call({ type: 'child.drop', child } as ModelEvent)
  const fromNode = (node: number): number => call<{ child: number }>({ type: 'child.from_node', node } as ModelEvent).child
  return { fail, open, drop, lock, unlock, childPaddr, alloc, put, dropChild, fromNode }
}

/**
 * Script 1012: cursor creation, query and next at their edges (reducers/page_table/cursor.ts). The
 * creation probes come from `cursorProbes` at the positions where their states exist.
 */
function cursorEdgesScript(call: <R>(e: ModelEvent) => R): void {
  const RW = newUser(PageFlags.RW)
  const { open, drop } = ptScriptHelpers(call, 1012)
  const newTable = (config: 'user' | 'untracked'): { pageTable: number; rootPaddr: number } => call({ type: 'page_table.new', config } as ModelEvent)
  // the Frame handle a query / next of a tracked leaf hands out
  const frameOf = (item: { frame?: number } | null | undefined): number => {
    if (item?.frame === undefined) throw new Error(`script 1012: expected a Frame, got ${JSON.stringify(item)}`)
    return item.frame
  }
  const untrackedOf = (item: { frame?: number; pa?: number } | null | undefined): void => {
    if (item == null || item.frame !== undefined || item.pa === undefined) throw new Error(`script 1012: expected an untracked item, got ${JSON.stringify(item)}`)
  }
  type Slot = [unknown, { frame?: number; pa?: number; prop?: { flags: number } } | null]
  const query = (cursor: number): Slot['1'] => {
    const r = call<{ ok: boolean; value?: Slot }>({ type: 'cursor.query', cursor } as ModelEvent)
    if (!r.ok) throw new Error(`script 1012: query answered ${JSON.stringify(r)}`)
    return r.value![1]
  }
  const next = (cursor: number): Slot['1'] => call<Slot | null>({ type: 'cursor.next', cursor } as ModelEvent)?.[1] ?? null

  // A kernel page table: a tracked frame (AVAIL1 in its PTE) and an untracked MMIO page mapped side by side …
  const kernel = call<{ pageTable: number }>({ type: 'page_table.new_kernel' } as ModelEvent).pageTable
  const [k0, k1, k2] = ['0xffff800000200000', '0xffff800000201000', '0xffff800000202000']
  const km = open('page_table.cursor_mut', kernel, k0, k2)
  const frame = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame', zeroed: false, meta: UNIT_META } as ModelEvent).value.frame
  call({ type: 'cursor_mut.map', cursor: km, item: { frame, prop: RW } } as ModelEvent)
  call({ type: 'cursor_mut.map', cursor: km, item: { pa: MMIO_RANGES[0]![0], level: 1, prop: RW } } as ModelEvent)
  // back at the tracked leaf (probes: protect_next clearing AVAIL1 would make it untracked)
  call({ type: 'cursor.jump', cursor: km, va: k0 } as ModelEvent)
  drop(km)
  // … queried by a read-only Cursor, and walked over by next: a Frame clone (AVAIL1 stripped), then the raw triple
  const kc = open('page_table.cursor', kernel, k0, k2)
  const held = [frameOf(query(kc)), frameOf(next(kc))]
  if (call<unknown>({ type: 'cursor.virt_addr', cursor: kc } as ModelEvent) !== k1) throw new Error('script 1012: next did not move to the MMIO page')
  untrackedOf(query(kc))
  untrackedOf(next(kc))
  drop(kc)
  for (const f of held) call({ type: 'frame.drop', frame: f } as ModelEvent)
  // a kernel CursorMut ending exactly at LOCKED_END_BOUND (probes: one page past it)
  drop(open('page_table.cursor_mut', kernel, '0xffffdffffffff000', '0xffffe00000000000'))

  // An untracked table: a 2 MiB leaf at VA 0 and, at 2 MiB, a leaf whose property carries AVAIL1 at a free page
  const untracked = newTable('untracked').pageTable
  const um = open('page_table.cursor_mut', untracked, 0, 2 * pageSize(2))
  call({ type: 'cursor_mut.map', cursor: um, item: { pa: pageSize(2), level: 2, prop: RW } } as ModelEvent)
  call({ type: 'cursor_mut.map', cursor: um, item: { pa: PHYSICAL_MEMORY - pageSize(1), level: 1, prop: newUser(PageFlags.RW | PageFlags.AVAIL1) } } as ModelEvent)
  call({ type: 'cursor.jump', cursor: um, va: pageSize(2) } as ModelEvent)
  const avail1 = query(um)
  untrackedOf(avail1)
  if (((avail1!.prop?.flags ?? 0) & PageFlags.AVAIL1) === 0) throw new Error('script 1012: the untracked item lost AVAIL1')
  // clearing AVAIL1 of an untracked leaf: it stays untracked (allowed)
  call({ type: 'cursor_mut.protect_next', cursor: um, len: pageSize(1), mask: { clear: PageFlags.AVAIL1, set: 0 } } as ModelEvent)
  drop(um)
  // the descent of [4K, 8K) stops at the 2 MiB leaf: the level-2 node is the guard node
  drop(open('page_table.cursor', untracked, pageSize(1), 2 * pageSize(1)))

  // A user table: level-1 nodes at 0, 2 MiB and 1 GiB + 4 MiB, just outside the ranges of two
  // cursors whose guard node is the level-3 node (over its entries 0 and 1). While the first CursorMut
  // ([0, 4K)) lives, probes create a cursor over [0, 4 MiB): refused below its guard node (level 2).
  const user = newTable('user').pageTable
  for (const start of [0, pageSize(2), GiB + 2 * pageSize(2)]) drop(open('page_table.cursor_mut', user, start, start + pageSize(1)))
  drop(open('page_table.cursor', user, pageSize(2), GiB + pageSize(1)))
  drop(open('page_table.cursor', user, GiB - pageSize(1), GiB + pageSize(1)))
  // a live CursorMut of this table, and a PageTableGuard on another table's root (probes: a cursor
  // over two root entries of that table; the guard forgotten by the CursorMut, a node of another tree)
  const low = open('page_table.cursor_mut', user, 0, pageSize(1))
  const other = newTable('user')
  const rootGuard = call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: other.rootPaddr } as ModelEvent).guard
  call({ type: 'page_table_guard.drop', guard: rootGuard } as ModelEvent)
  drop(low)
  // a CursorMut whose guard node (level 2) lacks its entries (probes: a cursor over its first page, whose descent would allocate under it)
  const wide = open('page_table.cursor_mut', other.pageTable, 0, pageSize(2) + pageSize(1))
  call({ type: 'cursor.virt_addr', cursor: wide } as ModelEvent)
  drop(wide)
  for (const pageTable of [user, other.pageTable, untracked]) call({ type: 'page_table.drop', pageTable } as ModelEvent)
}

/**
 * Script 1013: what 1012 leaves out of reducers/page_table/cursor.ts — jumps outside the range of a
 * cursor whose node does not start at 0, a stray-marked root of a live tree (the state of the
 * REQ-PTCURSOR-NEW-2 probe), and a kernel walk over whole top-level entries.
 */
function cursorGapsScript(call: <R>(e: ModelEvent) => R): void {
  const { fail, open, drop } = ptScriptHelpers(call, 1013)
  const K4 = pageSize(1)
  const M2 = pageSize(2)

  // A user table: a read-only Cursor whose guard node is the level-1 node at 2 MiB (no node around it starts at 0),
  // jumped below its start and to its end: both Err(InvalidVaddr), nothing moves
  const user = call<{ pageTable: number; rootPaddr: number }>({ type: 'page_table.new', config: 'user' } as ModelEvent)
  const c = open('page_table.cursor', user.pageTable, M2 + K4, M2 + 3 * K4)
  for (const va of [M2, M2 + 3 * K4]) {
    const r = call<{ ok: boolean }>({ type: 'cursor.jump', cursor: c, va } as ModelEvent)
    if (r.ok) fail(`jump to ${va}`, r)
  }
  drop(c)

  // The root marked stray through a PageTableGuard, the guard dropped (probes: a creation over two root entries,
  // whose descent locks the root: REQ-PTCURSOR-NEW-2); a creation below it locks only the level-1 node; unmarked
  const mark = (value: boolean): void => {
    const guard = call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: user.rootPaddr } as ModelEvent).guard
    call({ type: 'page_table_guard.stray_mut.write', guard, value } as ModelEvent)
    call({ type: 'page_table_guard.drop', guard } as ModelEvent)
  }
  mark(true)
  drop(open('page_table.cursor', user.pageTable, M2 + K4, M2 + 2 * K4))
  mark(false)
  call({ type: 'page_table.drop', pageTable: user.pageTable } as ModelEvent)

  // A kernel CursorMut over top-level entries 257 and 258 (the guard node is the root): take_next and unmap of
  // one whole entry each enter its shared level-3 node (empty) instead of taking the entry
  const kernel = call<{ pageTable: number }>({ type: 'page_table.new_kernel' } as ModelEvent).pageTable
  const k = open('page_table.cursor_mut', kernel, '0xffff808000000000', '0xffff818000000000')
  const taken = call<unknown>({ type: 'cursor_mut.take_next', cursor: k, len: 2 ** 39 } as ModelEvent)
  if (taken !== null) fail('take_next', taken)
  const pages = call<number>({ type: 'cursor_mut.unmap', cursor: k, len: 2 ** 39 } as ModelEvent)
  if (pages !== 0) fail('unmap', pages)
  drop(k)
}

/**
 * Script 1015: the states `cursorProbes` needs for map's preconditions and for guards of a cursor's
 * own tree (reducers/page_table/cursor_mut.ts, reducers/page_table/cursor.ts), and a kernel map of
 * a raw item whose property carries AVAIL1 (stripped: the leaf is untracked).
 */
function cursorMutEdgesScript(call: <R>(e: ModelEvent) => R): void {
  const helpers = ptScriptHelpers(call, 1015)
  const { fail, drop, lock, unlock, childPaddr } = helpers
  const open = (pageTable: number, vaStart: number | string, vaEnd: number | string): number => helpers.open('page_table.cursor_mut', pageTable, vaStart, vaEnd)
  const K4 = pageSize(1)
  const M2 = pageSize(2)
  const RW = newUser(PageFlags.RW)

  // a live Frame handle (probes: it mapped by an untracked CursorMut)
  const frame = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame', zeroed: false, meta: UNIT_META } as ModelEvent).value.frame
  // An untracked table with one page at 1 GiB: a level-3 node lacking its entry 0, level-2 and level-1 nodes at 1 GiB.
  // The page is the last below MAX_PADDR: it ends there exactly (REQ-CURSORMUT-MAP-3 allows it)
  const t = call<{ pageTable: number; rootPaddr: number }>({ type: 'page_table.new', config: 'untracked' } as ModelEvent)
  let c = open(t.pageTable, GiB, GiB + K4)
  call({ type: 'cursor_mut.map', cursor: c, item: { pa: MAX_PADDR - K4, level: 1, prop: RW } } as ModelEvent)
  drop(c)
  // … and level-1 nodes at 1 GiB + 6 MiB and at the last 2 MiB below 2 GiB (the last entry of the level-2 node at 1 GiB)
  for (const va of [GiB + 3 * M2, 2 * GiB - K4]) {
    c = open(t.pageTable, va, va + K4)
    call({ type: 'cursor_mut.map', cursor: c, item: { pa: 0, level: 1, prop: RW } } as ModelEvent)
    drop(c)
  }
  // guard level 2 over [2 GiB - 4 MiB, 2 GiB): its range ends where its guard node does, the level-1 node of the last
  // entry locked and forgotten into the range lock (cursor.forget_guard of a node ending at the guard node's end)
  drop(open(t.pageTable, 2 * GiB - 2 * M2, 2 * GiB))
  // guard level 2 over [2 MiB - 4K, 2 MiB + 4K) (creation allocates the path to it), at 2 MiB (probes: a 2 MiB item past
  // the range end, REQ-CURSORMUT-MAP-5; a property without R or with a cache policy no PTE encodes, REQ-CURSORMUT-MAP-3;
  // a Frame item, REQ-PTCURSOR-ITEM-1)
  // A PageTableGuard on the level-3 node meanwhile: above the guard node, from its start (probes: forgotten by the cursor)
  const l3 = childPaddr(t.rootPaddr, 0)
  c = open(t.pageTable, M2 - K4, M2 + K4)
  call({ type: 'cursor.jump', cursor: c, va: M2 } as ModelEvent)
  const l3Guard = lock(l3)
  call({ type: 'cursor.virt_addr', cursor: c } as ModelEvent)
  unlock(l3Guard)
  drop(c)
  // guard level 1 over [1 GiB, 1 GiB + 2 MiB) (probes: a 2 MiB item, above the guard level)
  c = open(t.pageTable, GiB, GiB + M2)
  call({ type: 'cursor.virt_addr', cursor: c } as ModelEvent)
  drop(c)
  // guard level 2 over [1 GiB + 2 MiB, 1 GiB + 6 MiB), and PageTableGuards on the root (above the guard node) and on
  // the level-1 nodes at 1 GiB and 1 GiB + 6 MiB (in the guard node's span, before and after the range) (probes: each
  // forgotten by the cursor, REQ-PTCURSOR-FORGET-1)
  const l2 = childPaddr(l3, 1)
  const [before, after] = [childPaddr(l2, 0), childPaddr(l2, 3)]
  c = open(t.pageTable, GiB + M2, GiB + 3 * M2)
  const guards = [lock(t.rootPaddr), lock(before), lock(after)]
  call({ type: 'cursor.virt_addr', cursor: c } as ModelEvent)
  for (const g of guards) unlock(g)
  drop(c)
  call({ type: 'page_table.drop', pageTable: t.pageTable } as ModelEvent)

  // A kernel table: guard level 3 over the first 2 GiB of top-level entry 257 (probes: a 1 GiB item, above
  // HIGHEST_TRANSLATION_LEVEL); a raw MMIO item mapped with AVAIL1 in its property: stripped, the leaf untracked
  const kernel = call<{ pageTable: number }>({ type: 'page_table.new_kernel' } as ModelEvent).pageTable
  c = open(kernel, '0xffff808000000000', '0xffff808080000000')
  call({ type: 'cursor.jump', cursor: c, va: '0xffff808000001000' } as ModelEvent)
  call({ type: 'cursor_mut.map', cursor: c, item: { pa: MMIO_RANGES[0]![0], level: 1, prop: newUser(PageFlags.RW | PageFlags.AVAIL1) } } as ModelEvent)
  // back at the range start, the leaf one page further (probes: R cleared by a protect_next whose window's first leaf lies past the cursor)
  call({ type: 'cursor.jump', cursor: c, va: '0xffff808000000000' } as ModelEvent)
  call({ type: 'cursor.jump', cursor: c, va: '0xffff808000001000' } as ModelEvent)
  const r = call<{ ok: boolean; value?: [unknown, { frame?: number; pa?: number } | null] }>({ type: 'cursor.query', cursor: c } as ModelEvent)
  if (!r.ok || r.value![1]?.pa === undefined) fail('query of the AVAIL1 raw item', r)
  // protect_next(0) at the leaf with an op that clears R: find_next(0) finds nothing, the op is never applied (None)
  const none = call<unknown>({ type: 'cursor_mut.protect_next', cursor: c, len: 0, mask: { clear: PageFlags.R, set: 0 } } as ModelEvent)
  if (none !== null) fail('protect_next(0)', none)
  drop(c)
  call({ type: 'frame.drop', frame } as ModelEvent)
}

/**
 * Script 1016: `entry.protect` called directly on a kernel page table's leaves (reducers/page_table/entry.ts):
 * a tracked frame's leaf and an untracked MMIO leaf in one level-1 node, each through its own Entry.
 */
function kernelEntryProtectScript(call: <R>(e: ModelEvent) => R): void {
  const { fail, open, drop, lock, unlock, childPaddr } = ptScriptHelpers(call, 1016)
  const RW = newUser(PageFlags.RW)
  const vaStart = 0xffff800000200000n
  const kernel = call<{ pageTable: number; rootPaddr: number }>({ type: 'page_table.new_kernel' } as ModelEvent)
  const c = open('page_table.cursor_mut', kernel.pageTable, `0x${vaStart.toString(16)}`, `0x${(vaStart + 2n * BigInt(pageSize(1))).toString(16)}`)
  const frame = call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame', zeroed: false, meta: UNIT_META } as ModelEvent).value.frame
  call({ type: 'cursor_mut.map', cursor: c, item: { frame, prop: RW } } as ModelEvent)
  call({ type: 'cursor_mut.map', cursor: c, item: { pa: MMIO_RANGES[0]![0], level: 1, prop: RW } } as ModelEvent)
  drop(c)
  // down to the level-1 node: entry 256 of the root, then 0, then 1
  const paddr = [256, 0, 1].reduce(childPaddr, kernel.rootPaddr)
  // each leaf protected through its Entry: W cleared, AVAIL1 (the tracked leaf's mark) kept
  const guard = lock(paddr)
  for (const idx of [0, 1]) {
    const entry = call<{ entry: number }>({ type: 'page_table_guard.entry', guard, idx } as ModelEvent).entry
    const ref = call<{ kind: string }>({ type: 'entry.to_ref', entry } as ModelEvent)
    if (ref.kind !== 'Frame') fail(`leaf ${idx}`, ref)
    call({ type: 'entry.protect', entry, mask: { clear: PageFlags.W, set: 0 } } as ModelEvent)
    call({ type: 'entry.is_none', entry } as ModelEvent)
    call({ type: 'entry.drop', entry } as ModelEvent)
  }
  unlock(guard)
}

/**
 * An invalid event offered just before event `at` of its history, and the precondition rule the
 * unmutated model refuses it with (`OstdPanic.rule`). Valid histories cannot kill a mutant that
 * WEAKENS a precondition (a `requires` predicate of a reducer, which the checker's REQ rules
 * are): a probe can — the mutant accepts the event or names another rule.
 */
export interface Probe {
  readonly at: number
  readonly event: ModelEvent
  /**
   * The rule the unmutated model refuses the event with; `null` for a targeted probe it answers
   * (an `Err` value, or `Ok`): then the event is dispatched on the side, the checker must report
   * nothing, and it is undone — a mutant that answers it wrongly must break an ENS / INV rule.
   */
  readonly rule: string | null
}

/** One history of the fixed set. */
export interface FixtureHistory {
  readonly seed: number
  /** Physical memory of this history, when not the set's `physicalMemory`. */
  readonly physicalMemory?: number
  /** MMIO ranges of this history's model (`[start, end)`), when it has any. */
  readonly mmioRanges?: ReadonlyArray<readonly [number, number]>
  readonly events: ModelEvent[]
  readonly probes?: Probe[]
}

/** Numeric fields of `e` (top level: handle ids, addresses, lengths) nudged by `delta` units of their kind. */
function nudged(e: ModelEvent, key: string, delta: number): ModelEvent {
  const v = (e as unknown as Record<string, unknown>)[key] as number
  const unit = /paddr|Paddr|^va|offset|len|start|end/.test(key) ? 4096 : 1
  return { ...e, [key]: v + delta * unit } as ModelEvent
}

/**
 * Probes for `events`: before every `every`-th event, one earlier event replayed again (a handle
 * consumed since, a slot claimed twice …) or the event itself with a numeric field nudged; kept
 * when the unmutated model panics on it (a REQ- rule; MODEL- misuse rules too). An invalid event
 * on which the model throws anything else is a model bug: it goes to `crashes`.
 */
export function makeProbes(events: readonly ModelEvent[], seed: number, crashes: string[], every = 4, physicalMemory = PHYSICAL_MEMORY, mmioRanges: ReadonlyArray<readonly [number, number]> = []): Probe[] {
  const rng = new Rng(seed ^ 0x5eed)
  const probes: Probe[] = []
  const h = new History({ check: 'off', physicalMemory, mmioRanges })
  // Offers `c` to the unmutated model: refused, it is a probe of its rule; answered (`Ok` or an
  // `Err` value, as OSTD's `from_in_use` answers a bad address), a probe the checker judges —
  // unless `refusedOnly`. Schema-invalid events (a negative id …) are refused before any rule:
  // not a probe. Returns whether `c` was refused with a rule.
  // `once`: record a refused probe only the first time this event is refused with this rule.
  const offer = (at: number, c: ModelEvent, refusedOnly = false, once?: Set<string>): boolean => {
    if (!eventSpec(c.type)!.schema.safeParse(c).success) return false
    try {
      applyCall(eventSpec(c.type)!, h.state, c)
      if (!refusedOnly) probes.push({ at, event: c, rule: null })
      return false
    } catch (err) {
      if (isOstdPanic(err)) {
        const key = `${JSON.stringify(c)}|${err.rule}`
        if (once?.has(key)) return true
        once?.add(key)
        probes.push({ at, event: c, rule: err.rule })
        return true
      }
      // Not a refusal: the model crashes on this invalid event (reported by make_fixtures.ts, QUALITY.md).
      crashes.push(`${JSON.stringify(c)}: ${String(err)}`)
      return false
    }
  }
  const offeredOnce = new Set<string>()
  let unalignedOffered = false
  const cursorKinds = new Set<string>()
  for (let i = 0; i < events.length; i++) {
    // Targeted probes (no draws from `rng`: the random probes stay those of the seed). An event's
    // physical address moved off its page (misaligned) or past the end of memory must be refused:
    // the clauses that refuse them are otherwise shadowed by the ones the ±page nudges reach.
    const e = events[i]!
    for (const key of paddrKeys(e)) {
      const v = (e as unknown as Record<string, number>)[key]!
      offer(i, { ...e, [key]: v + 1 } as ModelEvent)
      offer(i, { ...e, [key]: physicalMemory } as ModelEvent)
      // `UniqueFrame::from_raw` asks for `paddr < MAX_PADDR` only: past memory is another clause's
      offer(i, { ...e, [key]: MAX_PADDR } as ModelEvent)
    }
    // A list cursor at a page that holds no `Link` (a free page: storage uninitialised) must be
    // refused by REQ-LIST-CURSOR-1, not read as a link: the random probes' positions hold one.
    if ('currentPaddr' in e) {
      const free = probeTargets(h.state).freePage
      if (free !== undefined) offer(i, { ...e, currentPaddr: free * pageSize(1) } as ModelEvent, true)
    }
    // Segment bounds just outside what the exec `assert!`s allow (the random nudges move them by
    // whole pages, and never to an empty or a too-long range).
    for (const c of segmentBoundProbes(h.state, e)) offer(i, c, true)
    // A flush kept behind a handle that is not there to keep: a dead one, one another flush already
    // holds, one of the other kind (the release's fields are nested: the random nudges never reach them).
    for (const c of flushWithProbes(h.state, e)) offer(i, c, true)
    // A Child at a malformed position, in a tree that is no root record (none, or a node inside a
    // tree) or of the wrong configuration, one level off; an untracked child at the last page below MAX_PADDR (answered);
    // a Child made of a page table's own root handle.
    // An Entry's call where its preconditions fail: an index past the node, a second Entry of a
    // guard, an Entry whose guard is gone, a protect of an absent entry or to a property a PTE
    // cannot hold, a replace by a child of the wrong level or positioned for another entry.
    for (const c of entryProbes(h.state, e)) offer(i, c, true)
    // A VmSpace dropped while a cursor or a reader / writer of it lives; a reader's call on a writer and back.
    for (const c of vmProbes(h.state, e)) offer(i, c, true)
    // Registration and the owner's steps (each event once per history and refusing rule).
    for (const c of registrationProbes(h.state, e)) offer(i, c, true, offeredOnce)
    // Values a PTE-free write cannot hold, and the reader / writer asserts (alignment, POD, fill, skip past the end).
    for (const c of ioProbes(h.state, e)) offer(i, c, true)
    // create_user_page_table of a page table that is not the kernel's (REQ-PT-CREATEUSER-1)
    // … and of a kernel page table whose top-level entries hold no shared nodes (REQ-PT-CREATEUSER-2)
    if (e.type === 'page_table.create_user_page_table') {
      for (const pageTable of tableKeys(h.state.pt.tables)) if (pageTable !== (e as unknown as { pageTable: number }).pageTable) offer(i, { ...e, pageTable } as ModelEvent, true)
    }
    // A kernel page table dropped while a user page table shares its top-level nodes (REQ-PT-DROP-1)
    if (e.type.startsWith('page_table.')) {
      const shared = tableKeys(h.state.pt.tables).map((id) => tableGet(h.state.pt.tables, id)!.sharesKernel).find((k) => k !== null)
      if (shared !== undefined && shared !== null) offer(i, { type: 'page_table.drop', pageTable: shared } as ModelEvent, true)
    }
    // The boot page table's firmware mappings: a va or a paddr off its page, two leaves over one
    // address (REQ-BOOTPT-NEW-2), and one more base page whose level-1 table does not fit (REQ-BOOTPT-ALLOC-1
    // where memory is short, as in script 1008)
    if (e.type === 'boot_page_table.new' && h.state.pt.boot === null) {
      const prop = newUser(PageFlags.RW)
      const firmware = (e as unknown as { firmware?: unknown[] }).firmware ?? []
      for (const bad of [
        [{ va: GiB + pageSize(2), paddr: GiB, level: 3, prop }],
        [{ va: GiB, paddr: GiB + pageSize(2), level: 3, prop }],
        [
          { va: GiB, paddr: GiB, level: 3, prop },
          { va: GiB + pageSize(2), paddr: 0, level: 2, prop },
        ],
        [...firmware, { va: pageSize(1), paddr: pageSize(1), level: 1, prop }],
      ])
        offer(i, { ...e, firmware: bad } as ModelEvent, true)
    }
    // A boot page table protected where no table maps: 1 GiB and 512 GiB (upper-level PTEs absent; the generator's addresses stay in the first 256 KiB)
    if (e.type.startsWith('boot_page_table.') && h.state.pt.boot !== null) {
      for (const va of [pageSize(3), pageSize(4)]) offer(i, { type: 'boot_page_table.protect_base_page', va, prop: newUser(PageFlags.R) } as ModelEvent, true)
      // … and, where the firmware left huge leaves, a base page mapped under them (REQ-BOOTPT-MAP-1) and
      // a page in them protected (refused only when the split's tables do not fit: REQ-BOOTPT-ALLOC-1)
      for (const m of BOOT_FIRMWARE) {
        const va = m.va + 3 * pageSize(1)
        offer(i, { type: 'boot_page_table.map_base_page', va, frameNumber: 5, prop: newUser(PageFlags.RW) } as ModelEvent, true)
        offer(i, { type: 'boot_page_table.protect_base_page', va, prop: newUser(PageFlags.R) } as ModelEvent, true)
      }
    }
    // A node a page-table cursor holds without a guard (its guard forgotten by a pop): its lock byte
    // is 1 while `Guards` lacks it, so locking it is the deadlock REQ-NODE-LOCK-2 reads off the byte.
    if (/^(cursor|cursor_mut)\./.test(e.type)) {
      const held = heldWithoutGuard(h.state)
      if (held !== undefined) offer(i, { type: 'page_table_node_ref.lock', paddr: held * pageSize(1) } as ModelEvent, true)
    }
    // Cursor creation refused below its guard node, on its allocation path, by a PageTableGuard, past
    // LOCKED_END_BOUND; a forgotten guard of another tree; AVAIL1 cleared on a kernel leaf (one of
    // each kind per page table and history: the first refused). And, once per history, a creation with an unaligned
    // start and an aligned end (answered: Err(UnalignedVaddr); the random nudges move bounds by whole pages).
    if (!e.type.startsWith('vm_')) {
      for (const { kind, event } of cursorProbes(h.state)) if (!cursorKinds.has(kind) && offer(i, event, true)) cursorKinds.add(kind)
    }
    const range = e as unknown as { vaStart?: unknown; vaEnd?: unknown }
    if (!unalignedOffered && (e.type === 'page_table.cursor' || e.type === 'page_table.cursor_mut') && typeof range.vaStart === 'number' && typeof range.vaEnd === 'number' && range.vaEnd % pageSize(1) === 0 && range.vaStart + 1 < range.vaEnd) {
      unalignedOffered = true
      offer(i, { ...e, vaStart: range.vaStart + 1 } as ModelEvent)
    }
    const child = childProbes(h.state, e)
    for (const c of child.refused) offer(i, c, true)
    for (const c of child.answered) offer(i, c)
    if (i % every !== 0) {
      h.dispatch(e)
      continue
    }
    const at = probeTargets(h.state)
    // on_drop of what is no node or a node still held; a node's ghost parent malformed; a node
    // allocated with no free frame; a second guard of a held lock; a locked node dropped.
    for (const c of nodeProbes(h.state, e, at)) offer(i, c, true)
    // The address moved inside a page in use (8 bytes past a shared frame's and a unique frame's
    // start): a misaligned address is answered (`Err(NotAligned)`) or refused by its address
    // clause before any clause reads the slot it falls in — the +1 above lands in a free page.
    for (const key of paddrKeys(e)) {
      for (const idx of [at.sharedFrame, at.uniqueHeld]) if (idx !== undefined) offer(i, { ...e, [key]: idx * pageSize(1) + 8 } as ModelEvent)
    }
    // A forgotten reference revived by the wrong kind of handle: Frame::from_raw of a forgotten
    // UniqueFrame, UniqueFrame::from_raw of a forgotten Frame reference.
    if (at.forgottenUnique !== undefined) offer(i, { type: 'frame.from_raw', paddr: at.forgottenUnique * pageSize(1) } as ModelEvent)
    if (at.forgottenShared !== undefined) offer(i, { type: 'unique_frame.from_raw', paddr: at.forgottenShared * pageSize(1) } as ModelEvent)
    // … and a unique frame a LinkedList forgot (only the list's cursor may take it: REQ-LIST-FROMRAW-1)
    if (at.listedUnique !== undefined) offer(i, { type: 'unique_frame.from_raw', paddr: at.listedUnique * pageSize(1) } as ModelEvent)
    // `MetaSlot::drop_last_in_place` (left out of the generator: only valid on a last reference)
    // on a slot each of its clauses refuses alone: a shared frame (rc not 0 / UNIQUE), a unique
    // frame linked into a list. Refusals only: an accepted drop would leave a dangling handle.
    for (const idx of [at.sharedFrame, at.listedUnique]) {
      if (idx !== undefined) offer(i, { type: 'meta_slot.drop_last_in_place', paddr: idx * pageSize(1) } as ModelEvent, true)
    }
    // … and inside a shared frame's page, past its start: the address clause of REQ-META-DROPLAST-1
    // refuses it (the page-aligned probes above never reach that clause).
    if (at.sharedFrame !== undefined) offer(i, { type: 'meta_slot.drop_last_in_place', paddr: at.sharedFrame * pageSize(1) + 8 } as ModelEvent, true)
    // The random probe: an earlier event replayed, else this one with a numeric field nudged.
    const keys = Object.keys(e).filter((k) => typeof (e as unknown as Record<string, unknown>)[k] === 'number')
    const candidates: ModelEvent[] = []
    if (i > 0) candidates.push(events[rng.int(i)]!)
    if (keys.length > 0) candidates.push(nudged(e, rng.pick(keys)!, rng.chance(0.5) ? 1 : -1))
    for (const c of candidates) if (offer(i, c, true)) break
    h.dispatch(e)
  }
  return probes
}

/**
 * `e` with its range bounds moved just outside what its preconditions allow: `segment.split` at a
 * misaligned offset, at 0 and at the segment's size; `segment.slice` misaligned at either end
 * (the end also 1 byte short: inside the segment, so only the alignment clause refuses it),
 * empty, and past the segment's end; `segment.from_unused` over an empty range;
 * `frame_alloc.alloc_segment` of the first frame count whose byte size exceeds `isize::MAX`.
 */
function childProbes(s: Snapshot, e: ModelEvent): { refused: ModelEvent[]; answered: ModelEvent[] } {
  const refused: ModelEvent[] = []
  const answered: ModelEvent[] = []
  // the root handle a PageTable owns, made into a Child (REQ-HANDLE-1: it was moved into the table)
  const table = e.type.startsWith('child.') ? tableKeys(s.pt.tables)[0] : undefined
  if (table !== undefined) refused.push({ type: 'child.from_node', node: tableGet(s.pt.tables, table)!.root } as ModelEvent)
  if (e.type.startsWith('child.')) refused.push(...fromPteProbes(s))
  if (e.type !== 'child.none' && e.type !== 'child.untracked' && e.type !== 'child.from_frame') return { refused, answered }
  const f = e as unknown as { tree: number; level?: number }
  for (const path of ['', '512']) refused.push({ ...e, path } as ModelEvent)
  if (e.type === 'child.none') return { refused, answered }
  // a slot that holds no node record
  const free = slotWithoutRecord(s)
  if (free !== undefined) refused.push({ ...e, tree: free } as ModelEvent)
  // a root of another configuration: user / kernel for an untracked child, untracked for a frame
  const wrong = tableKeys(s.pt.owners).find((idx) => {
    const o = nodeOwnerAt(s, idx)
    return o !== null && o.path === '' && (e.type === 'child.untracked' ? o.config !== 'untracked' : o.config === 'untracked')
  })
  if (wrong !== undefined) refused.push({ ...e, tree: wrong } as ModelEvent)
  // a node inside a tree: its slot names no root record
  const inner = tableKeys(s.pt.owners).find((idx) => nodeOwnerAt(s, idx)!.path !== '')
  if (inner !== undefined) refused.push({ ...e, tree: inner } as ModelEvent)
  // … and one whose record names its own slot as its tree all the same (script 1018)
  const stale = tableKeys(s.pt.owners).find((idx) => {
    const o = nodeOwnerAt(s, idx)!
    return o.path !== '' && o.tree === idx
  })
  if (stale !== undefined && stale !== inner) refused.push({ ...e, tree: stale } as ModelEvent)
  if (e.type === 'child.from_frame') refused.push({ ...e, parentLevel: 2 } as ModelEvent)
  else answered.push({ ...e, paddr: MAX_PADDR - pageSize(f.level ?? 1) } as ModelEvent)
  return { refused, answered }
}

/** The first slot that holds no page-table node record. */
function slotWithoutRecord(s: Snapshot): number | undefined {
  for (let idx = 0; idx < s.nrFrames; idx++) if (nodeOwnerAt(s, idx) === null) return idx
  return undefined
}

/**
 * `Child::from_pte` / `ChildRef::from_pte` (internal steps of replace and the cursors, never
 * top-level in a history) where their preconditions fail: a word the entry's owner does not match
 * (a page at an absent entry, the absent word at a present one), the right word one level off,
 * a slot that holds no node record. At the first node record with such entries.
 */
function fromPteProbes(s: Snapshot): ModelEvent[] {
  const out: ModelEvent[] = []
  const types = ['child.from_pte', 'child_ref.from_pte'] as const
  for (const slot of tableKeys(s.pt.owners)) {
    const node = nodeOwnerAt(s, slot)!
    let absent: number | undefined
    let present: number | undefined
    for (let idx = 0; idx < 512 && (absent === undefined || present === undefined); idx++) {
      const v = childOwnerView(s, node, idx)
      if (v === null || v.inScope || v.kind === 'locked') continue
      if (v.kind === 'absent') absent ??= idx
      else present ??= idx
    }
    if (absent === undefined) continue
    for (const type of types) {
      out.push({ type, pte: pteToHex(newPage(0, node.level, newUser(PageFlags.RW))), level: node.level, node: slot, idx: absent } as ModelEvent)
      for (const level of [node.level - 1, node.level + 1]) if (level >= 1 && level <= 4) out.push({ type, pte: pteToHex(newAbsentPte()), level, node: slot, idx: absent } as ModelEvent)
      if (present !== undefined) out.push({ type, pte: pteToHex(newAbsentPte()), level: node.level, node: slot, idx: present } as ModelEvent)
    }
    break
  }
  // a slot that holds no node record
  const free = slotWithoutRecord(s)
  if (free !== undefined) for (const type of types) out.push({ type, pte: pteToHex(newAbsentPte()), level: 1, node: free, idx: 0 } as ModelEvent)
  return out
}

function entryProbes(s: Snapshot, e: ModelEvent): ModelEvent[] {
  const out: ModelEvent[] = []
  const f = e as unknown as { guard?: number; idx?: number; entry?: number; child?: number }
  // a PTE index past the node (read_pte / write_pte too: guard.ts's index clauses)
  if (/^(page_table_guard\.(entry|read_pte|write_pte)|entry\.new_at)$/.test(e.type) && f.idx !== undefined) out.push({ ...e, idx: 512 } as ModelEvent)
  if ((e.type === 'page_table_guard.entry' || e.type === 'entry.new_at') && f.guard !== undefined) {
    // a guard with a live Entry already
    const busy = tableKeys(s.pt.entries).map((id) => tableGet(s.pt.entries, id)!.guard).find((g) => tableGet(s.pt.guards, g) !== null)
    if (busy !== undefined) out.push({ ...e, guard: busy, idx: 0 } as ModelEvent)
  }
  if (!e.type.startsWith('entry.') || e.type === 'entry.drop' || e.type === 'entry.new_at') return out
  // an Entry whose guard was dropped (the borrow outlived)
  const orphan = tableKeys(s.pt.entries).find((id) => tableGet(s.pt.guards, tableGet(s.pt.entries, id)!.guard) === null)
  if (orphan !== undefined) out.push({ ...e, entry: orphan } as ModelEvent)
  const kindOf = (id: number): string | null => {
    const ctx = entryContext(s, id)
    return ctx?.view?.kind ?? null
  }
  // Entry::protect (rare at the top level: the cursors call it) of an absent or node entry, and of
  // a mapped leaf to a property without R, with an undefined bit, or a cache policy no PTE encodes
  const absent = tableKeys(s.pt.entries).find((id) => kindOf(id) === 'absent' || kindOf(id) === 'node')
  if (absent !== undefined) out.push({ type: 'entry.protect', entry: absent, prop: newUser(PageFlags.RW) } as ModelEvent)
  const leaf = tableKeys(s.pt.entries).find((id) => kindOf(id) === 'frame')
  if (leaf !== undefined) {
    out.push({ type: 'entry.protect', entry: leaf, prop: newUser(PageFlags.W) } as ModelEvent)
    out.push({ type: 'entry.protect', entry: leaf, prop: newUser(PageFlags.RW, 'WriteCombining') } as ModelEvent)
    out.push({ type: 'entry.protect', entry: leaf, mask: { clear: PageFlags.R, set: 0 } } as ModelEvent)
    out.push({ type: 'entry.protect', entry: leaf, mask: { clear: 0, set: 1 << 12 } } as ModelEvent)
  }
  // … and of a kernel leaf, an op that flips AVAIL1: the item would change trackedness (REQ-ENTRY-PROTECT-2)
  const kernelLeaf = tableKeys(s.pt.entries)
    .map((id) => entryContext(s, id))
    .find((ctx) => ctx?.view?.kind === 'frame' && ctx.node?.config === 'kernel')
  if (kernelLeaf != null) {
    const avail1 = (pteProp(kernelLeaf.cached).flags & PageFlags.AVAIL1) !== 0
    out.push({ type: 'entry.protect', entry: kernelLeaf.id, mask: avail1 ? { clear: PageFlags.AVAIL1, set: 0 } : { clear: 0, set: PageFlags.AVAIL1 } } as ModelEvent)
  }
  // alloc_if_none through an Entry four levels down (REQ-ENTRY-ALLOCIFNONE-4), split through an Entry of a root (REQ-ENTRY-SPLIT-3)
  for (const id of tableKeys(s.pt.entries)) {
    const ctx = entryContext(s, id)
    if (ctx?.view == null || ctx.node === null) continue
    if (pathLength(ctx.view.path) >= 4) out.push({ type: 'entry.alloc_if_none', entry: id } as ModelEvent)
    if (ctx.node.level === 4) out.push({ type: 'entry.split_if_mapped_huge', entry: id } as ModelEvent)
  }
  if (e.type === 'entry.replace' && f.entry !== undefined && f.child !== undefined) {
    // every other live child: of another level, positioned for another entry, or of another kind
    for (const c of tableKeys(s.pt.children)) if (c !== f.child) out.push({ ...e, child: c } as ModelEvent)
    // and each node child into each other live Entry (a node of another level: REQ-ENTRY-REPLACE-6's assert)
    for (const c of tableKeys(s.pt.children)) {
      if (tableGet(s.pt.children, c)!.kind !== 'PageTable') continue
      for (const x of tableKeys(s.pt.entries)) if (x !== f.entry) out.push({ ...e, entry: x, child: c } as ModelEvent)
    }
  }
  return out
}

/** The first reader / writer of `kind` in `vmIos` — of user space, or of kernel space, when `space` says. */
function firstVmIo(s: Snapshot, kind: 'Reader' | 'Writer', space?: 'user' | 'kernel'): number | undefined {
  return tableKeys(s.vmIos).find((id) => {
    const x = tableGet(s.vmIos, id)!
    return x.kind === kind && (space === undefined || (x.space.kind === 'user') === (space === 'user'))
  })
}

/**
 * Probes of VmSpace registration and of the owner's own steps (reader_writer.ts, owner.ts), before
 * a `vm_` event. They repeat across a history's positions: makeProbes keeps each event once per
 * refusing rule, at the first position that refuses it with that rule.
 */
function registrationProbes(s: Snapshot, e: ModelEvent): ModelEvent[] {
  const out: ModelEvent[] = []
  if (!/^vm_/.test(e.type)) return out
  // Registration (reader_writer.ts; no generated history probes it): the drop of a registered reader /
  // writer (REQ-VMIO-REGISTERED-1); register_* of every live user reader / writer — with its own space
  // (refused when registered, overlapping, unmapped or not activated) and with another live space
  // (REQ-HANDLE-1), unregister_* with another space too.
  const liveSpaces = tableKeys(s.vm.spaces).filter((id) => !tableGet(s.vm.spaces, id)!.dropped)
  tableForEach(s.vm.spaces, (sp) => {
    for (const reader of sp.readers) out.push({ type: 'vm_reader.drop', reader } as ModelEvent)
    for (const writer of sp.writers) out.push({ type: 'vm_writer.drop', writer } as ModelEvent)
  })
  tableForEach(s.vmIos, (x, id) => {
    if (x.space.kind !== 'user') return
    const kind = x.kind === 'Reader' ? 'reader' : 'writer'
    out.push({ type: `vm_space.register_${kind}`, vmSpace: x.space.vmSpace, [kind]: id } as unknown as ModelEvent)
    const other = liveSpaces.find((sid) => sid !== (x.space as { vmSpace: number }).vmSpace)
    if (other !== undefined) {
      out.push({ type: `vm_space.register_${kind}`, vmSpace: other, [kind]: id } as unknown as ModelEvent)
      out.push({ type: `vm_space.unregister_${kind}`, vmSpace: other, [kind]: id } as unknown as ModelEvent)
    }
  })
  // The owner's own steps (owner.ts; only ever run inside register / unregister): dispose_* into a space
  // that is not active (DISPOSE*-1) or of an unregistered one into the activated space (no view:
  // DISPOSE*-2), of a dead id, of the other kind or of a kernel reader / writer (REQ-HANDLE-1);
  // remove_* at the list's length (REMOVE*-2).
  const kernelIo = tableKeys(s.vmIos).find((id) => tableGet(s.vmIos, id)!.space.kind !== 'user')
  const userReader = firstVmIo(s, 'Reader', 'user')
  const userWriter = firstVmIo(s, 'Writer', 'user')
  for (const vmSpace of liveSpaces) {
    const sp = tableGet(s.vm.spaces, vmSpace)!
    for (const [kind, id, other] of [['reader', userReader, userWriter], ['writer', userWriter, userReader]] as const) {
      for (const x of [id, other, kernelIo, s.counters.vmIo]) if (x !== undefined) out.push({ type: `vm_space_owner.dispose_${kind}`, vmSpace, [kind]: x } as unknown as ModelEvent)
      out.push({ type: `vm_space_owner.remove_${kind}`, vmSpace, idx: (kind === 'reader' ? sp.owner.readers : sp.owner.writers).length } as unknown as ModelEvent)
    }
  }
  // Fallible copies between two user or two kernel entries (REQ-VMIO-FALLIBLE-1), collect / fill_zeros
  // on kernel ones (REQ-EMB-IOMETHOD-1), and a read-only VmSpace Cursor's flush calls (REQ-HANDLE-1's kind clause).
  for (const space of ['user', 'kernel'] as const) {
    const reader = firstVmIo(s, 'Reader', space)
    const writer = firstVmIo(s, 'Writer', space)
    if (reader !== undefined && writer !== undefined) out.push({ type: 'vm_reader.read_fallible', reader, writer } as ModelEvent, { type: 'vm_writer.write_fallible', writer, reader } as ModelEvent)
  }
  if (kernelIo !== undefined) {
    const x = tableGet(s.vmIos, kernelIo)!
    out.push(x.kind === 'Reader' ? ({ type: 'vm_reader.collect', reader: kernelIo } as ModelEvent) : ({ type: 'vm_writer.fill_zeros', writer: kernelIo, len: 1 } as ModelEvent))
  }
  tableForEach(s.vm.cursors, (c, cursor) => {
    if (c.flusher === null) out.push({ type: 'vm_cursor_mut.issue_tlb_flush', cursor, op: { kind: 'All' } } as ModelEvent, { type: 'vm_cursor_mut.dispatch_tlb_flush', cursor } as ModelEvent)
  })
  // create_* (the seed's constructors, else reached only through reader / writer): on a space that is
  // not the activated one (REQ-VMSPACE-CREATE*-1), at address 0, empty, or past MAX_USERSPACE_VADDR
  // (CREATE*-3), and over a registered reader / writer of the other kind (CREATE*-2), as reader / writer do too.
  for (const vmSpace of liveSpaces) {
    for (const kind of ['reader', 'writer']) {
      if (vmSpace !== s.vm.activated) {
        out.push({ type: `vm_space.create_${kind}`, vmSpace, va: 0x10000, len: 8 } as unknown as ModelEvent)
        continue
      }
      for (const [va, len] of [[0, 8], [0x10000, 0], [MAX_USERSPACE_VADDR - 8, 16]] as const) out.push({ type: `vm_space.create_${kind}`, vmSpace, va, len } as unknown as ModelEvent)
      const sp = tableGet(s.vm.spaces, vmSpace)!
      for (const o of kind === 'reader' ? sp.writers : sp.readers) {
        const va = tableGet(s.vmIos, o)?.owner?.range.start
        if (va === undefined) continue
        out.push({ type: `vm_space.create_${kind}`, vmSpace, va, len: 16 } as unknown as ModelEvent, { type: `vm_space.${kind}`, vmSpace, va, len: 16 } as unknown as ModelEvent)
      }
    }
  }
  return out
}

function vmProbes(s: Snapshot, e: ModelEvent): ModelEvent[] {
  const out: ModelEvent[] = []
  if (!/^vm_/.test(e.type)) return out
  const spaces = new Set<number>()
  tableForEach(s.vm.cursors, (c) => void spaces.add(c.vmSpace))
  tableForEach(s.vmIos, (x) => {
    if (x.space.kind === 'user') spaces.add(x.space.vmSpace)
  })
  for (const vmSpace of spaces) out.push({ type: 'vm_space.drop', vmSpace } as ModelEvent)
  const f = e as unknown as { reader?: number; writer?: number }
  if (f.reader !== undefined) {
    const w = firstVmIo(s, 'Writer')
    if (w !== undefined) out.push({ ...e, reader: w } as ModelEvent)
  }
  if (f.writer !== undefined) {
    const r = firstVmIo(s, 'Reader')
    if (r !== undefined) out.push({ ...e, writer: r } as ModelEvent)
  }
  // Every call of a reader / writer whose frame or segment was dropped while it lived (REQ-BORROW-1),
  // a copy's other end a live one of the other kind.
  const live = (kind: 'Reader' | 'Writer'): number | undefined => tableKeys(s.vmIos).find((id) => tableGet(s.vmIos, id)!.kind === kind && borrowFailure(s, tableGet(s.vmIos, id)!) === null)
  const userWriter = firstVmIo(s, 'Writer', 'user')
  const userReader = firstVmIo(s, 'Reader', 'user')
  tableForEach(s.vmIos, (x, id) => {
    if (borrowFailure(s, x) === null) return
    // the fallible copies too, with a user entry at the other end (REQ-VMIO-FALLIBLE-1 passes, REQ-BORROW-1 refuses)
    if (x.kind === 'Reader' && userWriter !== undefined) out.push({ type: 'vm_writer.write_fallible', writer: userWriter, reader: id } as ModelEvent, { type: 'vm_reader.read_fallible', reader: id, writer: userWriter } as ModelEvent)
    if (x.kind === 'Writer' && userReader !== undefined) out.push({ type: 'vm_reader.read_fallible', reader: userReader, writer: id } as ModelEvent, { type: 'vm_writer.write_fallible', writer: id, reader: userReader } as ModelEvent)
    if (x.kind === 'Reader') {
      const writer = live('Writer')
      out.push({ type: 'vm_reader.remain', reader: id } as ModelEvent, { type: 'vm_reader.skip', reader: id, n: 0 } as ModelEvent, { type: 'vm_reader.limit', reader: id, n: 0 } as ModelEvent)
      out.push({ type: 'vm_reader.read_val', reader: id, valType: 'u8' } as ModelEvent, { type: 'vm_reader.read_once', reader: id, valType: 'u8' } as ModelEvent)
      if (writer !== undefined) out.push({ type: 'vm_reader.read', reader: id, writer } as ModelEvent, { type: 'vm_writer.write', writer, reader: id } as ModelEvent)
    } else {
      const reader = live('Reader')
      out.push({ type: 'vm_writer.avail', writer: id } as ModelEvent, { type: 'vm_writer.skip', writer: id, n: 0 } as ModelEvent, { type: 'vm_writer.limit', writer: id, n: 0 } as ModelEvent)
      for (const type of ['vm_writer.write_val', 'vm_writer.write_once', 'vm_writer.fill']) out.push({ type, writer: id, valType: 'u8', value: 1 } as ModelEvent)
      if (reader !== undefined) out.push({ type: 'vm_reader.read', reader, writer: id } as ModelEvent, { type: 'vm_writer.write', writer: id, reader } as ModelEvent)
    }
  })
  return out
}

/** Values of `valType` that REQ-VMIO-VAL-1 refuses: malformed base64, out of range, the wrong JS type. */
const BAD_VALUES: ReadonlyArray<{ valType: unknown; value: unknown }> = [
  { valType: { size: 2 }, value: 'AA=A' },
  { valType: { size: 3 }, value: 'AAAA===' },
  { valType: { size: 3 }, value: 'AAAAA' },
  { valType: { size: 3 }, value: 'AAA!' },
  { valType: { size: 4 }, value: 5 },
  { valType: { size: 4 }, value: 'A' },
  { valType: { size: 4 }, value: 'AAAA' },
  { valType: 'u8', value: 256 },
  { valType: 'u8', value: '5' },
  { valType: 'u16', value: 1.5 },
  { valType: 'u64', value: -1 },
  { valType: 'u64', value: 2 ** 53 },
  { valType: 'u64', value: '-1' },
  { valType: 'u64', value: '1x' },
  { valType: 'u64', value: '18446744073709551616' },
]

/**
 * Before a value write: the same write of each of `BAD_VALUES` (REQ-VMIO-VAL-1), a `write_vals`
 * with one bad item and with `align: 3` (REQ-VMIO-WRITEVALS-1). Before a reader / writer call:
 * for the live reader / writer it names, the calls its asserts refuse when its cursor or length allows it — a `*_once`
 * of a struct (REQ-VMIO-PODONCE-1) and of a u32 (REQ-VMIO-ALIGN-1 at an unaligned cursor;
 * REQ-VMIO-INFALLIBLE-1 on a user reader / writer), a u32 `fill` (REQ-VMIO-FILL-1 when the space
 * left is not a multiple of 4), a `skip` one byte past the end (REQ-VMIO-SKIP-1).
 */
function ioProbes(s: Snapshot, e: ModelEvent): ModelEvent[] {
  const out: ModelEvent[] = []
  if (/\.(write_val|write_once)$/.test(e.type)) for (const bad of BAD_VALUES) out.push({ ...e, ...bad } as ModelEvent)
  if (/\.write_vals$/.test(e.type)) out.push({ ...e, valType: 'u8', values: [1, 256] } as ModelEvent, { ...e, align: 3 } as ModelEvent)
  const named = e as unknown as { reader?: number; writer?: number }
  for (const id of [named.reader, named.writer]) {
    const x = id === undefined ? null : tableGet(s.vmIos, id)
    if (x === null || id === undefined || borrowFailure(s, x) !== null) continue
    const left = x.end - x.cursor
    if (x.kind === 'Reader') {
      for (const valType of [{ size: 4 }, 'u32']) out.push({ type: 'vm_reader.read_once', reader: id, valType } as ModelEvent)
      out.push({ type: 'vm_reader.skip', reader: id, n: left + 1 } as ModelEvent)
    } else {
      for (const valType of [{ size: 4 }, 'u32']) out.push({ type: 'vm_writer.write_once', writer: id, valType, value: typeof valType === 'string' ? 1 : 'AAAAAA==' } as ModelEvent)
      out.push({ type: 'vm_writer.fill', writer: id, valType: 'u32', value: 1 } as ModelEvent, { type: 'vm_writer.skip', writer: id, n: left + 1 } as ModelEvent)
    }
  }
  return out
}

/**
 * Before every 4th event when it is a page-table node, entry or child call: `page_table_page_meta.on_drop` (internal-only) at
 * a free page, a Frame's page, inside a node's page (REQ-PTMETA-ONDROP-1), and at a node still
 * held — by its handle, by a Child, by its parent's PTE (REQ-PTMETA-ONDROP-6); `page_table_node_ref.
 * make_guard_unchecked` of a lock a guard holds (REQ-NODE-MKGUARD-2); `page_table_node.drop` of a
 * locked node (REQ-PTMETA-ONDROP-6, from its on_drop); with no free frame, a node allocation
 * (REQ-NODE-ALLOCMEM-1). Before a `page_table_node.alloc`: its ghost parent index past the node
 * (REQ-NODE-ALLOC-2), its parent inside a node's page or at a free page (REQ-NODE-ALLOC-4).
 */
function nodeProbes(s: Snapshot, e: ModelEvent, at: ProbeTargets): ModelEvent[] {
  const out: ModelEvent[] = []
  if (!/^(page_table|entry|child)/.test(e.type)) return out
  const page = pageSize(1)
  const onDrop = (paddr: number): ModelEvent => ({ type: 'page_table_page_meta.on_drop', paddr }) as ModelEvent
  const handle = tableKeys(s.pt.nodes)[0]
  const nodePaddr = handle === undefined ? undefined : tableGet(s.pt.nodes, handle)!.paddr
  if (at.freePage !== undefined) out.push(onDrop(at.freePage * page))
  if (at.sharedFrame !== undefined) out.push(onDrop(at.sharedFrame * page))
  if (nodePaddr !== undefined) out.push(onDrop(nodePaddr + 8), onDrop(nodePaddr))
  const childNode = tableKeys(s.pt.children).map((id) => tableGet(s.pt.children, id)!).find((c) => c.kind === 'PageTable')
  if (childNode?.kind === 'PageTable') out.push(onDrop(childNode.paddr))
  const installed = tableKeys(s.pt.owners).find((idx) => {
    const r = nodeOwnerAt(s, idx)!
    return r.path !== '' && !r.inScope
  })
  if (installed !== undefined) out.push(onDrop(installed * page))
  const guard = tableKeys(s.pt.guards)[0]
  if (guard !== undefined) out.push({ type: 'page_table_node_ref.make_guard_unchecked', paddr: tableGet(s.pt.guards, guard)!.paddr } as ModelEvent)
  const locked = tableKeys(s.pt.nodes).find((node) => tableGet(s.pt.locks, frameToIndex(tableGet(s.pt.nodes, node)!.paddr)) !== null)
  if (locked !== undefined) out.push({ type: 'page_table_node.drop', node: locked } as ModelEvent)
  if (pickFrame(s) === null) out.push({ type: 'page_table_node.alloc', level: 1, config: 'user' } as ModelEvent, { type: 'page_table.empty', config: 'user' } as ModelEvent)
  if (e.type === 'page_table_node.alloc') {
    out.push({ ...e, parentIdx: NR_ENTRIES } as ModelEvent)
    if (nodePaddr !== undefined) out.push({ ...e, parent: nodePaddr + 8 } as ModelEvent)
    if (at.freePage !== undefined) out.push({ ...e, parent: at.freePage * page } as ModelEvent)
  }
  return out
}

/**
 * Cursor probes where the state for them exists (script 1012 makes each): a creation refused
 * below its guard node — over two entries of the node above a live cursor's guard node, which the
 * live cursor holds; a creation whose descent would allocate a child of a node a live cursor
 * holds — the first page of an absent entry of its guard node; a creation over two root entries
 * of a table whose root a PageTableGuard holds (REQ-PTCURSOR-NEW-1, each); a kernel CursorMut one
 * page past LOCKED_END_BOUND (REQ-VMSPACE-CURSOR-1); `cursor.forget_guard` of a PageTableGuard of
 * another tree's node, of its own tree's node above its guard node, of one in the guard node's span
 * off its range (REQ-PTCURSOR-FORGET-1); `protect_next` clearing AVAIL1 of the tracked
 * leaf a kernel CursorMut is at (REQ-CURSORMUT-PROTECTNEXT-5); a live cursor's unaligned jump
 * (REQ-CURSOR-JUMP-3) and find_next / protect_next of length 1 (FINDNEXT-4 / PROTECTNEXT-4: an
 * unaligned length inside the range); a creation whose descent locks a stray-marked node of a live
 * tree (REQ-PTCURSOR-NEW-2; script 1013 makes it). Cursors of VmSpaces left out.
 * Each tagged with its kind and page table: makeProbes keeps one of each per history.
 */
function cursorProbes(s: Snapshot): Array<{ kind: string; event: ModelEvent }> {
  const out: Array<{ kind: string; event: ModelEvent }> = []
  const create = (pageTable: number, config: PtConfigName, start: number, end: number): ModelEvent => ({ type: 'page_table.cursor', pageTable, vaStart: fullVa(config, start), vaEnd: fullVa(config, end) }) as ModelEvent
  const topGuards = tableKeys(s.pt.guards).filter((g) => cursorOwningGuard(s, g) === null)
  tableForEach(s.pt.cursors, (c, id) => {
    const root = cursorRootSlot(s, c)
    const guardSlot = c.owner.continuations[c.guardLevel - 1]?.slot
    if (root === null || guardSlot === undefined || vmSpaceOwningTable(s, c.pageTable) !== null) return
    // over two entries of the node above the guard node: that node is the new guard node, the live cursor's guard node is below it
    if (c.guardLevel < NR_LEVELS) {
      const size = pageSize(c.guardLevel + 1)
      const b = alignDown(c.barrierVa.start, size)
      const d = descentOf(s, root, { start: b, end: b + 2 * size })
      if (d.missingAt === null && d.level > c.guardLevel) out.push({ kind: `belowGuard ${c.pageTable}`, event: create(c.pageTable, c.config, b, b + 2 * size) })
    }
    // the first page of an absent entry of the guard node, inside the cursor's range
    if (c.guardLevel > 1) {
      const nodeVa = guardNodeSpan(c).start
      const { start, end } = idxRange(c.guardLevel, nodeVa, c.barrierVa)
      for (let i = start; i < end; i++) {
        const va = Math.max(c.barrierVa.start, nodeVa + i * pageSize(c.guardLevel))
        const d = descentOf(s, root, { start: va, end: va + pageSize(1) })
        if (d.missingAt === null || d.slot !== guardSlot) continue
        out.push({ kind: `allocUnderHeld ${c.pageTable}`, event: create(c.pageTable, c.config, va, va + pageSize(1)) })
        break
      }
    }
    // a guard of a node of another tree, forgotten by this cursor
    const foreign = topGuards.find((g) => nodeOwnerAt(s, frameToIndex(tableGet(s.pt.guards, g)!.paddr))?.tree !== root)
    if (foreign !== undefined) out.push({ kind: `foreignGuard ${c.pageTable}`, event: { type: 'cursor.forget_guard', cursor: id, guard: foreign } as ModelEvent })
    // a guard of a node of this cursor's tree its range lock does not cover: above the guard node (starting before
    // it, or at its start), or in its span before or after the range
    const guardSpan = guardNodeSpan(c)
    for (const g of topGuards) {
      const r = nodeOwnerAt(s, frameToIndex(tableGet(s.pt.guards, g)!.paddr))
      if (r === null || r.tree !== root) continue
      const span = nodeSpan(r)
      const inGuardSpan = span.start >= guardSpan.start && span.end <= guardSpan.end
      const where = !inGuardSpan
        ? span.start < guardSpan.start
          ? 'Above'
          : 'AboveFromBase'
        : span.end <= c.barrierVa.start
          ? 'Before'
          : span.start >= c.barrierVa.end
            ? 'After'
            : null
      if (where !== null) out.push({ kind: `ownGuard${where} ${c.pageTable}`, event: { type: 'cursor.forget_guard', cursor: id, guard: g } as ModelEvent })
    }
    // an unaligned jump (REQ-CURSOR-JUMP-3; a hex address in the kernel); find_next / protect_next of an
    // unaligned length that stays inside the range (FINDNEXT-4 / PROTECTNEXT-4 by their first clause alone)
    out.push({ kind: `unalignedJump ${c.pageTable}`, event: { type: 'cursor.jump', cursor: id, va: fullVa(c.config, c.va + 1) } as ModelEvent })
    if (c.va + 1 <= c.barrierVa.end) {
      out.push({ kind: `unalignedFindNext ${c.kind} ${c.pageTable}`, event: { type: 'cursor.find_next', cursor: id, len: 1 } as ModelEvent })
      if (c.kind === 'CursorMut') out.push({ kind: `unalignedProtectNext ${c.pageTable}`, event: { type: 'cursor_mut.protect_next', cursor: id, len: 1, mask: { clear: PageFlags.W, set: 0 } } as ModelEvent })
    }
    // map's preconditions one clause at a time, each offered only where it alone fails: a property
    // without R or with a cache policy no PTE encodes (REQ-CURSORMUT-MAP-3); an item of the wrong
    // shape for the configuration (REQ-PTCURSOR-ITEM-1); an item above the guard level, above the
    // highest translation level, or running past the range end (REQ-CURSORMUT-MAP-5). (The events'
    // items are nested: the random nudges never reach them.)
    if (c.kind === 'CursorMut' && c.va < c.barrierVa.end) {
      const map = (item: Record<string, unknown>): ModelEvent => ({ type: 'cursor_mut.map', cursor: id, item }) as ModelEvent
      const raw = (level: number, prop = newUser(PageFlags.RW), pa = 0): ModelEvent => map({ pa, level, prop })
      const aligned = (level: number): boolean => c.va % pageSize(level) === 0
      const fits = (level: number): boolean => aligned(level) && c.va + pageSize(level) <= c.barrierVa.end
      const highest = ptConfig(c.config).highestTranslationLevel
      if (c.config === 'user') out.push({ kind: `mapRawOnUser ${c.pageTable}`, event: raw(1) })
      else {
        out.push({ kind: `mapNoRead ${c.pageTable}`, event: raw(1, newUser(PageFlags.W)) })
        out.push({ kind: `mapCache ${c.pageTable}`, event: raw(1, newUser(PageFlags.RW, 'WriteProtected')) })
        // a physical address off its page, and one whose page ends past MAX_PADDR (REQ-CURSORMUT-MAP-3)
        out.push({ kind: `mapPaUnaligned ${c.pageTable}`, event: raw(1, newUser(PageFlags.RW), pageSize(1) / 2) })
        out.push({ kind: `mapPaPastMax ${c.pageTable}`, event: raw(1, newUser(PageFlags.RW), MAX_PADDR) })
        const above = c.guardLevel + 1
        if (above <= highest && fits(above)) out.push({ kind: `mapAboveGuard ${c.pageTable}`, event: raw(above) })
        const tooHigh = highest + 1
        if (tooHigh <= c.guardLevel && fits(tooHigh)) out.push({ kind: `mapAboveHighest ${c.pageTable}`, event: raw(tooHigh) })
        const widest = Math.min(highest, c.guardLevel)
        if (widest >= 2 && aligned(widest) && !fits(widest)) out.push({ kind: `mapPastEnd ${c.pageTable}`, event: raw(widest) })
        const frame = tableKeys(s.frames)[0]
        if (c.config === 'untracked' && frame !== undefined) out.push({ kind: `mapFrameOnUntracked ${c.pageTable}`, event: map({ frame, prop: newUser(PageFlags.RW) }) })
      }
    }
    // take_next / unmap of an unaligned length inside the range (REQ-CURSORMUT-UNMAP-1 by its first clause alone)
    if (c.kind === 'CursorMut' && c.va + 1 <= c.barrierVa.end) {
      for (const type of ['cursor_mut.take_next', 'cursor_mut.unmap']) out.push({ kind: `unaligned ${type} ${c.pageTable}`, event: { type, cursor: id, len: 1 } as ModelEvent })
    }
    // protect_next over the rest of the range with an op a PTE cannot hold — R cleared, a cache policy no
    // PTE encodes (REQ-CURSORMUT-PROTECTNEXT-5) — where a leaf is at the cursor, and R cleared where the
    // first leaf of the window lies past the cursor (the op is judged on the leaf find_next stops at)
    if (c.kind === 'CursorMut' && c.va < c.barrierVa.end && root !== null) {
      const len = c.barrierVa.end - c.va
      const opts = { source: 'pte' as const, config: c.config }
      const at = mappingAt(s, root, c.va, opts)
      const later = at === null ? firstMappingFrom(s, root, c.va, c.barrierVa.end, opts) : null
      const protect = (op: Record<string, unknown>): ModelEvent => ({ type: 'cursor_mut.protect_next', cursor: id, len, ...op }) as ModelEvent
      if (at !== null) {
        out.push({ kind: `protectNoRead ${c.pageTable}`, event: protect({ mask: { clear: PageFlags.R, set: 0 } }) })
        out.push({ kind: `protectCache ${c.pageTable}`, event: protect({ prop: { ...at.property, cache: 'WriteProtected' } }) })
      } else if (later !== null) out.push({ kind: `protectNoReadLater ${c.pageTable}`, event: protect({ mask: { clear: PageFlags.R, set: 0 } }) })
    }
    // the tracked kernel leaf at the cursor made untracked
    if (c.config === 'kernel' && c.kind === 'CursorMut' && c.va < c.barrierVa.end) {
      const m = mappingAt(s, root, c.va, { source: 'pte', config: c.config })
      if (m !== null && (m.property.flags & PageFlags.AVAIL1) !== 0) out.push({ kind: `kernelAvail1 ${c.pageTable}`, event: { type: 'cursor_mut.protect_next', cursor: id, len: pageSize(1), mask: { clear: PageFlags.AVAIL1, set: 0 } } as ModelEvent })
    }
  })
  // a PageTableGuard on the root of a page table: a creation over its first two entries
  for (const g of topGuards) {
    const pageTable = handleOfRoot(s, frameToIndex(tableGet(s.pt.guards, g)!.paddr))
    const h = pageTable === null ? null : tableGet(s.pt.tables, pageTable)
    if (pageTable === null || h === null || vmSpaceOwningTable(s, pageTable) !== null) continue
    const start = managedViewRange(h.config).start
    out.push({ kind: `guardedRoot ${pageTable}`, event: create(pageTable, h.config, start, start + pageSize(NR_LEVELS) + pageSize(1)) })
  }
  // a node of a live page table's tree marked stray, no lock held: a creation over its first two entries, whose
  // descent locks it (REQ-PTCURSOR-NEW-2)
  for (const slot of tableKeys(s.pt.owners)) {
    const st = slotOf(s, slot).storage
    const r = st?.kind === 'PTNode' && st.stray ? nodeOwnerAt(s, slot) : null
    const pageTable = r === null ? null : handleOfRoot(s, r.tree)
    const h = pageTable === null ? null : tableGet(s.pt.tables, pageTable)
    if (r === null || pageTable === null || h === null || vmSpaceOwningTable(s, pageTable) !== null) continue
    const base = r.path === '' ? managedViewRange(h.config).start : r.path.split('.').reduce((va, idx, j) => va + Number(idx) * pageSize(NR_LEVELS - j), 0)
    const range = { start: base, end: base + pageSize(r.level) + pageSize(1) }
    if (strayLockTarget(s, r.tree, range) !== slot || blockingLock(s, r.tree, range) !== null) continue
    out.push({ kind: `strayDescent ${pageTable}`, event: create(pageTable, h.config, range.start, range.end) })
  }
  // a kernel CursorMut one page past LOCKED_END_BOUND
  tableForEach(s.pt.tables, (h, pageTable) => {
    if (h.config !== 'kernel') return
    const bound = ptConfig('kernel').lockedEndBound
    out.push({ kind: `pastLockedEnd ${pageTable}`, event: { type: 'page_table.cursor_mut', pageTable, vaStart: `0x${bound.toString(16)}`, vaEnd: `0x${(bound + BigInt(pageSize(1))).toString(16)}` } as ModelEvent })
  })
  return out
}

/** The first node slot some page-table cursor holds locked without a guard handle (`cursor.forget_guard`), if any. */
function heldWithoutGuard(s: Snapshot): number | undefined {
  for (const id of tableKeys(s.pt.cursors)) {
    const held = tableKeys(tableGet(s.pt.cursors, id)!.locked).find((slot) => tableGet(s.pt.locks, slot) === null)
    if (held !== undefined) return held
  }
  return undefined
}

function flushWithProbes(s: Snapshot, e: ModelEvent): ModelEvent[] {
  const out: ModelEvent[] = []
  // before a VmSpace CursorMut's call, while some flusher keeps a handle: this cursor keeps it too
  const kept = tableKeys(s.vm.cursors).flatMap((id) => tableGet(s.vm.cursors, id)!.flusher?.deferred ?? [])[0]
  const cursor = (e as unknown as { cursor?: number }).cursor
  if (kept !== undefined && e.type.startsWith('vm_cursor_mut.') && cursor !== undefined && tableGet(s.vm.cursors, cursor)?.kind === 'CursorMut') {
    out.push({ type: 'vm_cursor_mut.issue_tlb_flush_with', cursor, op: { kind: 'All' }, release: kept } as ModelEvent)
  }
  // a Frame a flusher keeps, dropped or cloned by its old owner (the frame layer's own handle check)
  if (/^(frame|vm_cursor_mut)\./.test(e.type)) {
    tableForEach(s.vm.cursors, (c) => {
      for (const d of c.flusher?.deferred ?? []) {
        if (d.kind === 'frame') out.push({ type: 'frame.drop', frame: d.handle } as ModelEvent, { type: 'frame.clone', frame: d.handle } as ModelEvent)
        // … and a PageTableNode a flusher keeps (a stray node of an unmap), dropped by its old owner
        else out.push({ type: 'page_table_node.drop', node: d.handle } as ModelEvent)
      }
    })
  }
  if (e.type !== 'vm_cursor_mut.issue_tlb_flush_with') return out
  const { release } = e as unknown as { release: { kind: 'frame' | 'node'; handle: number } }
  const live = (kind: 'frame' | 'node', id: number): boolean => (kind === 'frame' ? tableGet(s.frames, id) : tableGet(s.pt.nodes, id)) !== null
  const other = release.kind === 'frame' ? 'node' : 'frame'
  // the same id as the other kind of handle (a live frame id that names no node, or the reverse)
  if (!live(other, release.handle)) out.push({ ...e, release: { kind: other, handle: release.handle } } as ModelEvent)
  // this kind, with the id of a live handle of the other kind that names none of this kind
  const otherIds = other === 'frame' ? tableKeys(s.frames) : tableKeys(s.pt.nodes)
  const cross = otherIds.find((id) => !live(release.kind, id))
  if (cross !== undefined) out.push({ ...e, release: { kind: release.kind, handle: cross } } as ModelEvent)
  // the first id past every live handle of this kind
  const ids = release.kind === 'frame' ? tableKeys(s.frames) : tableKeys(s.pt.nodes)
  out.push({ ...e, release: { ...release, handle: Math.max(-1, ...ids) + 1 } } as ModelEvent)
  // a handle some flusher already holds
  tableForEach(s.vm.cursors, (c) => {
    for (const d of c.flusher?.deferred ?? []) out.push({ ...e, release: d } as ModelEvent)
  })
  return out
}

function segmentBoundProbes(s: Snapshot, e: ModelEvent): ModelEvent[] {
  const f = e as unknown as Record<string, number>
  const sized = (id: number): number | null => {
    const entry = tableGet(s.segments, id)
    return entry === null ? null : entry.endPaddr - entry.startPaddr
  }
  switch (e.type) {
    case 'segment.split': {
      const size = sized(f['segment']!)
      return size === null ? [] : [{ ...e, offset: f['offset']! + 1 }, { ...e, offset: 0 }, { ...e, offset: size }] as ModelEvent[]
    }
    case 'segment.slice': {
      const size = sized(f['segment']!)
      return size === null ? [] : [{ ...e, start: f['start']! + 1 }, { ...e, end: f['end']! + 1 }, { ...e, end: f['start']! }, { ...e, end: size + pageSize(1) }, { ...e, end: f['end']! - 1 }] as ModelEvent[]
    }
    case 'segment.from_unused':
      return [{ ...e, endPaddr: f['startPaddr']! }] as ModelEvent[]
    case 'frame_alloc.alloc_segment':
      return [{ ...e, nframes: MAX_SEGMENT_FRAMES_EXCLUSIVE, meta: UNIT_META }] as ModelEvent[]
    default:
      return []
  }
}

/** The physical-address fields of `e` (`paddr`, `…Paddr`) that hold a number. */
function paddrKeys(e: ModelEvent): string[] {
  return Object.keys(e).filter((k) => /^paddr$|Paddr$/.test(k) && typeof (e as unknown as Record<string, unknown>)[k] === 'number')
}

/**
 * Slots the targeted probes aim at (the first of each kind): a forgotten reference (`raw_count > 0`)
 * of a unique frame and of a shared one; a shared `Frame`; a unique frame linked into a list; a
 * free page (UNUSED, not MMIO); a slot a `UniqueFrameOwner` holds.
 */
interface ProbeTargets {
  readonly forgottenUnique?: number
  readonly forgottenShared?: number
  readonly sharedFrame?: number
  readonly listedUnique?: number
  readonly freePage?: number
  readonly uniqueHeld?: number
}

function probeTargets(s: Snapshot): ProbeTargets {
  const out: { -readonly [K in keyof ProbeTargets]: ProbeTargets[K] } = {}
  for (let idx = 0; idx < s.nrFrames; idx++) {
    const owner = ownerOf(s, idx)
    const { refCount: rc, inList } = owner.innerPerms
    if (owner.rawCount > 0) {
      if (rc === REF_COUNT_UNIQUE) out.forgottenUnique ??= idx
      else if (rc > 0) out.forgottenShared ??= idx
    }
    if (rc > 0 && owner.usage === PageUsage.Frame) out.sharedFrame ??= idx
    if (rc === REF_COUNT_UNIQUE && inList !== 0) out.listedUnique ??= idx
    if (rc === REF_COUNT_UNUSED && owner.usage !== PageUsage.MMIO) out.freePage ??= idx
    if (uniqueOwnerOf(s, idx) !== null) out.uniqueHeld ??= idx
  }
  return out
}

/**
 * Seeds and length of the fixed set. Chosen once (QUALITY.md): of seeds 1..40 at 120 events, a
 * greedy pick of new event types per millisecond of incremental replay, within ~4.5 s, starting
 * from seed 25 (2 MiB and 1 GiB maps, huge-leaf splits); then seeds 10 and 36, the cheapest with
 * `vm_cursor_mut.issue_tlb_flush_with` / `vm_writer.write_fallible`. (The generator has changed
 * since; `EXTRA_FIXTURES` adds histories for the types and paths these no longer reach.)
 */
export const FIXTURE_SEEDS: readonly number[] = [25, 11, 35, 17, 40, 18, 37, 7, 3, 4, 10, 36]
export const FIXTURE_OPS = 120

export const FIXTURES_FILE = new URL('./fixtures.json', import.meta.url)

/**
 * What a history exercises, by replaying it (unchecked): pages mapped by `cursor_mut.map` with an
 * `Ok` result, by size (`4K`, `2M`, `1G`), huge leaves split (`split`: internal
 * `entry.split_if_mapped_huge` steps that made a node) and the event types.
 */
export function exercised(events: readonly ModelEvent[], physicalMemory = PHYSICAL_MEMORY, mmioRanges: ReadonlyArray<readonly [number, number]> = []): Exercised {
  const mapped: Record<string, number> = { '4K': 0, '2M': 0, '1G': 0 }
  let split = 0
  const paths = noPaths()
  const h = new History({ check: 'off', physicalMemory, mmioRanges })
  for (const e of events) {
    const pre = h.state
    const step = h.dispatch(e)
    const r = step.result as { ok?: boolean; error?: unknown; kind?: unknown } | number | null
    if (e.type === 'cursor_mut.take_next' && typeof r === 'object' && r?.kind === 'StrayPageTable') paths.stray++
    if (e.type === 'cursor_mut.unmap' && typeof r === 'number' && r >= 2) paths.multiUnmap++
    // an unmap's own steps (depth 1): a stray sub-tree's node dropped; any depth: a stray
    // sub-tree above level 1, which the DFS marking it stray descends into
    const inner = e.type === 'cursor_mut.unmap' || e.type === 'cursor_mut.take_next' ? internalSteps(step) : []
    if (e.type === 'cursor_mut.unmap' && inner.some((x) => x.path.length === 1 && x.step.event.type === 'page_table_node.drop')) paths.strayUnmap++
    const takes = [{ event: e, result: step.result }, ...inner.map((x) => x.step)].filter((x) => x.event.type === 'cursor_mut.take_next')
    if (takes.some((x) => (x.result as { kind?: string; len?: number } | null)?.kind === 'StrayPageTable' && (x.result as { len: number }).len > pageSize(2))) paths.nestedStray++
    if (e.type === 'cursor_mut.unmap' && inner.some((x) => x.path.length === 1 && x.step.event.type === 'frame.drop')) paths.trackedUnmap++
    for (const t of [{ event: e, result: step.result, before: pre }, ...inner.map((x) => x.step)]) {
      const frag = t.result as { kind?: string; item?: { frame?: number; prop?: { flags: number } } } | null
      if (t.event.type === 'cursor_mut.take_next' && frag?.kind === 'Mapped' && ((frag.item?.prop?.flags ?? 0) & PageFlags.AVAIL1) !== 0 && tableGet(t.before.pt.cursors, num(t.event, 'cursor'))?.config === 'untracked') paths.avail1Take++
      if (t.event.type !== 'cursor_mut.take_next' || frag?.kind !== 'Mapped' || frag.item?.frame === undefined) continue
      // the taken frame's slot still holds another path afterwards: it was mapped twice
      if (ownerOf(step.after, frameToIndex(tableGet(step.after.frames, frag.item.frame)?.paddr ?? 0)).pathsInPt.length > 0) paths.aliasTake++
      if (tableGet(t.before.pt.cursors, num(t.event, 'cursor'))?.config === 'kernel') paths.kernelTake++
    }
    if (e.type === 'cursor_mut.map' && ((e as unknown as { item: { level?: number } }).item.level ?? 1) > (tableGet(pre.pt.cursors, num(e, 'cursor'))?.level ?? 4)) paths.popUp++
    if (e.type === 'cursor_mut.map') {
      const item = (e as unknown as { item: { frame?: number; prop: { flags: number } } }).item
      const c = tableGet(pre.pt.cursors, num(e, 'cursor'))!
      if (c.config === 'untracked' && (item.prop.flags & PageFlags.AVAIL1) !== 0) paths.untrackedAvail1++
      const root = item.frame === undefined ? null : cursorRootSlot(pre, c)
      const m = root === null ? null : mappingAt(pre, root, c.va, { source: 'ghost', config: c.config })
      if (m !== null && m.paRange.start === tableGet(pre.frames, item.frame!)?.paddr) paths.mapSelf++
    }
    if (e.type === 'frame_alloc.alloc_frame' && typeof r === 'object' && r?.ok === false) paths.allocNoMemory++
    // a segment of several frames below the never-used mark: the allocator's lowest-free-run fallback
    if (e.type === 'frame_alloc.alloc_segment' && num(e, 'nframes') > 1 && typeof r === 'object' && r?.ok === true) {
      const seg = tableGet(step.after.segments, (r as unknown as { value: { segment: number } }).value.segment)!
      if (frameToIndex(seg.startPaddr) < pre.allocator.bumpIndex) paths.allocFallback++
    }
    // a reader / writer call while some reader / writer's frame or segment is gone (vmProbes offers its calls)
    if (/^vm_(reader|writer)\./.test(e.type) && tableKeys(pre.vmIos).some((id) => borrowFailure(pre, tableGet(pre.vmIos, id)!) !== null)) paths.endedBorrow++
    if (e.type === 'vm_cursor_mut.unmap' && typeof r === 'number') paths.vmUnmapPages += r
    if (step.after.vm.tlb.mappings.length < pre.vm.tlb.mappings.length && /^vm_cursor_mut\.(map|unmap|dispatch_tlb_flush|sync_tlb_flush)$/.test(e.type)) paths.tlbFlushed++
    const vmInner = e.type === 'vm_cursor_mut.map' || e.type === 'vm_cursor_mut.unmap' ? internalSteps(step) : []
    if (e.type === 'vm_cursor_mut.map' && vmInner.some((x) => x.step.event.type === 'vm_cursor_mut.issue_tlb_flush_with')) paths.vmMapOver++
    if (vmInner.some((x) => x.step.event.type === 'vm_cursor_mut.issue_tlb_flush_with' && (x.step.event as unknown as { release: { kind: string } }).release.kind === 'node')) paths.vmStrayUnmap++
    if (e.type === 'child.drop' && internalSteps(step).some((x) => x.path.length === 1 && x.step.event.type === 'frame.drop')) paths.trackedChildDrop++
    if (e.type === 'entry.replace') {
      // a node child whose sub-tree has entries of its own (its records and paths are rebased)
      const c = tableGet(pre.pt.children, num(e, 'child'))
      const rec = c?.kind === 'PageTable' ? nodeOwnerAt(pre, frameToIndex(c.paddr)) : null
      if (rec !== null && tableKeys(rec.children).some((i) => tableGet(rec.children, i)!.kind === 'node')) paths.subtreeRebase++
    }
    if (e.type === 'child.drop') {
      const child = num(e, 'child')
      const owner = tableGet(pre.pt.childOwners, child)
      // the child's tree is gone (its root record dropped while the child lived)
      if (owner !== null && nodeOwnerAt(pre, owner.tree) === null) paths.orphanChildDrop++
      // a tracked Child::Frame whose frame's slot records another path too
      const c = tableGet(pre.pt.children, child)
      if (c?.kind === 'Frame' && c.config !== 'untracked' && ownerOf(pre, frameToIndex(c.paddr)).pathsInPt.length >= 2) paths.aliasChildDrop++
    }
    if (e.type === 'linked_list.drop' && internalSteps(step).some((x) => x.step.event.type === 'linked_list.cursor_mut.take_current')) paths.listDrop++
    if (e.type === 'meta_slot.get_from_unused' && typeof r === 'object' && r?.ok === false && r.error === 'InUse' && isMmioPaddr(pre.config, num(e, 'paddr'))) paths.mmioClaim++
    if (e.type === 'frame.from_in_use' && typeof r === 'object' && r?.ok === false && r.error === 'InUse' && tableGet(pre.pt.owners, Math.floor(num(e, 'paddr') / pageSize(1))) !== null) paths.nodeInUse++
    if (e.type === 'cursor_mut.map' && (step.result as { ok?: boolean }).ok === true) {
      const item = (e as unknown as { item: { level?: number } }).item
      const k = ['4K', '2M', '1G'][(item.level ?? 1) - 1]!
      mapped[k] = mapped[k]! + 1
    }
    for (const { step: st } of internalSteps(step)) if (st.event.type === 'entry.split_if_mapped_huge' && st.result !== null) split++
  }
  return { mapped, split, paths, types: new Set(events.map((e) => e.type)) }
}

/** Rare paths make_fixtures.ts requires the set to take (see `EXTRA_FIXTURES`). */
export type ExercisedPath = (typeof EXERCISED_PATHS)[number]
const EXERCISED_PATHS = ['stray', 'multiUnmap', 'allocNoMemory', 'nodeInUse', 'strayUnmap', 'nestedStray', 'trackedUnmap', 'aliasTake', 'kernelTake', 'popUp', 'mapSelf', 'untrackedAvail1', 'avail1Take', 'mmioClaim', 'listDrop', 'vmUnmapPages', 'tlbFlushed', 'vmMapOver', 'vmStrayUnmap', 'trackedChildDrop', 'orphanChildDrop', 'aliasChildDrop', 'subtreeRebase', 'allocFallback', 'endedBorrow'] as const

/** Every rare path at a count of 0. */
export function noPaths(): Record<ExercisedPath, number> {
  return Object.fromEntries(EXERCISED_PATHS.map((k) => [k, 0])) as Record<ExercisedPath, number>
}

export interface Exercised {
  readonly mapped: Record<string, number>
  readonly split: number
  readonly paths: Record<ExercisedPath, number>
  readonly types: Set<string>
}

function num(e: ModelEvent, key: string): number {
  return (e as unknown as Record<string, number>)[key]!
}
