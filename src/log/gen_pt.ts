/**
 * Generator operations of the page-table node and entry layer (issue 3): page tables and detached
 * nodes, locks and guards, entries, `Child` values, `Entry::replace` / `protect`, drops.
 *
 * Each operation picks its arguments from the live handles of the snapshot (small tables: the
 * generator keeps them bounded by `PT_CAPS`) and aims at the interesting cases — entries at a few
 * low indices so that replaces, protects and queries meet what earlier steps installed; children
 * positioned for a live entry and of the level `replace` accepts — and then passes the candidate
 * through `admissible`: the event's own preconditions and reduction (`applyCall`, as a dispatched call). The page-table
 * preconditions are structural predicates over the owner tree (REQ-ENTRY-REPLACE-1..6,
 * REQ-CHILD-FROMFRAME-1, REQ-NODE-LOCK-2 …) that a hand-written copy here would only duplicate; a
 * candidate the model refuses is dropped, so every proposed event is valid.
 */
import { PAGE_SIZE, pageSize } from '../arch/constants.js'
import { newUser, PageFlags, type PageProperty } from '../arch/page_prop.js'
import { ptConfig, type PtConfigName } from '../arch/pt_config.js'
import type { ModelEvent } from '../../reducers/index.js'
import type { Snapshot } from '../model/snapshot.js'
import { childPath } from '../model/spec/page_table.js'
import { handleOfRoot } from '../model/pt_tables.js'
import { tableGet, tableKeys } from '../model/table.js'
import type { GenIndex, Op, Rng } from './gen.js'
import { op, room } from './gen_checked.js'

/** Soft caps on live page-table handles (see `CAPS` in gen.ts for the frame layer). */
export const PT_CAPS = {
  /** Node records (all trees, installed or not). */
  nodes: 24,
  guards: 8,
  entries: 6,
  children: 8,
} as const

const PROPS: readonly PageProperty[] = [newUser(PageFlags.RW), newUser(PageFlags.RX), newUser(PageFlags.R, 'Uncacheable'), newUser(PageFlags.RWX, 'Writethrough')]
const CONFIGS: readonly PtConfigName[] = ['user', 'untracked']



function pickKey(rng: Rng, keys: readonly number[]): number | undefined {
  return rng.pick(keys)
}

/** An entry index: mostly one of the first eight, so later steps meet what earlier ones installed. */
function entryIdx(rng: Rng): number {
  return rng.chance(0.9) ? rng.int(8) : rng.int(512)
}


/** The tree position of entry `idx` of the node at `slot` (`{ tree, path, parentLevel }`). */
function positionAt(s: Snapshot, slot: number, idx: number): { tree: number; path: string; parentLevel: number; config: PtConfigName } | null {
  const r = tableGet(s.pt.owners, slot)
  return r === null ? null : { tree: r.tree, path: childPath(r.path, idx), parentLevel: r.level, config: r.config }
}

/** A live entry handle and where it is: the node slot and level of its guard. */
function liveEntry(s: Snapshot, rng: Rng): { entry: number; slot: number; idx: number } | null {
  const entry = pickKey(rng, tableKeys(s.pt.entries))
  if (entry === undefined) return null
  const h = tableGet(s.pt.entries, entry)!
  const g = tableGet(s.pt.guards, h.guard)
  return g === null ? null : { entry, slot: g.paddr / PAGE_SIZE, idx: h.idx }
}

/** A child for the entry `at` of a live entry handle: absent, a frame / untracked leaf, or a new node's subtree. */
function childFor(s: Snapshot, rng: Rng, g: GenIndex): ModelEvent | null {
  const at = liveEntry(s, rng)
  if (at === null) return null
  const pos = positionAt(s, at.slot, at.idx)
  if (pos === null) return null
  const { tree, path, parentLevel } = pos
  switch (rng.int(3)) {
    case 0:
      return { type: 'child.none', tree, path, parentLevel }
    case 1: {
      if (pos.config === 'untracked') {
        const level = 1 + rng.int(Math.min(parentLevel, 3))
        const size = pageSize(level)
        const pa = size * rng.int(Math.max(1, Math.floor(s.config.physicalMemory / size)))
        return { type: 'child.untracked', paddr: pa, level, prop: rng.pick(PROPS)!, tree, path }
      }
      const frame = g.frames.pick(rng)
      return frame === undefined ? null : { type: 'child.from_frame', frame, prop: rng.pick(PROPS)!, tree, path, parentLevel }
    }
    default: {
      // A detached node of the level below, moved into a Child::PageTable.
      const level = parentLevel - 1
      const node = tableKeys(s.pt.nodes).find((id) => {
        const rec = tableGet(s.pt.owners, tableGet(s.pt.nodes, id)!.paddr / PAGE_SIZE)
        return rec !== null && rec.inScope && rec.level === level && rec.config === pos.config
      })
      return node === undefined ? null : { type: 'child.from_node', node }
    }
  }
}

/** The page-table operations and their weights. */
export const PT_OPS: Record<string, Op> = {
  empty: op(1, (s, rng) => (room(rng, s.pt.owners.count, PT_CAPS.nodes) ? { type: 'page_table.empty', config: rng.pick(CONFIGS)! } : null)),
  alloc: op(3, (s, rng) =>
    room(rng, s.pt.owners.count, PT_CAPS.nodes) ? { type: 'page_table_node.alloc', level: 1 + rng.int(3), config: rng.pick(CONFIGS)! } : null,
  ),
  level: op(1, (s, rng) => {
    const node = pickKey(rng, tableKeys(s.pt.nodes))
    return node === undefined ? null : { type: 'page_table_node.level', node }
  }),
  nodeDrop: op(1, (s, rng) => {
    const node = pickKey(rng, tableKeys(s.pt.nodes))
    return node === undefined ? null : { type: 'page_table_node.drop', node }
  }),
  lock: op(4, (s, rng) => {
    if (!room(rng, s.pt.guards.count, PT_CAPS.guards)) return null
    // The raw entry layer works on trees that are not `PageTable` objects: those belong to their
    // cursors (OSTD's Entry is crate-private; a raw replace above a cursor's guard node would pull
    // its sub-tree away under it).
    const slot = pickKey(rng, tableKeys(s.pt.owners).filter((k) => tableGet(s.pt.locks, k) === null && handleOfRoot(s, tableGet(s.pt.owners, k)!.tree) === null))
    return slot === undefined ? null : { type: 'page_table_node_ref.lock', paddr: slot * PAGE_SIZE }
  }),
  guardDrop: op(2, (s, rng) => {
    const guard = pickKey(rng, tableKeys(s.pt.guards))
    return guard === undefined ? null : { type: 'page_table_guard.drop', guard }
  }),
  guardQuery: op(2, (s, rng) => {
    const guard = pickKey(rng, tableKeys(s.pt.guards))
    if (guard === undefined) return null
    const kind = rng.int(4)
    if (kind === 0) return { type: 'page_table_guard.nr_children', guard }
    if (kind === 1) return { type: 'page_table_guard.stray_mut', guard }
    if (kind === 2) return { type: 'page_table_guard.nr_children_mut', guard }
    return { type: 'page_table_guard.read_pte', guard, idx: entryIdx(rng) }
  }),
  entry: op(8, (s, rng) => {
    if (!room(rng, s.pt.entries.count, PT_CAPS.entries)) return null
    const guard = pickKey(rng, tableKeys(s.pt.guards))
    if (guard === undefined) return null
    // A page table's root manages only TOP_LEVEL_INDEX_RANGE: a raw replace outside it breaks
    // INV-TREE-4 (the cursor, not Entry, keeps it), so the generator stays inside.
    const rec = tableGet(s.pt.owners, tableGet(s.pt.guards, guard)!.paddr / PAGE_SIZE)
    const [lo, hi] = rec !== null && rec.path === '' && !rec.inScope ? ptConfig(rec.config).topLevelIndexRange : [0, 512]
    const idx = Math.min(hi - 1, lo + entryIdx(rng))
    return { type: rng.chance(0.85) ? 'page_table_guard.entry' : 'entry.new_at', guard, idx }
  }),
  entryDrop: op(3, (s, rng) => {
    const entry = pickKey(rng, tableKeys(s.pt.entries))
    return entry === undefined ? null : { type: 'entry.drop', entry }
  }),
  entryQuery: op(3, (s, rng) => {
    const entry = pickKey(rng, tableKeys(s.pt.entries))
    if (entry === undefined) return null
    return { type: rng.pick(['entry.is_none', 'entry.is_node', 'entry.to_ref'] as const)!, entry }
  }),
  protect: op(3, (s, rng) => {
    const entry = pickKey(rng, tableKeys(s.pt.entries))
    return entry === undefined ? null : { type: 'entry.protect', entry, prop: rng.pick(PROPS)! }
  }),
  child: op(8, (s, rng, g) => (room(rng, s.pt.children.count, PT_CAPS.children) ? childFor(s, rng, g) : null)),
  replace: op(10, (s, rng) => {
    const at = liveEntry(s, rng)
    if (at === null) return null
    const pos = positionAt(s, at.slot, at.idx)
    if (pos === null) return null
    // Prefer a child positioned for this entry (frame / absent) or a node child of the level below.
    const children = tableKeys(s.pt.children)
    const fits = children.filter((id) => {
      const owner = tableGet(s.pt.childOwners, id)
      if (owner !== null) return owner.tree === pos.tree && owner.path === pos.path
      const c = tableGet(s.pt.children, id)!
      return c.kind === 'PageTable' && tableGet(s.pt.owners, c.paddr / PAGE_SIZE)?.level === pos.parentLevel - 1
    })
    const child = rng.pick(fits.length > 0 ? fits : children)
    return child === undefined ? null : { type: 'entry.replace', entry: at.entry, child }
  }),
  allocIfNone: op(2, (s, rng) => {
    if (!room(rng, s.pt.guards.count, PT_CAPS.guards)) return null
    const at = liveEntry(s, rng)
    return at === null ? null : { type: 'entry.alloc_if_none', entry: at.entry }
  }),
  // Huge leaves come from untracked items (a tracked Frame is 4 KiB): most entries give None.
  split: op(2, (s, rng) => {
    if (!room(rng, s.pt.guards.count, PT_CAPS.guards)) return null
    const at = liveEntry(s, rng)
    return at === null ? null : { type: 'entry.split_if_mapped_huge', entry: at.entry }
  }),
  childDrop: op(4, (s, rng) => {
    const child = pickKey(rng, tableKeys(s.pt.children))
    return child === undefined ? null : { type: 'child.drop', child }
  }),
}

/** A virtual address: mostly in the first 4 MiB (where earlier maps are), sometimes anywhere in the lower half. */
function vaddr(rng: Rng): number {
  return rng.chance(0.8) ? PAGE_SIZE * rng.int(1024) + (rng.chance(0.2) ? rng.int(PAGE_SIZE) : 0) : PAGE_SIZE * rng.int(2 ** 35)
}

/** `PageTable` objects (user without the kernel half, untracked) and the boot page table. */
export const PAGE_TABLE_OPS: Record<string, Op> = {
  tableNew: op(1, (s, rng) => (room(rng, s.pt.tables.count, 4) ? { type: 'page_table.new', config: rng.pick(CONFIGS)! } : null)),
  tableDrop: op(1, (s, rng) => {
    const pageTable = pickKey(rng, tableKeys(s.pt.tables))
    return pageTable === undefined ? null : { type: 'page_table.drop', pageTable }
  }),
  tableWalk: op(2, (s, rng) => {
    const pageTable = pickKey(rng, tableKeys(s.pt.tables))
    return pageTable === undefined ? null : { type: 'page_table.page_walk', pageTable, va: vaddr(rng) }
  }),
  bootNew: op(1, (s) => (s.pt.boot === null ? { type: 'boot_page_table.new' } : null)),
  bootMap: op(3, (s, rng) =>
    s.pt.boot === null ? null : { type: 'boot_page_table.map_base_page', va: PAGE_SIZE * rng.int(64), frameNumber: rng.int(s.nrFrames), prop: rng.pick(PROPS)! },
  ),
  bootProtect: op(2, (s, rng) => (s.pt.boot === null ? null : { type: 'boot_page_table.protect_base_page', va: PAGE_SIZE * rng.int(64), prop: rng.pick(PROPS)! })),
  bootWalk: op(1, (s, rng) => (s.pt.boot === null ? null : { type: 'boot_page_table.page_walk', va: vaddr(rng) })),
  bootDrop: op(1, (s, rng) => (s.pt.boot !== null && rng.chance(0.2) ? { type: 'boot_page_table.drop' } : null)),
}

/** A cursor range in the first 8 MiB: mostly aligned, a few empty or unaligned (Err results). */
function cursorRange(rng: Rng): { vaStart: number; vaEnd: number } {
  const start = PAGE_SIZE * rng.int(2048)
  const len = rng.chance(0.3) ? 0x20_0000 * (1 + rng.int(2)) : PAGE_SIZE * rng.int(64)
  const jitter = rng.chance(0.05) ? 1 + rng.int(PAGE_SIZE - 1) : 0
  return { vaStart: start, vaEnd: start + len + jitter }
}

/** A live cursor id (of `kind`, when given). */
function liveCursor(s: Snapshot, rng: Rng, kind?: 'Cursor' | 'CursorMut'): number | undefined {
  const ids = tableKeys(s.pt.cursors)
  return rng.pick(kind === undefined ? ids : ids.filter((id) => tableGet(s.pt.cursors, id)!.kind === kind))
}

/** Page-table cursors (`Cursor`, `CursorMut`) over the `PageTable` objects. */
export const CURSOR_OPS: Record<string, Op> = {
  cursorNew: op(3, (s, rng) => {
    if (!room(rng, s.pt.cursors.count, 3)) return null
    const pageTable = pickKey(rng, tableKeys(s.pt.tables))
    return pageTable === undefined ? null : { type: rng.chance(0.7) ? 'page_table.cursor_mut' : 'page_table.cursor', pageTable, ...cursorRange(rng) }
  }),
  cursorDrop: op(2, (s, rng) => {
    const cursor = liveCursor(s, rng)
    return cursor === undefined ? null : { type: 'cursor.drop', cursor }
  }),
  cursorRead: op(4, (s, rng) => {
    const cursor = liveCursor(s, rng)
    if (cursor === undefined) return null
    return { type: rng.pick(['cursor.virt_addr', 'cursor.query', 'cursor.next'] as const)!, cursor }
  }),
  cursorJump: op(2, (s, rng) => {
    const cursor = liveCursor(s, rng)
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    const span = Math.max(1, (c.barrierVa.end - c.barrierVa.start) / PAGE_SIZE)
    return { type: 'cursor.jump', cursor, va: c.barrierVa.start + PAGE_SIZE * (rng.int(span + 1)) }
  }),
  cursorFindNext: op(2, (s, rng) => {
    const cursor = liveCursor(s, rng)
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    const room = Math.max(0, Math.floor((c.barrierVa.end - c.va) / PAGE_SIZE))
    return { type: 'cursor.find_next', cursor, len: PAGE_SIZE * rng.int(room + 1) }
  }),
  cursorMap: op(6, (s, rng, g) => {
    const cursor = liveCursor(s, rng, 'CursorMut')
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    if (c.config === 'untracked') {
      const level = rng.chance(0.8) ? 1 : 2
      const size = pageSize(level)
      return { type: 'cursor_mut.map', cursor, item: { pa: size * rng.int(Math.floor(s.config.physicalMemory / size)), level, prop: rng.pick(PROPS)! } }
    }
    const frame = g.frames.pick(rng)
    return frame === undefined ? null : { type: 'cursor_mut.map', cursor, item: { frame, prop: rng.pick(PROPS)! } }
  }),
  // take_next / protect_next / unmap: windows of a few pages (a huge leaf partly inside is split);
  // take_next sometimes over the rest of the range, to take whole sub-trees (StrayPageTable).
  // unmap stays short: every fragment is a take_next step the full-mode oracle checks.
  cursorTakeNext: op(3, (s, rng) => {
    const w = cursorWindow(s, rng, 0.4)
    return w === null ? null : { type: 'cursor_mut.take_next', ...w }
  }),
  cursorProtectNext: op(3, (s, rng) => {
    const w = cursorWindow(s, rng, 0.05)
    if (w === null) return null
    const mask = { clear: rng.pick([0, PageFlags.W, PageFlags.X])!, set: rng.pick([0, PageFlags.W, PageFlags.X, PageFlags.ACCESSED])! }
    return rng.chance(0.5) ? { type: 'cursor_mut.protect_next', ...w, prop: rng.pick(PROPS)! } : { type: 'cursor_mut.protect_next', ...w, mask }
  }),
  cursorUnmap: op(2, (s, rng) => {
    const w = cursorWindow(s, rng, 0)
    return w === null ? null : { type: 'cursor_mut.unmap', ...w }
  }),
}

/** A live CursorMut and a window from its address: up to 16 pages, or (with probability `whole`) the rest of its range. */
function cursorWindow(s: Snapshot, rng: Rng, whole: number): { cursor: number; len: number } | null {
  const cursor = liveCursor(s, rng, 'CursorMut')
  if (cursor === undefined) return null
  const c = tableGet(s.pt.cursors, cursor)!
  const room = Math.max(0, Math.floor((c.barrierVa.end - c.va) / PAGE_SIZE))
  return { cursor, len: PAGE_SIZE * (rng.chance(whole) ? room : rng.int(Math.min(room, 16) + 1)) }
}

/** Page-table event types the generators never propose at top level, and why. */
export const PT_EXCLUDED_EVENT_TYPES: Readonly<Record<string, string>> = {
  'page_table_page_meta.on_drop': 'the teardown of a node inside the drop of its last reference (an internal step of page_table_node.drop / child.drop)',
  'page_table_guard.write_pte':
    'a raw PTE store (unsafe): valid only inside Entry::replace / protect, which update the owner tree with it (it appears as their internal step)',
  'page_table_guard.nr_children_mut.write': 'a raw counter store: valid only inside Entry::replace, which keeps nr_children exact (its internal step)',
  'page_table_guard.stray_mut.write': 'a raw stray-flag store: OSTD sets it only when a cursor detaches a sub-tree (issue 4)',
  'child.from_pte': 'mints a Child from a PTE word without clearing the PTE: valid only inside Entry::replace (its internal step)',
  'child.into_pte': 'consumes a Child into a PTE word: valid only inside Entry::replace, which stores the word (its internal step)',
  'child_ref.from_pte': 'a borrowed view of a PTE: the internal step of Entry::to_ref',
  'page_table.new_kernel':
    'a kernel page table pre-allocates its 256 level-3 nodes (about 3,100 internal steps): the full-mode oracle of the random-history properties cannot afford it; test/unit/page_table.test.ts covers it',
  'page_table.create_user_page_table': 'needs a kernel page table (page_table.new_kernel, excluded above); test/unit/page_table.test.ts covers it',
  'cursor.forget_guard': "a cursor's ManuallyDrop of a guard it keeps the lock of: the internal step of cursor creation and moves",
  'page_table_node_ref.make_guard_unchecked':
    'unsafe, "must be called if this task logically holds the lock": valid only while the lock byte is already 1 without a guard (a guard forgotten by a cursor); in the states generated here the byte is 0 and the step breaks INV-GUARD-1, as the checker reports',
}
