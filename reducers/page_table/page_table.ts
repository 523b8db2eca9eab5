/**
 * `PageTable<C>` (ostd::mm::page_table, behaviour.md §2.1–§2.2, §2.5.12): the page tables of the
 * three configurations, as handles in `pt.tables` (counter `pageTable`). A handle owns its root
 * node through a `PageTableNode` handle (`PageTable { root: PageTableNode<C> }`), so dropping the
 * page table drops the root (and `on_drop` tears the tree down).
 *
 * Events:
 *   page_table.new                   `PageTable::<C>::empty()` as a page table handle
 *   page_table.new_kernel            `PageTable::<KernelPtConfig>::new_kernel_page_table()`
 *   page_table.create_user_page_table `PageTable::<KernelPtConfig>::create_user_page_table()`
 *   page_table.drop                  drop of a `PageTable` (its root node)
 *   page_table.page_walk             `PageTable::page_walk(va)`: the software MMU walk (a query)
 *
 * Kernel-half sharing: `create_user_page_table` copies the kernel root's words 256..512 raw into
 * the user root (no reference, no ghost entries, no `nr_children`); the user root's `on_drop`
 * walks only `TOP_LEVEL_INDEX_RANGE` (0..256), so the shared nodes are never released through it.
 * The deviation from INV-TREE-4 this needs is described in src/model/pt_tables.ts.
 *
 * Model rules: REQ-HANDLE-1 (live handles), REQ-PT-CREATEUSER-1..2, REQ-PT-DROP-1; the
 * postconditions ENS-PT-NEW-1, ENS-PT-NEWKERNEL-1, ENS-PT-CREATEUSER-1, ENS-PT-DROP-1,
 * ENS-PT-PAGEWALK-1..2 and the invariants INV-PTHANDLE-1, INV-PTSHARE-1
 * (src/check/rules/page_table/page_table.ts).
 */
import { z } from 'zod'
import { frameToIndex, NR_LEVELS } from '../../src/arch/constants.js'
import { isLast, isPresent, newPt, pteToHex } from '../../src/arch/pte.js'
import { KERNEL_PT_CONFIG } from '../../src/arch/pt_config.js'
import { editSnapshot } from '../../src/model/edit.js'
import { readPte } from '../../src/model/memory.js'
import type { PageTableHandle } from '../../src/model/page_table.js'
import { pageTableHandle, sharersOf } from '../../src/model/pt_tables.js'
import { cursorsOn } from '../../src/model/pt_cursor.js'
import { pageWalk, type Va, type WalkResult } from '../../src/model/pt_walk.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import type { AnyEventSpec } from '../index.js'
import { HandleId } from '../schema.js'
import { defineEvent, StepRecorder, type ModelEvent, type Requirement } from '../types.js'
import { freshId } from '../frame/edit.js'
import { HANDLE_SUMMARY } from '../frame/handles.js'
import { childDrop, childFromNode } from './child.js'
import { entryDrop, entryReplace, entryToRef, guardEntry } from './entry.js'
import { ptGuardDrop, ptGuardWritePte } from './guard.js'
import { pageTableEmpty, ptNodeAlloc, ptNodeDrop, ptNodeRefLock, PtConfigSchema } from './node.js'

// ---- schemas and shared pieces ---------------------------------------------------------------

/**
 * A virtual address in an event: a JSON number (user addresses, below 2^53) or `0x` and up to 16
 * hex digits (any u64, e.g. a kernel address).
 */
export const VaddrSchema = z.union([
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  z.string().regex(/^0x[0-9a-fA-F]{1,16}$/, 'expected a virtual address: a number, or 0x followed by 1 to 16 hex digits'),
])
export type VaddrArg = z.infer<typeof VaddrSchema>

/** The address an event's `va` names. */
export function vaOf(va: VaddrArg): Va {
  return typeof va === 'number' ? va : BigInt(va)
}

/** What the page-table constructors return: the new handle and its root's physical address. */
export interface PageTableResult {
  readonly pageTable: number
  readonly rootPaddr: number
}

/** REQ-HANDLE-1 on a `PageTable` handle named by `field`. */
export function livePageTable<E extends ModelEvent>(field: keyof E & string): Requirement<E> {
  return {
    rule: 'REQ-HANDLE-1',
    kind: 'requires',
    summary: HANDLE_SUMMARY,
    check: (s, e) => (pageTableHandle(s, e[field] as number) === null ? `PageTable ${String(e[field])} is not a live handle (dropped, or never created)` : null),
  }
}

/** Registers a page table owning the root node handle `root` (bookkeeping, after the root exists). */
function register(s: Snapshot, handle: PageTableHandle): { snapshot: Snapshot; id: number } {
  let id = -1
  const snapshot = editSnapshot(s, (d, t) => {
    id = freshId(d, 'pageTable')
    t.ptTables.set(id, handle)
  })
  return { snapshot, id }
}

// ---- page_table.new ----------------------------------------------------------------------------

export const PageTableNewEvent = z.object({ type: z.literal('page_table.new'), config: PtConfigSchema })
export type PageTableNewEvent = z.infer<typeof PageTableNewEvent>

/**
 * `PageTable::<C>::empty()` as a page table: a new level-4 root (internal step
 * `page_table.empty`, which may panic with REQ-NODE-ALLOCMEM-1 when no frame is free), owned by a
 * new `PageTable` handle. For the untracked configuration this is how OSTD makes its test page
 * tables; for the user configuration it is a user page table *without* the kernel half (a
 * `VmSpace`'s page table comes from `create_user_page_table`); for the kernel configuration it
 * lacks the pre-allocated top level (`new_kernel` makes the real one).
 *
 * Requires nothing beyond its internal step. Owes ENS-PT-NEW-1.
 */
export const pageTableNew = defineEvent<PageTableNewEvent, PageTableResult>({
  type: 'page_table.new',
  doc: 'PageTable::<C>::empty() as a PageTable handle: a page table with no mappings (root node only).',
  schema: PageTableNewEvent,
  requires: [],
  reduce(s, e) {
    const rec = new StepRecorder(s)
    const root = rec.run(pageTableEmpty, { type: 'page_table.empty', config: e.config })
    const { snapshot, id } = register(rec.snapshot, { config: e.config, root: root.node, rootPaddr: root.paddr, sharesKernel: null })
    return { snapshot, result: { pageTable: id, rootPaddr: root.paddr }, steps: rec.steps }
  },
})

// ---- page_table.new_kernel ---------------------------------------------------------------------

export const PageTableNewKernelEvent = z.object({ type: z.literal('page_table.new_kernel') })
export type PageTableNewKernelEvent = z.infer<typeof PageTableNewKernelEvent>

/**
 * `PageTable::<KernelPtConfig>::new_kernel_page_table()` — an empty kernel page table whose
 * top-level entries 256..512 all hold a level-3 node, so that every user page table can share
 * them. Internal steps: `page_table.empty` (kernel), `page_table_node_ref.lock` of the root, then
 * for each index `i` in `TOP_LEVEL_INDEX_RANGE`: `page_table_guard.entry(i)`, and OSTD's
 * `root_entry.alloc_if_none()` spelled out as its primitive steps — `page_table_node.alloc(3)`,
 * `child.from_node`, `entry.replace` (writes `new_pt`, `nr_children + 1`, installs the node's
 * record at path `[i]`), `child.drop` of the old `Child::None`, `entry.drop` — and finally
 * `page_table_guard.drop`. (`alloc_if_none` also locks the new node and returns the guard, which
 * `let _ =` drops at once; the end state is the same.) Running out of frames panics inside
 * `page_table_node.alloc` (REQ-NODE-ALLOCMEM-1); the whole call is then undone.
 *
 * About 3,100 internal steps: full-mode checking re-evaluates every group-A invariant on the whole
 * state after each of them, which is slow; incremental checking is proportional to the change.
 *
 * Requires nothing beyond its internal steps. Owes ENS-PT-NEWKERNEL-1.
 */
export const pageTableNewKernel = defineEvent<PageTableNewKernelEvent, PageTableResult>({
  type: 'page_table.new_kernel',
  doc: 'PageTable::<KernelPtConfig>::new_kernel_page_table(): a kernel page table with a level-3 node at every top-level index 256..512.',
  schema: PageTableNewKernelEvent,
  requires: [],
  reduce(s) {
    const rec = new StepRecorder(s)
    const root = rec.run(pageTableEmpty, { type: 'page_table.empty', config: 'kernel' })
    const { guard } = rec.run(ptNodeRefLock, { type: 'page_table_node_ref.lock', paddr: root.paddr })
    const [start, end] = KERNEL_PT_CONFIG.topLevelIndexRange
    for (let i = start; i < end; i++) {
      const { entry } = rec.run(guardEntry, { type: 'page_table_guard.entry', guard, idx: i })
      const node = rec.run(ptNodeAlloc, { type: 'page_table_node.alloc', level: NR_LEVELS - 1, config: 'kernel' })
      const { child } = rec.run(childFromNode, { type: 'child.from_node', node: node.node })
      const old = rec.run(entryReplace, { type: 'entry.replace', entry, child })
      rec.run(childDrop, { type: 'child.drop', child: old.child })
      rec.run(entryDrop, { type: 'entry.drop', entry })
    }
    rec.run(ptGuardDrop, { type: 'page_table_guard.drop', guard })
    const { snapshot, id } = register(rec.snapshot, { config: 'kernel', root: root.node, rootPaddr: root.paddr, sharesKernel: null })
    return { snapshot, result: { pageTable: id, rootPaddr: root.paddr }, steps: rec.steps }
  },
})

// ---- page_table.create_user_page_table -------------------------------------------------------

export const CreateUserPageTableEvent = z.object({ type: z.literal('page_table.create_user_page_table'), pageTable: HandleId })
export type CreateUserPageTableEvent = z.infer<typeof CreateUserPageTableEvent>

/** The kernel root entries `create_user_page_table` finds not holding a node (it panics on the first). */
export function unsharedKernelEntries(s: Snapshot, rootPaddr: number): number[] {
  const slot = frameToIndex(rootPaddr)
  const out: number[] = []
  const [start, end] = KERNEL_PT_CONFIG.topLevelIndexRange
  for (let i = start; i < end; i++) {
    const pte = readPte(s, slot, i)
    if (!isPresent(pte) || isLast(pte, NR_LEVELS)) out.push(i)
  }
  return out
}

/**
 * `PageTable::<KernelPtConfig>::create_user_page_table()` — a user page table sharing the
 * kernel's upper half. Internal steps, as OSTD: `page_table.empty` (user) for the new root;
 * `page_table_node_ref.lock` of the kernel root, then of the new root; for each `i` in 256..512:
 * `page_table_guard.entry(i)` on the kernel root, `entry.to_ref` (a `ChildRef::PageTable(pt)`),
 * `page_table_guard.write_pte(i, new_pt(pt.start_paddr()))` on the new root, `entry.drop`; then
 * the new root's guard is dropped (`drop(new_node)`), then the kernel root's. The words are copied
 * raw: no reference count, `nr_children`, path or ghost entry changes for them (the user root's
 * ghost entries 256..512 stay absent, INV-TREE-4). The new handle records the kernel page table it
 * shares (`sharesKernel`), which INV-PTSHARE-1 checks and REQ-PT-DROP-1 protects.
 *
 * Panics (REQ-PT-CREATEUSER-2) when a kernel top-level entry holds no node ("The kernel page
 * table doesn't contain shared nodes"); locking a root whose lock is held panics in the internal
 * `lock` (REQ-NODE-LOCK-2, a deadlock in OSTD).
 *
 * Requires REQ-HANDLE-1, REQ-PT-CREATEUSER-1, REQ-PT-CREATEUSER-2. Owes ENS-PT-CREATEUSER-1.
 */
export const createUserPageTable = defineEvent<CreateUserPageTableEvent, PageTableResult>({
  type: 'page_table.create_user_page_table',
  doc: "PageTable::<KernelPtConfig>::create_user_page_table(): a new user page table whose top-level entries 256..512 are the kernel's (copied raw).",
  schema: CreateUserPageTableEvent,
  requires: [
    livePageTable('pageTable'),
    {
      rule: 'REQ-PT-CREATEUSER-1',
      kind: 'requires',
      summary: '[model] `create_user_page_table` is a method of `PageTable<KernelPtConfig>`: the page table it is called on is a kernel page table.',
      check: (s, e) => {
        const h = pageTableHandle(s, e.pageTable)!
        return h.config === 'kernel' ? null : `PageTable ${e.pageTable} is a ${h.config} page table, not the kernel's`
      },
    },
    {
      rule: 'REQ-PT-CREATEUSER-2',
      kind: 'panic',
      summary:
        "[model] `create_user_page_table` panics (\"The kernel page table doesn't contain shared nodes\") when a kernel root entry in 256..512 is not a page-table node (`ChildRef::PageTable`).",
      check: (s, e) => {
        const bad = unsharedKernelEntries(s, pageTableHandle(s, e.pageTable)!.rootPaddr)
        return bad.length === 0 ? null : `the kernel page table doesn't contain shared nodes: root entry ${bad[0]} holds no page-table node${bad.length > 1 ? ` (nor ${bad.length - 1} more)` : ''}`
      },
    },
  ],
  reduce(s, e) {
    const kernel = pageTableHandle(s, e.pageTable)!
    const rec = new StepRecorder(s)
    const root = rec.run(pageTableEmpty, { type: 'page_table.empty', config: 'user' })
    const kernelGuard = rec.run(ptNodeRefLock, { type: 'page_table_node_ref.lock', paddr: kernel.rootPaddr }).guard
    const newGuard = rec.run(ptNodeRefLock, { type: 'page_table_node_ref.lock', paddr: root.paddr }).guard
    const [start, end] = KERNEL_PT_CONFIG.topLevelIndexRange
    for (let i = start; i < end; i++) {
      const { entry } = rec.run(guardEntry, { type: 'page_table_guard.entry', guard: kernelGuard, idx: i })
      const child = rec.run(entryToRef, { type: 'entry.to_ref', entry })
      if (child.kind !== 'PageTable') throw new Error(`create_user_page_table: entry ${i} is ${child.kind} (REQ-PT-CREATEUSER-2 should have panicked)`)
      rec.run(ptGuardWritePte, { type: 'page_table_guard.write_pte', guard: newGuard, idx: i, pte: pteToHex(newPt(child.paddr)) })
      rec.run(entryDrop, { type: 'entry.drop', entry })
    }
    rec.run(ptGuardDrop, { type: 'page_table_guard.drop', guard: newGuard })
    rec.run(ptGuardDrop, { type: 'page_table_guard.drop', guard: kernelGuard })
    const { snapshot, id } = register(rec.snapshot, { config: 'user', root: root.node, rootPaddr: root.paddr, sharesKernel: e.pageTable })
    return { snapshot, result: { pageTable: id, rootPaddr: root.paddr }, steps: rec.steps }
  },
})

// ---- page_table.drop ---------------------------------------------------------------------------

export const PageTableDropEvent = z.object({ type: z.literal('page_table.drop'), pageTable: HandleId })
export type PageTableDropEvent = z.infer<typeof PageTableDropEvent>

/**
 * Drop of a `PageTable`: the handle leaves the registry and its root `PageTableNode` is dropped
 * (internal step `page_table_node.drop`). The root's last reference runs `on_drop`, which walks
 * the root's `TOP_LEVEL_INDEX_RANGE` only — a user root releases its own half (0..256) and never
 * the kernel's shared nodes; a kernel root releases its 256 level-3 nodes — and frees every node
 * and every tracked frame's reference below, recursively.
 *
 * The kernel page table is `'static` in OSTD and user page tables rely on it outliving them
 * (REQ-PT-DROP-1: it is dropped only when no live user page table shares it).
 *
 * Requires REQ-HANDLE-1, REQ-PT-DROP-1, REQ-PTCURSOR-BORROW-1 (and its internal step's). Owes ENS-PT-DROP-1.
 */
export const pageTableDrop = defineEvent<PageTableDropEvent, null>({
  type: 'page_table.drop',
  doc: 'Drop of a PageTable: its root node is dropped, which tears the tree down (on_drop over TOP_LEVEL_INDEX_RANGE).',
  schema: PageTableDropEvent,
  requires: [
    livePageTable('pageTable'),
    {
      rule: 'REQ-PT-DROP-1',
      kind: 'requires',
      summary:
        "[model] A kernel page table outlives the user page tables sharing its top level (OSTD's kernel page table is `'static`; `create_user_page_table` takes no reference for the shared nodes): it is dropped only when no live user page table shares it.",
      check: (s, e) => {
        const sharers = sharersOf(s, e.pageTable)
        return sharers.length === 0 ? null : `kernel PageTable ${e.pageTable} is still shared by user PageTable ${sharers.join(', ')}`
      },
    },
    {
      rule: 'REQ-PTCURSOR-BORROW-1',
      kind: 'requires',
      summary: "[model] A PageTable is dropped only when no cursor over it is live: a cursor borrows its page table (`Cursor<'rcu, C>` holds `&'rcu PageTable<C>`).",
      check: (s, e) => {
        const live = cursorsOn(s, e.pageTable)
        return live.length === 0 ? null : `cursor ${live.join(', ')} over PageTable ${e.pageTable} is still live`
      },
    },
  ],
  reduce(s, e) {
    const h = pageTableHandle(s, e.pageTable)!
    const rec = new StepRecorder(s)
    rec.set(editSnapshot(s, (_d, t) => t.ptTables.set(e.pageTable, null)))
    rec.run(ptNodeDrop, { type: 'page_table_node.drop', node: h.root })
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

// ---- page_table.page_walk ----------------------------------------------------------------------

export const PageTablePageWalkEvent = z.object({ type: z.literal('page_table.page_walk'), pageTable: HandleId, va: VaddrSchema })
export type PageTablePageWalkEvent = z.infer<typeof PageTablePageWalkEvent>

/**
 * `PageTable::page_walk(va)` — `page_walk::<C>(self.root_paddr(), va)` (src/model/pt_walk.ts): the
 * software MMU walk over the PTE words from the root, `{ pa: leaf_pa + (va mod leaf_size), prop }`
 * or null. Physical address 0 is a valid target. It reads the words as the hardware would, so a
 * user page table's walk above 256 goes through the kernel's shared nodes. No state change.
 *
 * Requires REQ-HANDLE-1. Owes ENS-PT-PAGEWALK-1..2.
 */
export const pageTablePageWalk = defineEvent<PageTablePageWalkEvent, WalkResult | null>({
  type: 'page_table.page_walk',
  doc: 'PageTable::page_walk(va): software MMU walk; { pa, prop } of the leaf (pa + offset), or null.',
  schema: PageTablePageWalkEvent,
  requires: [livePageTable('pageTable')],
  reduce(s, e) {
    return { snapshot: s, result: pageWalk(s, pageTableHandle(s, e.pageTable)!.rootPaddr, vaOf(e.va)) }
  },
})

export const pageTableEvents: readonly AnyEventSpec[] = [
  pageTableNew,
  pageTableNewKernel,
  createUserPageTable,
  pageTableDrop,
  pageTablePageWalk,
] as unknown as readonly AnyEventSpec[]
