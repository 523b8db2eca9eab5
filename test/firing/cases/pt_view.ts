/**
 * Firing cases of `PageTable` handles, the kernel-half sharing and the abstract view: REQ-/ENS-PT-*
 * (reducers/page_table/page_table.ts), INV-PTHANDLE-1, INV-PTSHARE-1 and INV-VIEW-1..2.
 *
 * States with the kernel page table (~3,100 internal steps) are built unchecked and used as the
 * start state of the case (`kernelState`); variants of the kernel-sized composites drop their
 * internal steps, so that the full-mode checker looks at the boundary only.
 */
import type { Draft } from 'immer'
import { PAGE_SIZE } from '../../../src/arch/constants.js'
import { newPage } from '../../../src/arch/pte.js'
import type { PtConfigName } from '../../../src/arch/pt_config.js'
import { createModel, type Model } from '../../../src/api/model.js'
import { Checker } from '../../../src/check/checker.js'
import { defaultRegistry } from '../../../src/check/rules/index.js'
import type { Violation } from '../../../src/check/rule.js'
import type { LeafEntryOwner, PageTableHandle } from '../../../src/model/page_table.js'
import type { Snapshot } from '../../../src/model/snapshot.js'
import { tableGet, type Table } from '../../../src/model/table.js'
import { variantOf, type EventSpec, type ModelEvent, type Outcome } from '../../../reducers/types.js'
import { ptNodeRefLock } from '../../../reducers/page_table/node.js'
import {
  createUserPageTable,
  pageTableDrop,
  pageTableNew,
  pageTableNewKernel,
  pageTablePageWalk,
  type PageTableResult,
} from '../../../reducers/page_table/page_table.js'
import { applyEvent } from '../../../reducers/index.js'
import { edit, rejected, rejectedOn, withVariantBothModes, type FiringCase, type FiringOutcome } from '../harness.js'
import { entryOwnerIn, installNode, positionOf, put, RW, setEntryOwner, setPteIn, type PtNode } from './pt_util.js'
import { tableSet } from './util.js'

// ---- building states ---------------------------------------------------------------------------

/** A page table of `config` (`page_table.new`) with its root locked. */
export function lockedPageTable(m: Model, config: PtConfigName): { pt: number; root: PtNode } {
  const r = m.call<PageTableResult>({ type: 'page_table.new', config })
  const { guard } = m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: r.rootPaddr })
  return { pt: r.pageTable, root: { node: null, paddr: r.rootPaddr, slot: r.rootPaddr / PAGE_SIZE, guard } }
}

/** Maps an untracked `(pa, level)` leaf at entry `idx` of the locked node `n`. */
export function mapUntracked(m: Model, n: PtNode, idx: number, pa: number, level: number): void {
  const { tree, path } = positionOf(m, n, idx)
  const { child } = m.call<{ child: number }>({ type: 'child.untracked', paddr: pa, level, prop: RW, tree, path })
  put(m, n, idx, child)
}

/** An untracked page table with a 2 MiB leaf at VA 0x20_0000 → PA 0x20_0000 (entry 1 of its level-2 node). */
interface Huge {
  readonly pt: number
  readonly root: PtNode
  readonly l2: PtNode
}

function untrackedHuge(m: Model): Huge {
  const { pt, root } = lockedPageTable(m, 'untracked')
  const l3 = installNode(m, root, 0)
  const l2 = installNode(m, l3, 0)
  mapUntracked(m, l2, 1, 0x20_0000, 2)
  return { pt, root, l2 }
}

/** The kernel page table and a user page table sharing it, built unchecked (once). */
let kernelCache: { s: Snapshot; kernel: PageTableResult; user: PageTableResult } | null = null

function kernelState(): { s: Snapshot; kernel: PageTableResult; user: PageTableResult } {
  if (kernelCache === null) {
    const m = createModel({ check: 'off' })
    const kernel = m.call<PageTableResult>({ type: 'page_table.new_kernel' })
    const user = m.call<PageTableResult>({ type: 'page_table.create_user_page_table', pageTable: kernel.pageTable })
    kernelCache = { s: m.state, kernel, user }
  }
  return kernelCache
}

// ---- harness pieces for big start states ---------------------------------------------------------

function outcomeOf(violations: readonly Violation[]): FiringOutcome {
  return {
    rules: [...new Set(violations.map((v) => v.rule))].sort(),
    also: [...new Set(violations.flatMap((v) => v.also ?? []))].sort(),
    violations,
  }
}

/**
 * `corrupted` (harness.ts) over a start state built elsewhere: the corrupted snapshot is checked
 * as the result of a step, in full and in incremental mode, which must agree.
 */
function corruptedFrom(before: Snapshot, fn: (d: Draft<Snapshot>) => void): FiringOutcome {
  const after = edit(before, fn)
  const registry = defaultRegistry()
  const step = { event: { type: 'test.corrupt' }, before, after, result: null, steps: [] }
  const full = new Checker(registry, 'full').check(step, 0)
  const incremental = new Checker(registry, 'incremental')
  incremental.check({ ...step, after: before }, 0)
  const inc = incremental.check(step, 1).map((v) => ({ ...v, step: 0 }))
  if (JSON.stringify(full) !== JSON.stringify(inc)) throw new Error(`full and incremental checks disagree:\nfull ${JSON.stringify(full)}\nincremental ${JSON.stringify(inc)}`)
  return outcomeOf(full)
}

/** `corruptedFrom` a state built by `build` on a model (full-mode cheap states). */
function corruptedOn<T>(build: (m: Model) => T, fn: (d: Draft<Snapshot>, t: T) => void): FiringOutcome {
  const m = createModel({ check: 'off' })
  const t = build(m)
  return corruptedFrom(m.state, (d) => fn(d, t))
}

/** `withVariantBothModes` from the state `build` makes, then `act`. */
function variantOn<T>(variants: readonly ReturnType<typeof variantOf>[], build: (m: Model) => T, act: (m: Model, t: T) => void): FiringOutcome {
  let t: T | undefined
  return withVariantBothModes(variants, (m) => act(m, t!), {
    initial: (m) => {
      t = build(m)
      return m.state
    },
  })
}

/** A variant of `spec` that edits the real reducer's outcome. */
function after<E extends ModelEvent, R>(spec: EventSpec<E, R>, f: (s: Snapshot, e: E, out: Outcome<R>) => Outcome<R>) {
  return variantOf(spec, (s, e) => f(s, e, spec.reduce(s, e)))
}

function setHandle(d: Draft<Snapshot>, id: number, patch: Partial<PageTableHandle>): void {
  const h = tableGet(d.pt.tables as Table<PageTableHandle>, id)!
  tableSet(d.pt.tables, id, { ...h, ...patch })
}

// ---- cases ---------------------------------------------------------------------------------------

export const ptViewCases: FiringCase[] = [
  // -- the view
  {
    rule: 'INV-VIEW-1',
    title: 'a 2 MiB leaf whose physical address is only 4 KiB aligned is no Mapping (its owner breaks INV-ENTRY-3 too)',
    expect: ['INV-ENTRY-3', 'INV-VIEW-1'],
    run: () =>
      corruptedOn(untrackedHuge, (d, t) => {
        const o = entryOwnerIn(d, t.l2.slot, 1) as Extract<LeafEntryOwner, { kind: 'frame' }>
        setEntryOwner(d, t.l2.slot, 1, { ...o, frame: { ...o.frame, mappedPa: 0x20_1000 } })
        setPteIn(d, t.l2.slot, 1, newPage(0x20_1000, 2, RW))
      }),
  },
  {
    rule: 'INV-VIEW-2',
    title: 'a kernel page table maps one tracked frame at two VAs: its view is not PA-disjoint (MD-8)',
    run: () =>
      variantOn(
        [],
        (m) => {
          const { root } = lockedPageTable(m, 'kernel')
          const l1 = installNode(m, installNode(m, installNode(m, root, 256), 0), 0)
          const f = m.call<{ ok: true; value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value
          const clone = m.call<{ frame: number }>({ type: 'frame.clone', frame: f.frame }).frame
          return { l1, frames: [f.frame, clone] }
        },
        (m, t) => {
          for (const [k, idx] of [[0, 1], [1, 2]] as const) {
            const { tree, path } = positionOf(m, t.l1, idx)
            const { child } = m.call<{ child: number }>({ type: 'child.from_frame', frame: t.frames[k]!, prop: RW, tree, path, parentLevel: 1 })
            put(m, t.l1, idx, child)
          }
        },
      ),
  },
  // -- handles and sharing
  {
    rule: 'INV-PTHANDLE-1',
    title: 'a PageTable handle names a root its PageTableNode handle does not hold',
    run: () =>
      corruptedOn(
        (m) => m.call<PageTableResult>({ type: 'page_table.new', config: 'untracked' }),
        (d, r) => setHandle(d, r.pageTable, { rootPaddr: r.rootPaddr + PAGE_SIZE }),
      ),
  },
  {
    rule: 'INV-PTSHARE-1',
    title: "a user page table's shared kernel entry differs from the kernel root's word",
    run: () => {
      const { s, user } = kernelState()
      return corruptedFrom(s, (d) => setPteIn(d, user.rootPaddr / PAGE_SIZE, 300, 0n))
    },
  },
  {
    rule: 'REQ-PT-CREATEUSER-1',
    title: 'create_user_page_table on an untracked page table',
    run: () => rejected((m) => void m.call({ type: 'page_table.new', config: 'untracked' }), () => ({ type: 'page_table.create_user_page_table', pageTable: 0 })),
  },
  {
    rule: 'REQ-PT-CREATEUSER-2',
    title: 'create_user_page_table on a kernel page table without its shared level-3 nodes (PageTable::empty)',
    run: () => rejected((m) => void m.call({ type: 'page_table.new', config: 'kernel' }), () => ({ type: 'page_table.create_user_page_table', pageTable: 0 })),
  },
  {
    rule: 'REQ-PT-DROP-1',
    title: 'dropping the kernel page table while a user page table shares it',
    run: () => {
      const { s, kernel } = kernelState()
      return rejectedOn(createModel({ check: 'full', initial: s }), { type: 'page_table.drop', pageTable: kernel.pageTable })
    },
  },
  // -- postconditions
  {
    rule: 'ENS-PT-NEW-1',
    title: 'page_table.new returns another root address than the handle owns',
    run: () =>
      variantOn(
        [after(pageTableNew, (_s, _e, out) => ({ ...out, result: { ...out.result, rootPaddr: out.result.rootPaddr + PAGE_SIZE } }))],
        () => null,
        (m) => void m.dispatch({ type: 'page_table.new', config: 'untracked' }),
      ),
  },
  {
    rule: 'ENS-PT-NEWKERNEL-1',
    title: 'new_kernel_page_table leaves the last level-3 node out of the root',
    run: () =>
      variantOn(
        [
          // Undo the last installation with events on the real post-state: root entry 511 back to
          // absent (word, ghost entry, nr_children) and its node freed.
          after(pageTableNewKernel, (_s, _e, out) => ({ ...out, snapshot: withoutLastKernelNode(out.snapshot, out.result.rootPaddr / PAGE_SIZE), steps: [] })),
        ],
        () => null,
        (m) => void m.dispatch({ type: 'page_table.new_kernel' }),
      ),
  },
  {
    rule: 'ENS-PT-CREATEUSER-1',
    title: "create_user_page_table leaves the kernel root locked (its guard is never dropped)",
    run: () =>
      withVariantBothModes(
        [
          after(createUserPageTable, (s, e, out) => {
            const kernel = tableGet(s.pt.tables, e.pageTable)!
            const locked = applyEvent(ptNodeRefLock, out.snapshot, { type: 'page_table_node_ref.lock', paddr: kernel.rootPaddr })
            return { ...out, snapshot: locked.snapshot, steps: [] }
          }),
        ],
        (m) => void m.dispatch({ type: 'page_table.create_user_page_table', pageTable: kernelAndNoUser().kernel }),
        { initial: () => kernelAndNoUser().s },
      ),
  },
  {
    rule: 'ENS-PT-DROP-1',
    title: "page_table.drop unregisters the handle but never drops the root",
    run: () =>
      variantOn(
        [variantOf(pageTableDrop, (s, e) => ({ snapshot: edit(s, (d) => tableSet(d.pt.tables, e.pageTable, null)), result: null }))],
        (m) => m.call<PageTableResult>({ type: 'page_table.new', config: 'untracked' }),
        (m, r) => void m.dispatch({ type: 'page_table.drop', pageTable: r.pageTable }),
      ),
  },
  {
    rule: 'ENS-PT-PAGEWALK-1',
    title: 'page_walk finds a mapping where the words have none (outside the managed range, so the view says nothing)',
    run: () =>
      variantOn(
        [after(pageTablePageWalk, (_s, _e, out) => ({ ...out, result: { pa: 0, prop: RW } }))],
        untrackedHuge,
        (m, t) => void m.dispatch({ type: 'page_table.page_walk', pageTable: t.pt, va: '0x800000000000' }),
      ),
  },
  {
    rule: 'ENS-PT-PAGEWALK-2',
    title: "the words send the walk to another frame than the owner tree's mapping (the state already breaks INV-MATCH-4)",
    run: () =>
      withVariantBothModes([], (m) => void m.dispatch({ type: 'page_table.page_walk', pageTable: 0, va: 0x20_1234 }), {
        initial: (m) => {
          const t = untrackedHuge(m)
          return edit(m.state, (d) => setPteIn(d, t.l2.slot, 1, newPage(0x40_0000, 2, RW)))
        },
      }),
  },
]

/** The kernel page table alone (no user page table), built unchecked (once). */
let kernelOnly: { s: Snapshot; kernel: number } | null = null
function kernelAndNoUser(): { s: Snapshot; kernel: number } {
  if (kernelOnly === null) {
    const m = createModel({ check: 'off' })
    const kernel = m.call<PageTableResult>({ type: 'page_table.new_kernel' }).pageTable
    kernelOnly = { s: m.state, kernel }
  }
  return kernelOnly
}

/** `s` with the kernel root's entry 511 emptied by events: take its node out with a None child, drop it. */
function withoutLastKernelNode(s: Snapshot, rootSlot: number): Snapshot {
  const m = createModel({ check: 'off', initial: s })
  const root: PtNode = { node: null, paddr: rootSlot * PAGE_SIZE, slot: rootSlot, guard: m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: rootSlot * PAGE_SIZE }).guard }
  const none = m.call<{ child: number }>({ type: 'child.none', ...positionOf(m, root, 511) }).child
  put(m, root, 511, none)
  m.call({ type: 'page_table_guard.drop', guard: root.guard! })
  return m.state
}
