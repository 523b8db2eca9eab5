/**
 * Page-table cursors in the snapshot (ostd::mm::page_table::cursor; spec/state.md §9, §10;
 * behaviour.md §2.5): the exec `Cursor` / `CursorMut`, its ghost `CursorOwner`, and the lock it
 * holds on the covered sub-tree — plus the spec predicates over them (`CursorOwner::inv`,
 * `Cursor::inv`, `Cursor::wf`, `Cursor::invariants`: INV-CURSOR-1..14) that the invariants and
 * the cursor events' preconditions evaluate.
 *
 * State: `pt.cursors[id]` (counter `ptCursor`), one record per live cursor:
 *
 * - exec (state.md §9.1): `va`, `level`, `guardLevel`, `barrierVa` and `path` — the
 *   `PageTableGuard` handle ids (`pt.guards`) the cursor holds for the nodes of its current path,
 *   `path[L-1]` for level `L`, present exactly for `level <= L <= guardLevel`;
 * - ghost `CursorOwner` (`owner`, state.md §9.3): its own `level`, `guardLevel`, `va`, `prefix`,
 *   `leadingBits`, `poppedTooHigh`, `lockedRange` and one `CursorContinuation` per level from the
 *   cursor's level up to the root (`continuations[L-1]`: the node's slot, the current index, the
 *   guard the continuation holds). Reducers write exec and ghost separately (INV-CURSOR-13 relates
 *   them), never one from the other;
 * - `locked`: the nodes whose lock the cursor holds (by slot). OSTD's `lock_range` locks the guard
 *   node and, by `dfs_acquire_lock`, every node below it whose span overlaps the range, and forgets
 *   their guards (`ManuallyDrop`): the lock bytes stay 1 until `dfs_release_lock` at the drop.
 *   Nodes the cursor creates (`alloc_if_none`, `split_if_mapped_huge`) join the set; nodes it
 *   detaches (`dfs_mark_stray_and_unlock`) leave it.
 *
 * Locks: the ghost `Guards` (`pt.locks`) holds the nodes with a live `PageTableGuard` — here the
 * cursor's path nodes (and `make_guard_unchecked` guards while a step uses them). A node the
 * cursor holds without a guard has lock byte 1 and is in `locked`, not in `Guards`; so the model's
 * INV-GUARD-1 reads "lock byte 1 ⟺ in Guards or held by a live cursor" (`heldByCursor`), and
 * [JUN] `children_not_locked(guards)` holds for such nodes as stated.
 *
 * Addresses: the cursor keeps *view* addresses — the 48 bits the table indices select (`vaddr(p)`,
 * src/model/pt_view.ts), exact `number`s; the configuration's `LEADING_BITS` are added at the event
 * boundary (`fullVa` / `viewVaOf`). For the user and untracked configurations the two coincide.
 *
 * Modelling decisions (differences from the [JUN] cursor spec, which the model's OSTD behaviour
 * overrides — behaviour.md §2.5 is normative):
 *
 * - Guard level. OSTD's guard node is where the descent of §2.5.2 stops; the cursor starts there
 *   (`level == guard_level`) and may work on the guard node's own entries. [JUN] states its
 *   clauses for a cursor whose locked range is a single entry of its guard node and which is always
 *   strictly below it (`level < guard_level`, `L >= guard_level` panics in `map`). The model keeps
 *   OSTD's guard level and reads those clauses one level up: `level < guard_level` as
 *   `level <= guard_level`, `map`'s `L >= guard_level` as `L > guard_level` (OSTD panics there:
 *   `pop_level` past the guard node has no guard to pop).
 * - Locked range. [JUN] `locked_range()` is `[prefix, prefix + page_size(guard_level))`; OSTD locks
 *   `barrier_va`, which may span several entries of the guard node. The ghost owner records the
 *   locked range (`lockedRange`, = `barrier_va` by INV-CURSOR-13); `prefix` is the guard node's
 *   base address (aligned to `page_size(guard_level + 1)`, INV-CURSOR-6); INV-CURSOR-9's second
 *   clause compares the guard node's index with the guard continuation's instead of with `prefix`.
 * - Continuations. The owner tree stays whole while a cursor is live (the flat records of
 *   src/model/page_table.ts): a continuation names its node's record, whose entries are the
 *   continuation's `children`; "the child at `idx` is taken out" (INV-CURSOR-5) is read as "the
 *   entry at `idx` is the node the next continuation names". Continuations above the guard level
 *   hold no guard (OSTD's `path` has none there).
 * - Several cursors. [JUN]'s `CursorOwner` owns the whole page table. OSTD allows cursors on
 *   disjoint ranges at once; `children_not_locked` is checked on the nodes this cursor holds (no
 *   guard but its own path's on them), not on the whole tree.
 */
import { NR_ENTRIES, NR_LEVELS, PAGE_SIZE, pageSize, pteIndex } from '../arch/constants.js'
import { isLast, isPresent, newPt, ptePaddr } from '../arch/pte.js'
import { ptConfig, type PtConfigName } from '../arch/pt_config.js'
import { readPte } from './memory.js'
import type { PtNodeOwner } from './page_table.js'
import { pageTableHandle } from './pt_tables.js'
import type { VaRange } from './pt_view.js'
import { finding, type Finding } from './spec/finding.js'
import { childPath, nodeOwnerAt, pathLength } from './spec/page_table.js'
import type { Snapshot } from './snapshot.js'
import { tableForEach, tableGet, type Table } from './table.js'

// ---- state ---------------------------------------------------------------------------------

export type CursorKind = 'Cursor' | 'CursorMut'

/** `CursorContinuation` (state.md §9.2): one level of the cursor's current path. */
export interface CursorContinuation {
  /** The slot of the node at this level (its record is `pt.owners[slot]`: `entry_own` and `children`). */
  readonly slot: number
  /** The current index in the node. */
  readonly idx: number
  /** The `PageTableGuard` handle the continuation holds; null above the guard level. */
  readonly guard: number | null
}

/** Ghost `CursorOwner` (state.md §9.3), with view addresses. */
export interface PtCursorOwner {
  readonly level: number
  readonly guardLevel: number
  /** `va.to_vaddr()` without the leading bits. */
  readonly va: number
  /** `va.leading_bits` (= `prefix.leading_bits`, INV-CURSOR-8). */
  readonly leadingBits: number
  /** The guard node's base address (view), `prefix.to_vaddr()`. */
  readonly prefix: number
  readonly poppedTooHigh: boolean
  /** `continuations[L-1]` for `level <= L <= 4`; null below the cursor's level. */
  readonly continuations: ReadonlyArray<CursorContinuation | null>
  /** The range the cursor locked (view addresses); the model's `locked_range()`. */
  readonly lockedRange: VaRange
}

/** A live cursor: exec `Cursor` (state.md §9.1), its ghost owner and its range lock. */
export interface PtCursor {
  readonly kind: CursorKind
  /** The `PageTable` handle the cursor borrows. */
  readonly pageTable: number
  /** The configuration `C` (a type parameter in Rust). */
  readonly config: PtConfigName
  // exec
  readonly va: number
  readonly level: number
  readonly guardLevel: number
  readonly barrierVa: VaRange
  /** `path[L-1]`: the guard handle of the level-`L` node on the current path, or null. */
  readonly path: ReadonlyArray<number | null>
  // ghost
  readonly owner: PtCursorOwner
  /** The nodes (by slot) whose lock the cursor holds (`dfs_acquire_lock`, nodes it created). */
  readonly locked: Table<true>
}

/** The live cursor `id`, or null. */
/** The id of the live cursor whose path holds `PageTableGuard` `guard`, or null. */
export function cursorOwningGuard(s: Snapshot, guard: number): number | null {
  let owner: number | null = null
  tableForEach(s.pt.cursors, (c, id) => {
    if (owner === null && c.path.includes(guard)) owner = id
  })
  return owner
}

export function cursorAt(s: Snapshot, id: number): PtCursor | null {
  return tableGet(s.pt.cursors, id)
}

/** The root slot of the page table a cursor borrows, or null when the handle is gone. */
export function cursorRootSlot(s: Snapshot, c: PtCursor): number | null {
  const h = pageTableHandle(s, c.pageTable)
  return h === null ? null : Math.floor(h.rootPaddr / PAGE_SIZE)
}

/** Ids of the live cursors over page table `pageTable`. */
export function cursorsOn(s: Snapshot, pageTable: number): number[] {
  const out: number[] = []
  tableForEach(s.pt.cursors, (c, id) => {
    if (c.pageTable === pageTable) out.push(id)
  })
  return out
}

/** The live cursor whose range lock holds the node at `slot`, or null. */
export function heldByCursor(s: Snapshot, slot: number): number | null {
  if (s.pt.cursors.count === 0) return null
  let holder: number | null = null
  tableForEach(s.pt.cursors, (c, id) => {
    if (holder === null && c.locked !== undefined && tableGet(c.locked, slot) !== null) holder = id
  })
  return holder
}

/** Every live cursor whose range lock holds the node at `slot`. */
export function holdersOf(s: Snapshot, slot: number): number[] {
  const out: number[] = []
  tableForEach(s.pt.cursors, (c, id) => {
    if (c.locked !== undefined && tableGet(c.locked, slot) !== null) out.push(id)
  })
  return out
}

// ---- addresses -----------------------------------------------------------------------------

const VIEW_BITS = 48n
const VIEW_MASK = (1n << VIEW_BITS) - 1n

/** The full 64-bit address of view address `va` in `config` (`vaddr_of::<C>`). */
export function fullVaBig(config: PtConfigName, va: number): bigint {
  return BigInt(va) + (BigInt(ptConfig(config).leadingBits) << VIEW_BITS)
}

/** A view address as an event result: a number when it is exact, else `0x` hex (kernel addresses). */
export function fullVa(config: PtConfigName, va: number): number | string {
  const full = fullVaBig(config, va)
  return full <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(full) : `0x${full.toString(16)}`
}

/** The view address of a full address, or null when its leading bits are not the configuration's. */
export function viewVaOf(config: PtConfigName, va: bigint): number | null {
  if (va < 0n || va >> VIEW_BITS !== BigInt(ptConfig(config).leadingBits)) return null
  return Number(va & VIEW_MASK)
}

/** `vaddr_range_bounds::<C>()` as view addresses `[start, endIncl + 1)` (constants.md §3). */
export function managedViewRange(config: PtConfigName): VaRange {
  const [start, end] = ptConfig(config).topLevelIndexRange
  return { start: start * pageSize(NR_LEVELS), end: end * pageSize(NR_LEVELS) }
}

/**
 * `is_valid_range::<C>(r)` on full addresses: `0..0`, or `vstart <= r.start ∧ r.end > 0 ∧
 * r.end - 1 <= vend_incl` with the configuration's bounds including its leading bits (OSTD's
 * `vaddr_range::<C>()`; the digest's formula omits them, which only matters for the kernel).
 */
export function isValidRange(config: PtConfigName, start: bigint, end: bigint): boolean {
  if (start === 0n && end === 0n) return true
  const lead = BigInt(ptConfig(config).leadingBits) << VIEW_BITS
  const { start: vs, end: ve } = managedViewRange(config)
  return lead + BigInt(vs) <= start && end > 0n && end - 1n <= lead + BigInt(ve) - 1n
}

/** `align_down(va, size)`. */
export function alignDown(va: number, size: number): number {
  return va - (va % size)
}

/** `cur_va_range()`: the slot of the cursor's current level containing its address. */
export function curVaRange(c: { readonly va: number; readonly level: number }): VaRange {
  const size = pageSize(c.level)
  const start = alignDown(c.va, size)
  return { start, end: start + size }
}

/** `pte_index(va, level)` of a view address (the level-5 "index" of an address past the root: 0). */
export function indexAt(va: number, level: number): number {
  return level > NR_LEVELS ? 0 : pteIndex(va, level)
}

/**
 * `dfs_get_idx_range`: the entries of a level-`level` node based at `nodeVa` that overlap `range`.
 */
export function idxRange(level: number, nodeVa: number, range: VaRange): { start: number; end: number } {
  const size = pageSize(level)
  const lo = Math.max(range.start, nodeVa)
  const hi = Math.min(range.end, nodeVa + size * NR_ENTRIES)
  if (hi <= lo) return { start: 0, end: 0 }
  return { start: Math.floor((lo - nodeVa) / size), end: Math.ceil((hi - nodeVa) / size) }
}

/** The span of a cursor's guard node, read from the exec cursor: `align_down(barrier_va.start, page_size(guard_level + 1))` onwards. */
export function guardNodeSpan(c: PtCursor): VaRange {
  const size = pageSize(c.guardLevel + 1)
  const start = alignDown(c.barrierVa.start, size)
  return { start, end: start + size }
}

/** The view address a node record sits at (its path), and the span of the entry holding it. */
export function nodeSpan(r: PtNodeOwner): VaRange {
  let va = 0
  if (r.path !== '') {
    const parts = r.path.split('.')
    for (let k = 0; k < parts.length; k++) va += Number(parts[k]) * pageSize(NR_LEVELS - k)
  }
  return { start: va, end: va + pageSize(r.level + 1) }
}

/** Whether the record at path `path` lies in the sub-tree whose top is at `top` (same tree). */
export function pathUnder(path: string, top: string): boolean {
  return top === '' || path === top || path.startsWith(`${top}.`)
}

// ---- the guard node and the covered sub-tree -------------------------------------------------

/**
 * Where OSTD's descent (behaviour.md §2.5.2) stops for `[start, end)` in the tree rooted at
 * `rootSlot`, over the PTE words: the existing node reached and its level, and whether a node
 * below it is missing (the descent would allocate it: `missingAt` is the level of the node that
 * lacks its child). Pure; used to predict what creation locks.
 */
export function descentOf(s: Snapshot, rootSlot: number, range: VaRange): { slot: number; level: number; missingAt: number | null } {
  let slot = rootSlot
  for (let level = NR_LEVELS; level >= 1; level--) {
    const startIdx = pteIndex(range.start, level)
    const tooHigh = level > 1 && startIdx === pteIndex(range.end - 1, level)
    if (!tooHigh) return { slot, level, missingAt: null }
    const pte = readPte(s, slot, startIdx)
    if (!isPresent(pte)) return { slot, level, missingAt: level }
    if (isLast(pte, level)) return { slot, level, missingAt: null }
    slot = Math.floor(ptePaddr(pte) / PAGE_SIZE)
  }
  return { slot, level: 1, missingAt: null }
}

/**
 * The nodes a cursor over `range` whose guard node is at `guardSlot` (level `guardLevel`) holds:
 * the guard node and, over the PTE words, every node below it whose span overlaps the range
 * (`dfs_acquire_lock`). In visiting order (pre-order, ascending indices).
 */
export function coveredNodes(s: Snapshot, guardSlot: number, guardLevel: number, range: VaRange): number[] {
  const out: number[] = []
  const visit = (slot: number, level: number, nodeVa: number, depth: number): void => {
    out.push(slot)
    if (level === 1 || depth > NR_LEVELS) return
    const { start, end } = idxRange(level, nodeVa, range)
    for (let i = start; i < end; i++) {
      const pte = readPte(s, slot, i)
      if (isPresent(pte) && !isLast(pte, level)) visit(Math.floor(ptePaddr(pte) / PAGE_SIZE), level - 1, nodeVa + i * pageSize(level), depth + 1)
    }
  }
  visit(guardSlot, guardLevel, alignDown(range.start, pageSize(guardLevel + 1)), 0)
  return out
}

// ---- spec predicates (INV-CURSOR-1..14) ------------------------------------------------------

const where = (id: number, field: string): string => `pt.cursors[${id}].${field}`

/** `in_locked_range()`. */
export function inLockedRange(o: PtCursorOwner): boolean {
  return o.lockedRange.start <= o.va && o.va < o.lockedRange.end
}

/** `above_locked_range()`. */
export function aboveLockedRange(o: PtCursorOwner): boolean {
  return o.va >= o.lockedRange.end
}

function isLevel(x: unknown): x is number {
  return Number.isInteger(x) && (x as number) >= 1 && (x as number) <= NR_LEVELS
}

/** The continuation of level `L`, or null. */
export function continuationAt(o: PtCursorOwner, level: number): CursorContinuation | null {
  return Array.isArray(o.continuations) ? (o.continuations[level - 1] ?? null) : null
}

/**
 * `CursorOwner::inv()` (INV-CURSOR-1..11) of cursor `id`, read as the module comment says.
 * Local: reads the cursor, its continuations' records and their PTE words.
 */
export function cursorOwnerInv(s: Snapshot, id: number, c: PtCursor): Finding[] {
  const out: Finding[] = []
  const o = c.owner
  const cfg = ptConfig(c.config)
  const [topStart, topEnd] = cfg.topLevelIndexRange
  // INV-CURSOR-1
  if (!(Number.isSafeInteger(o.va) && o.va >= 0 && o.va < 2 ** 48 && o.va % PAGE_SIZE === 0)) out.push(finding('INV-CURSOR-1', where(id, 'owner.va'), `va ${o.va} is not a 4 KiB-aligned address of the 48-bit space (va.inv(), offset 0)`))
  if (!isLevel(o.level) || !isLevel(o.guardLevel)) out.push(finding('INV-CURSOR-1', where(id, 'owner.level'), `level ${o.level} / guard_level ${o.guardLevel} outside 1..4`, '1..=4', { level: o.level, guardLevel: o.guardLevel }))
  const levelsOk = isLevel(o.level) && isLevel(o.guardLevel)
  // INV-CURSOR-2
  const top = Math.floor(o.va / pageSize(NR_LEVELS))
  if (!(top >= topStart && top <= topEnd)) out.push(finding('INV-CURSOR-2', where(id, 'owner.va'), `the root index ${top} of va is outside TOP_LEVEL_INDEX_RANGE ${topStart}..=${topEnd}`))
  // INV-CURSOR-3
  if (!(inLockedRange(o) || aboveLockedRange(o))) out.push(finding('INV-CURSOR-3', where(id, 'owner.va'), `va ${o.va} is below the locked range [${o.lockedRange.start}, ${o.lockedRange.end})`))
  // INV-CURSOR-4
  if (o.poppedTooHigh ? !(o.level >= o.guardLevel) : !(o.level <= o.guardLevel || aboveLockedRange(o))) {
    out.push(finding('INV-CURSOR-4', where(id, 'owner.level'), `level ${o.level} vs guard_level ${o.guardLevel} (popped_too_high ${o.poppedTooHigh}, above the locked range ${aboveLockedRange(o)})`))
  }
  // INV-CURSOR-6
  const g = o.guardLevel
  if (levelsOk) {
    const ptop = Math.floor(o.prefix / pageSize(NR_LEVELS))
    if (!(Number.isSafeInteger(o.prefix) && o.prefix >= 0 && o.prefix % pageSize(g + 1) === 0 && ptop < topEnd && ptop + 1 < NR_ENTRIES)) {
      out.push(finding('INV-CURSOR-6', where(id, 'owner.prefix'), `prefix ${o.prefix} is not the base of a level-${g} guard node (aligned to page_size(${g + 1})) in the managed root range`))
    }
  }
  // INV-CURSOR-7
  const bounds = managedViewRange(c.config)
  if (!(o.lockedRange.end <= bounds.end && fullVaBig(c.config, o.lockedRange.end) <= cfg.lockedEndBound)) {
    out.push(finding('INV-CURSOR-7', where(id, 'owner.lockedRange'), `the locked range ends at ${o.lockedRange.end}, beyond vaddr_range_bounds (${bounds.end}) or LOCKED_END_BOUND`))
  }
  // INV-CURSOR-8
  if (o.leadingBits !== cfg.leadingBits) out.push(finding('INV-CURSOR-8', where(id, 'owner.leadingBits'), `leading bits ${o.leadingBits} are not the configuration's`, cfg.leadingBits, o.leadingBits))
  if (!levelsOk) return out
  const conts: Array<CursorContinuation | null> = []
  for (let L = 1; L <= NR_LEVELS; L++) conts.push(continuationAt(o, L))
  const recs = conts.map((k) => (k === null ? null : nodeOwnerAt(s, k.slot)))
  // INV-CURSOR-9
  if (!o.poppedTooHigh && (inLockedRange(o) || o.level < g)) {
    const span = pageSize(g + 1)
    if (Math.floor(o.va / span) !== Math.floor(o.prefix / span)) out.push(finding('INV-CURSOR-9', where(id, 'owner.va'), `va ${o.va} is outside the guard node based at prefix ${o.prefix}`))
    else if (o.level < g && conts[g - 1] !== null && indexAt(o.va, g) !== conts[g - 1]!.idx) {
      out.push(finding('INV-CURSOR-9', where(id, 'owner.va'), `below the guard level, va's index in the guard node (${indexAt(o.va, g)}) is not the guard continuation's`, conts[g - 1]!.idx, indexAt(o.va, g)))
    }
  }
  // INV-CURSOR-11 (each continuation) and INV-CURSOR-10 (the chain)
  const root = cursorRootSlot(s, c)
  for (let L = o.level; L <= NR_LEVELS; L++) {
    const k = conts[L - 1]
    const r = recs[L - 1]
    const at = where(id, `owner.continuations[${L - 1}]`)
    if (k === null) {
      out.push(finding('INV-CURSOR-10', at, `no continuation at level ${L} (the chain from 4 down to level ${o.level})`))
      continue
    }
    if (r === null) {
      out.push(finding('INV-CURSOR-11', at, `the continuation names slot ${k.slot}, which has no node record`))
      continue
    }
    if (!(Number.isInteger(k.idx) && k.idx >= 0 && k.idx < NR_ENTRIES)) out.push(finding('INV-CURSOR-11', `${at}.idx`, `index ${k.idx} is not below 512`))
    if (r.inScope || r.treeLevel !== NR_LEVELS - L || pathLength(r.path) !== r.treeLevel || (root !== null && r.tree !== root) || r.config !== c.config) {
      out.push(finding('INV-CURSOR-11', at, `the node at slot ${k.slot} is not a tree-owned node of this page table at tree level ${NR_LEVELS - L}`, { tree: root, treeLevel: NR_LEVELS - L, inScope: false }, { tree: r.tree, treeLevel: r.treeLevel, path: r.path, inScope: r.inScope }))
    }
    if (k.guard !== null) {
      const gh = tableGet(s.pt.guards, k.guard)
      if (gh === null || gh.paddr !== k.slot * PAGE_SIZE) out.push(finding('INV-CURSOR-11', `${at}.guard`, `the continuation's guard ${k.guard} does not lock its node ${k.slot}`))
    }
    // INV-CURSOR-10
    if (r.level !== L || r.parentLevel !== L + 1) out.push(finding('INV-CURSOR-10', at, `the level-${L} continuation's node has level ${r.level}, parent level ${r.parentLevel}`, { level: L, parentLevel: L + 1 }, { level: r.level, parentLevel: r.parentLevel }))
    if (inLockedRange(o) && indexAt(o.va, L) !== k.idx) out.push(finding('INV-CURSOR-10', `${at}.idx`, `inside the locked range, the level-${L} index of va is ${indexAt(o.va, L)}`, indexAt(o.va, L), k.idx))
    if (k.guard !== null) {
      for (let M = L + 1; M <= NR_LEVELS; M++) if (conts[M - 1]?.guard === k.guard) out.push(finding('INV-CURSOR-10', `${at}.guard`, `guard ${k.guard} is also the level-${M} continuation's`))
    }
    if (L < NR_LEVELS) {
      const pk = conts[L]
      const pr = recs[L]
      if (pk !== null && pr !== null) {
        if (r.tree !== pr.tree || r.path !== childPath(pr.path, pk.idx)) out.push(finding('INV-CURSOR-10', at, `the level-${L} node is not the child at index ${pk.idx} of the level-${L + 1} node`, childPath(pr.path, pk.idx), r.path))
        if (readPte(s, pk.slot, pk.idx) !== newPt(k.slot * PAGE_SIZE)) out.push(finding('INV-CURSOR-10', at, `PTE ${pk.idx} of node ${pk.slot} does not point to the level-${L} node ${k.slot} (match_pte)`))
      }
    }
  }
  // INV-CURSOR-5
  const cur = conts[o.level - 1]
  if (cur !== null && recs[o.level - 1] === null) out.push(finding('INV-CURSOR-5', where(id, `owner.continuations[${o.level - 1}]`), 'the current continuation has no children (no node record)'))
  for (let L = o.level + 1; L <= NR_LEVELS; L++) {
    const k = conts[L - 1]
    const r = recs[L - 1]
    const below = conts[L - 2]
    if (k === null || r === null || below === null) continue
    const c2 = tableGet(r.children, k.idx)
    if (c2 === null || c2.kind !== 'node' || c2.slot !== below.slot) {
      out.push(finding('INV-CURSOR-5', where(id, `owner.continuations[${L - 1}]`), `the child at index ${k.idx} of the level-${L} node is not the node the cursor descended into (slot ${below.slot})`, { kind: 'node', slot: below.slot }, c2))
    }
  }
  return out
}

/** `Cursor::inv()` (INV-CURSOR-12, [JUN]) of the exec cursor. */
export function cursorExecInv(id: number, c: PtCursor): Finding[] {
  const ok =
    Number.isInteger(c.level) &&
    c.level >= 1 &&
    c.level <= NR_LEVELS + 1 &&
    Number.isInteger(c.guardLevel) &&
    c.guardLevel >= 1 &&
    c.guardLevel <= NR_LEVELS &&
    c.level <= c.guardLevel + 1 &&
    Number.isSafeInteger(c.va) &&
    c.va >= c.barrierVa.start &&
    c.va % PAGE_SIZE === 0
  return ok
    ? []
    : [finding('INV-CURSOR-12', where(id, 'va'), `Cursor::inv fails: level ${c.level}, guard_level ${c.guardLevel}, va ${c.va}, barrier_va [${c.barrierVa.start}, ${c.barrierVa.end})`, '1 <= level <= guard_level + 1 <= 5, va >= barrier_va.start, va 4 KiB-aligned', { level: c.level, guardLevel: c.guardLevel, va: c.va })]
}

/** `Cursor::wf(owner)` (INV-CURSOR-13): the exec cursor and its ghost owner agree. */
export function cursorWf(id: number, c: PtCursor): Finding[] {
  const out: Finding[] = []
  const o = c.owner
  const rule = 'INV-CURSOR-13'
  if (o.va !== c.va) out.push(finding(rule, where(id, 'va'), 'owner.va does not reflect va', c.va, o.va))
  if (o.level !== c.level) out.push(finding(rule, where(id, 'level'), 'level != owner.level', c.level, o.level))
  if (o.guardLevel !== c.guardLevel) out.push(finding(rule, where(id, 'guardLevel'), 'guard_level != owner.guard_level', c.guardLevel, o.guardLevel))
  if (o.lockedRange.start !== c.barrierVa.start || o.lockedRange.end !== c.barrierVa.end) out.push(finding(rule, where(id, 'barrierVa'), 'barrier_va != owner.locked_range()', o.lockedRange, c.barrierVa))
  if (!Array.isArray(c.path) || c.path.length !== NR_LEVELS) {
    out.push(finding(rule, where(id, 'path'), `path has ${Array.isArray(c.path) ? c.path.length : 'no'} levels, not ${NR_LEVELS}`))
    return out
  }
  for (let L = 1; L <= NR_LEVELS; L++) {
    const g = c.path[L - 1] ?? null
    const held = L >= c.level && L <= c.guardLevel
    const want = held ? (continuationAt(o, L)?.guard ?? null) : null
    if (held && g === null) out.push(finding(rule, where(id, `path[${L - 1}]`), `path[${L - 1}] is None at a level the cursor holds (${c.level}..=${c.guardLevel})`))
    else if (g !== want) out.push(finding(rule, where(id, `path[${L - 1}]`), held ? `path[${L - 1}] is not the continuation's guard` : `path[${L - 1}] is Some outside the held levels ${c.level}..=${c.guardLevel}`, want, g))
  }
  return out
}

/**
 * The clauses of `Cursor::invariants(owner, regions, guards)` (INV-CURSOR-14) that no other rule
 * states: `nodes_locked(guards)` (the path nodes from the cursor's level to the guard level are in
 * `Guards`), `children_not_locked(guards)` (no node the cursor holds, other than its path nodes,
 * is in `Guards`: nobody else has a guard on it), `!popped_too_high`. (`owner.inv()`, `self.inv()`,
 * `self.wf(owner)` are INV-CURSOR-1..13; `regions.inv()` and `metaregion_sound` are the INV-SLOT /
 * INV-REGIONS / INV-SOUND rules on the same state.)
 */
export function cursorLocksInv(s: Snapshot, id: number, c: PtCursor): Finding[] {
  const out: Finding[] = []
  const rule = 'INV-CURSOR-14'
  const o = c.owner
  if (o.poppedTooHigh) out.push(finding(rule, where(id, 'owner.poppedTooHigh'), 'the cursor popped above its guard level', false, true))
  if (!isLevel(o.level) || !isLevel(o.guardLevel)) return out
  const pathNodes = new Set<number>()
  for (let L = o.level; L <= o.guardLevel; L++) {
    const k = continuationAt(o, L)
    if (k === null) continue
    pathNodes.add(k.slot)
    if (tableGet(s.pt.locks, k.slot) === null) out.push(finding(rule, `pt.locks[${k.slot}]`, `nodes_locked: the level-${L} node ${k.slot} on the cursor's path is not in Guards`, true, false))
  }
  // children_not_locked, over the smaller of Guards and the nodes the cursor holds
  const check = (slot: number): void => {
    if (!pathNodes.has(slot) && tableGet(s.pt.locks, slot) !== null && c.locked !== undefined && tableGet(c.locked, slot) !== null) {
      out.push(finding(rule, `pt.locks[${slot}]`, `children_not_locked: node ${slot}, held by cursor ${id} off its path, has a guard (is in Guards)`, false, true))
    }
  }
  if (c.locked === undefined || s.pt.locks.count <= c.locked.count) tableForEach(s.pt.locks, (_v, slot) => check(slot))
  else tableForEach(c.locked, (_v, slot) => check(slot))
  return out
}

/** `Cursor::invariants(owner, regions, guards)` (CI, INV-CURSOR-14's bundle): every failed clause. */
export function cursorInvariants(s: Snapshot, id: number, c: PtCursor): Finding[] {
  return [...cursorOwnerInv(s, id, c), ...cursorExecInv(id, c), ...cursorWf(id, c), ...cursorLocksInv(s, id, c)]
}

/** The message of the first failed clause, or null. */
export function firstMessage(findings: readonly Finding[]): string | null {
  const f = findings[0]
  return f === undefined ? null : `${f.rule} at ${f.path}: ${f.message}`
}
