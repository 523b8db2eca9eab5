/**
 * `PageTableGuard` (ostd::mm::page_table::node, seed 000; spec/operations.md §3.2–§3.6, state.md
 * §8): a locked node. Its handle is `pt.guards[id] = { paddr }`; the lock it holds is the node's
 * lock byte (exec) and `pt.locks[slot]` (ghost `Guards`). `PageTableGuard::entry` and the `Entry`
 * operations are in entry.ts.
 *
 * The `&PCell` references `stray_mut` / `nr_children_mut` return are named by the node's meta
 * address (`{ metaAddr }`); writes through them are events of their own
 * (`page_table_guard.stray_mut.write`, `page_table_guard.nr_children_mut.write`) that write the
 * exec cell, the permission's copy of it (`inner_perms.storage`) and the owner's `meta_own`.
 */
import { z } from 'zod'
import { metaAddr, NR_ENTRIES } from '../../src/arch/constants.js'
import { pteFromHex, pteToHex } from '../../src/arch/pte.js'
import { editSnapshot } from '../../src/model/edit.js'
import { MemoryWriter, readPte, writePte } from '../../src/model/memory.js'
import { nodeOwnerAt } from '../../src/model/spec/page_table.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import type { AnyEventSpec } from '../index.js'
import { HandleId } from '../schema.js'
import { defineEvent, type ModelEvent, type Requirement } from '../types.js'
import {
  editNodeStorage,
  guardLocked,
  guardSlot,
  liveGuardHandle,
  metaPermFailure,
  nodeInvariantsFailure,
  patchRecord,
  regionsAtNodeFailure,
} from './node.js'

/** A PTE word in an event: `0x` and 1 to 16 hex digits (a u64, bit-exact). */
export const PteHex = z.string().regex(/^0x[0-9a-fA-F]{1,16}$/, 'expected a PTE word: 0x followed by 1 to 16 hex digits (a u64)')

/** A PTE index in an event (`idx < 512` is a precondition, so that it gets a rule). */
const PteIndex = z.number().int().nonnegative()

/** The slot of the node a live guard locks (call after its liveness requirement). */
function slotOfGuard(s: Snapshot, id: number): number {
  return guardSlot(s, id)!
}

/** A precondition on the guard's node, skipped when the guard is not live (REQ-HANDLE-1). */
function onNode<E extends ModelEvent & { guard: number }>(rule: string, check: (s: Snapshot, idx: number) => string | null): Requirement<E> {
  return {
    rule,
    kind: 'requires',
    check: (s, e) => {
      const idx = guardSlot(s, e.guard)
      return idx === null ? null : check(s, idx)
    },
  }
}

function indexBelow512<E extends ModelEvent & { idx: number }>(rule: string): Requirement<E> {
  return { rule, kind: 'requires', check: (_s, e) => (e.idx < NR_ENTRIES ? null : `PTE index ${e.idx} is not below ${NR_ENTRIES}`) }
}

// ---- drop ----------------------------------------------------------------------------------

export const PtGuardDropEvent = z.object({ type: z.literal('page_table_guard.drop'), guard: HandleId })
export type PtGuardDropEvent = z.infer<typeof PtGuardDropEvent>

/**
 * Drop of a `PageTableGuard` — releases the lock: `meta.lock.store(0, Release)` (exec byte and its
 * permission), `Guards -= node` (`TrackDrop`), the handle leaves the registry. (The `Drop` impl
 * is commented out in the seed; this is the original Asterinas behaviour, operations.md §2.3.)
 *
 * Requires REQ-HANDLE-1, REQ-GUARD-LOCKED-1. Owes ENS-GUARD-DROP-1..2 (model).
 */
export const ptGuardDrop = defineEvent<PtGuardDropEvent, null>({
  type: 'page_table_guard.drop',
  doc: "Drop of a PageTableGuard: release the node's lock (lock byte 0, Guards minus the node).",
  schema: PtGuardDropEvent,
  requires: [liveGuardHandle('guard'), guardLocked('guard')],
  reduce(s, e) {
    const idx = slotOfGuard(s, e.guard)
    const snapshot = editSnapshot(s, (_d, t) => {
      editNodeStorage(t, s, idx, (m) => ({ ...m, lock: 0 }))
      t.ptLocks.set(idx, null)
      t.ptGuards.set(e.guard, null)
    })
    return { snapshot, result: null }
  },
})

// ---- nr_children ---------------------------------------------------------------------------

export const PtGuardNrChildrenEvent = z.object({ type: z.literal('page_table_guard.nr_children'), guard: HandleId })
export type PtGuardNrChildrenEvent = z.infer<typeof PtGuardNrChildrenEvent>

/**
 * `PageTableGuard::nr_children()` — the number of valid PTEs, read from the node's metadata
 * through the ghost cell permission (`owner.meta_own.nr_children`). No state change.
 *
 * Requires REQ-HANDLE-1, REQ-GUARD-LOCKED-1, REQ-GUARD-NRCHILDREN-1. Owes ENS-GUARD-NRCHILDREN-1.
 */
export const ptGuardNrChildren = defineEvent<PtGuardNrChildrenEvent, number>({
  type: 'page_table_guard.nr_children',
  doc: "PageTableGuard::nr_children(): the node's number of valid PTEs.",
  schema: PtGuardNrChildrenEvent,
  requires: [
    liveGuardHandle('guard'),
    guardLocked('guard'),
    // node.invariants(owner) (NodeOwner::inv includes metaregion_sound_node), regions.inv().
    onNode('REQ-GUARD-NRCHILDREN-1', (s, idx) => nodeInvariantsFailure(s, idx) ?? regionsAtNodeFailure(s, idx)),
  ],
  reduce(s, e) {
    return { snapshot: s, result: nodeOwnerAt(s, slotOfGuard(s, e.guard))!.metaOwn.nrChildren }
  },
})

// ---- stray_mut / nr_children_mut and writes through them ----------------------------------

export interface CellRef {
  /** The meta address of the node whose metadata holds the cell. */
  readonly metaAddr: number
}

export const PtGuardStrayMutEvent = z.object({ type: z.literal('page_table_guard.stray_mut'), guard: HandleId })
export type PtGuardStrayMutEvent = z.infer<typeof PtGuardStrayMutEvent>

/**
 * `PageTableGuard::stray_mut()` — a reference to the node's `stray` cell (named by the node's meta
 * address). No state change; writes through it are `page_table_guard.stray_mut.write`.
 *
 * Requires REQ-HANDLE-1, REQ-GUARD-LOCKED-1, REQ-GUARD-STRAYMUT-1. Owes ENS-GUARD-STRAYMUT-1..2.
 */
export const ptGuardStrayMut = defineEvent<PtGuardStrayMutEvent, CellRef>({
  type: 'page_table_guard.stray_mut',
  doc: "PageTableGuard::stray_mut(): the node's `stray` cell (by the node's meta address).",
  schema: PtGuardStrayMutEvent,
  requires: [liveGuardHandle('guard'), guardLocked('guard'), onNode('REQ-GUARD-STRAYMUT-1', metaPermFailure)],
  reduce(s, e) {
    return { snapshot: s, result: { metaAddr: metaAddr(slotOfGuard(s, e.guard)) } }
  },
})

export const PtGuardStrayWriteEvent = z.object({ type: z.literal('page_table_guard.stray_mut.write'), guard: HandleId, value: z.boolean() })
export type PtGuardStrayWriteEvent = z.infer<typeof PtGuardStrayWriteEvent>

/**
 * `*guard.stray_mut().borrow_mut(..) = value` — writes the node's `stray` cell while the lock is
 * held: the exec metadata, the permission's copy and the ghost `meta_own.stray`.
 *
 * Requires REQ-HANDLE-1, REQ-GUARD-LOCKED-1, REQ-GUARD-STRAYMUT-1. Owes ENS-GUARD-STRAYWRITE-1 (model).
 */
export const ptGuardStrayWrite = defineEvent<PtGuardStrayWriteEvent, null>({
  type: 'page_table_guard.stray_mut.write',
  doc: "Write through PageTableGuard::stray_mut(): set the node's `stray` flag (lock held).",
  schema: PtGuardStrayWriteEvent,
  requires: [liveGuardHandle('guard'), guardLocked('guard'), onNode('REQ-GUARD-STRAYMUT-1', metaPermFailure)],
  reduce(s, e) {
    const idx = slotOfGuard(s, e.guard)
    const record = nodeOwnerAt(s, idx)!
    const snapshot = editSnapshot(s, (_d, t) => {
      editNodeStorage(t, s, idx, (m) => ({ ...m, stray: e.value }))
      patchRecord(t, idx, { metaOwn: { ...record.metaOwn, stray: e.value } })
    })
    return { snapshot, result: null }
  },
})

export const PtGuardNrChildrenMutEvent = z.object({ type: z.literal('page_table_guard.nr_children_mut'), guard: HandleId })
export type PtGuardNrChildrenMutEvent = z.infer<typeof PtGuardNrChildrenMutEvent>

/**
 * `PageTableGuard::nr_children_mut()` — a reference to the node's `nr_children` cell (named by
 * the node's meta address). No state change; writes through it are
 * `page_table_guard.nr_children_mut.write`.
 *
 * Requires REQ-HANDLE-1, REQ-GUARD-LOCKED-1, REQ-GUARD-NRCHMUT-1. Owes ENS-GUARD-NRCHMUT-1..2.
 */
export const ptGuardNrChildrenMut = defineEvent<PtGuardNrChildrenMutEvent, CellRef>({
  type: 'page_table_guard.nr_children_mut',
  doc: "PageTableGuard::nr_children_mut(): the node's `nr_children` cell (by the node's meta address).",
  schema: PtGuardNrChildrenMutEvent,
  requires: [liveGuardHandle('guard'), guardLocked('guard'), onNode('REQ-GUARD-NRCHMUT-1', metaPermFailure)],
  reduce(s, e) {
    return { snapshot: s, result: { metaAddr: metaAddr(slotOfGuard(s, e.guard)) } }
  },
})

export const PtGuardNrChildrenWriteEvent = z.object({
  type: z.literal('page_table_guard.nr_children_mut.write'),
  guard: HandleId,
  /** A `u16`. Values above 512 are representable and break INV-PTMETA-1 / INV-NODE-1. */
  value: z.number().int().min(0).max(0xffff),
})
export type PtGuardNrChildrenWriteEvent = z.infer<typeof PtGuardNrChildrenWriteEvent>

/**
 * `*guard.nr_children_mut().borrow_mut(..) = value` — writes the node's `nr_children` cell while
 * the lock is held: the exec metadata, the permission's copy and the ghost `meta_own.nr_children`.
 *
 * Requires REQ-HANDLE-1, REQ-GUARD-LOCKED-1, REQ-GUARD-NRCHMUT-1. Owes ENS-GUARD-NRCHWRITE-1 (model).
 */
export const ptGuardNrChildrenWrite = defineEvent<PtGuardNrChildrenWriteEvent, null>({
  type: 'page_table_guard.nr_children_mut.write',
  doc: "Write through PageTableGuard::nr_children_mut(): set the node's `nr_children` (lock held).",
  schema: PtGuardNrChildrenWriteEvent,
  requires: [liveGuardHandle('guard'), guardLocked('guard'), onNode('REQ-GUARD-NRCHMUT-1', metaPermFailure)],
  reduce(s, e) {
    const idx = slotOfGuard(s, e.guard)
    const record = nodeOwnerAt(s, idx)!
    const snapshot = editSnapshot(s, (_d, t) => {
      editNodeStorage(t, s, idx, (m) => ({ ...m, nrChildren: e.value }))
      patchRecord(t, idx, { metaOwn: { ...record.metaOwn, nrChildren: e.value } })
    })
    return { snapshot, result: null }
  },
})

// ---- read_pte / write_pte ------------------------------------------------------------------

export const PtGuardReadPteEvent = z.object({ type: z.literal('page_table_guard.read_pte'), guard: HandleId, idx: PteIndex })
export type PtGuardReadPteEvent = z.infer<typeof PtGuardReadPteEvent>

/**
 * `PageTableGuard::read_pte(idx)` (unsafe) — the PTE word at `idx` (an atomic load; a non-owning
 * read), returned as 0x-prefixed 16-digit hex. No state change.
 *
 * Requires REQ-HANDLE-1, REQ-GUARD-LOCKED-1, REQ-GUARD-READPTE-1..3. Owes ENS-GUARD-READPTE-1.
 */
export const ptGuardReadPte = defineEvent<PtGuardReadPteEvent, string>({
  type: 'page_table_guard.read_pte',
  doc: 'PageTableGuard::read_pte(idx): the PTE word at idx (a non-owning read).',
  schema: PtGuardReadPteEvent,
  requires: [
    liveGuardHandle('guard'),
    guardLocked('guard'),
    onNode('REQ-GUARD-READPTE-1', nodeInvariantsFailure),
    onNode('REQ-GUARD-READPTE-2', regionsAtNodeFailure),
    indexBelow512('REQ-GUARD-READPTE-3'),
  ],
  reduce(s, e) {
    return { snapshot: s, result: pteToHex(readPte(s, slotOfGuard(s, e.guard), e.idx)) }
  },
})

export const PtGuardWritePteEvent = z.object({ type: z.literal('page_table_guard.write_pte'), guard: HandleId, idx: PteIndex, pte: PteHex })
export type PtGuardWritePteEvent = z.infer<typeof PtGuardWritePteEvent>

/**
 * `PageTableGuard::write_pte(idx, pte)` (unsafe) — stores `pte` at `idx` (atomic, Release). It
 * "leaks the old child": no ref count, `paths_in_pt`, `nr_children` or owner-tree change — the
 * caller (`Entry::replace`, `alloc_if_none`, `split_if_mapped_huge`) brings those in line, and
 * until it does INV-MATCH / INV-PTMETA-2 may fail (group B, checked at the boundary).
 *
 * Requires REQ-HANDLE-1, REQ-GUARD-LOCKED-1, REQ-GUARD-WRITEPTE-1..3. Owes ENS-GUARD-WRITEPTE-1..4
 * (-1, `owner.inv()` afterwards, is `NodeOwner::inv` of the guard's node in the post-state).
 */
export const ptGuardWritePte = defineEvent<PtGuardWritePteEvent, null>({
  type: 'page_table_guard.write_pte',
  doc: 'PageTableGuard::write_pte(idx, pte): store a PTE word (leaks the old child; nothing else changes).',
  schema: PtGuardWritePteEvent,
  requires: [
    liveGuardHandle('guard'),
    guardLocked('guard'),
    onNode('REQ-GUARD-WRITEPTE-1', nodeInvariantsFailure),
    onNode('REQ-GUARD-WRITEPTE-2', regionsAtNodeFailure),
    indexBelow512('REQ-GUARD-WRITEPTE-3'),
  ],
  reduce(s, e) {
    const idx = slotOfGuard(s, e.guard)
    const pte = pteFromHex(e.pte)
    const snapshot = editSnapshot(s, (_d, t) => writePte(new MemoryWriter(t), idx, e.idx, pte))
    return { snapshot, result: null }
  },
})

export const ptGuardEvents: readonly AnyEventSpec[] = [
  ptGuardDrop,
  ptGuardNrChildren,
  ptGuardStrayMut,
  ptGuardStrayWrite,
  ptGuardReadPte,
  ptGuardWritePte,
  ptGuardNrChildrenMut,
  ptGuardNrChildrenWrite,
] as unknown as readonly AnyEventSpec[]
