/**
 * `VmSpace` lifecycle and activation (ostd::mm::vm_space; seed 004 vm_space.rs; operations.md §8.1;
 * behaviour.md §2.6).
 *
 * Events:
 *   vm_space.new       {}           `VmSpace::new()`: a user page table with no user mappings; `{ vmSpace }`
 *   vm_space.drop      {vmSpace}    drop of the handle: the page table is dropped (its tree torn down) —
 *                                   unless the space is activated: the CPU keeps it alive until another
 *                                   space is activated
 *   vm_space.activate  {vmSpace}    `activate()`: the CPU's current VmSpace; re-activating is a no-op
 *
 * `VmSpace::new` uses `page_table.new {config:'user'}`: the kernel half OSTD copies from the kernel
 * page table is outside the model (operations.md §8.1, INV-TREE-4).
 *
 * Activation is where the model sets the ghost `active`, `mv_range` and `mem_view` (operations.md
 * §8.1: no seed operation does): both views are the page table's mappings. The previously activated
 * space becomes inactive (its views and registered readers/writers are dropped: its `VmIoOwner`s
 * return to their entries with no view) and the TLB is flushed (a CR3 switch drops the non-global
 * entries); a previously activated space whose handle was dropped is freed now.
 */
import { z } from 'zod'
import { editSnapshot } from '../../src/model/edit.js'
import { cursorsOn } from '../../src/model/pt_cursor.js'
import { viewOf } from '../../src/model/pt_view.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableForEach, tableGet } from '../../src/model/table.js'
import { memViewOf, vmSpaceAt, type VmSpaceRecord } from '../../src/model/vm_space.js'
import { freshId } from '../frame/edit.js'
import { HandleId } from '../schema.js'
import { defineEvent, StepRecorder, type EventSpec, type ModelEvent } from '../types.js'
import { pageTableDrop, pageTableNew, type PageTableResult } from '../page_table/page_table.js'
import { embNoCursorOn, embNoIoOn, embVmSpace } from '../embedding/requires.js'
import { liveSpace, putSpace, spaceOf, spaceRootSlot, withVm } from './state.js'

// ---- new -----------------------------------------------------------------------------------------

export const VmSpaceNewEvent = z.object({ type: z.literal('vm_space.new') })
export type VmSpaceNewEvent = z.infer<typeof VmSpaceNewEvent>

/**
 * `VmSpace::new()`: a fresh user page table (internal step `page_table.new`), `shared_reader =
 * false`, no readers or writers; ghost owner inactive with no views. Requires nothing beyond its
 * internal step. Owes ENS-VMSPACE-NEW-1..2.
 */
export const vmSpaceNew = defineEvent<VmSpaceNewEvent, { vmSpace: number }>({
  type: 'vm_space.new',
  doc: 'VmSpace::new(): a VmSpace over a new user page table with no user mappings, no readers or writers, inactive.',
  schema: VmSpaceNewEvent,
  requires: [],
  reduce(s) {
    const rec = new StepRecorder(s)
    const pt = rec.run(pageTableNew, { type: 'page_table.new', config: 'user' }) as PageTableResult
    let id = -1
    rec.set(
      withVm(rec.snapshot, (vm, d) => {
        id = freshId(d, 'vmSpace')
        const r: VmSpaceRecord = {
          pageTable: pt.pageTable,
          sharedReader: false,
          readers: [],
          writers: [],
          dropped: false,
          owner: { active: false, readers: [], writers: [], memView: null, mvRange: null, sharedReader: false },
        }
        return putSpace(vm, id, r)
      }),
    )
    return { snapshot: rec.snapshot, result: { vmSpace: id }, steps: rec.steps }
  },
})

// ---- drop ----------------------------------------------------------------------------------------

export const VmSpaceDropEvent = z.object({ type: z.literal('vm_space.drop'), vmSpace: HandleId })
export type VmSpaceDropEvent = z.infer<typeof VmSpaceDropEvent>

/** Why space `id` is still borrowed (a live cursor, reader or writer), or null. */
export function borrowersOf(s: Snapshot, id: number): string | null {
  const r = vmSpaceAt(s, id)
  if (r === null) return null
  const cursors = cursorsOn(s, r.pageTable)
  if (cursors.length > 0) return `cursor ${cursors.join(', ')} over VmSpace ${id} is still live`
  const ios: number[] = []
  tableForEach(s.vmIos, (e, vio) => {
    if (e.space.kind === 'user' && e.space.vmSpace === id) ios.push(vio)
  })
  return ios.length > 0 ? `reader/writer ${ios.join(', ')} of VmSpace ${id} is still live` : null
}

/** Frees a space: its page table is dropped (internal step) and its record removed. */
function freeSpace(rec: StepRecorder, id: number): void {
  const r = spaceOf(rec.snapshot, id)
  rec.run(pageTableDrop, { type: 'page_table.drop', pageTable: r.pageTable })
  rec.set(withVm(rec.snapshot, (vm) => putSpace(vm, id, null)))
}

/**
 * Drop of a `VmSpace` handle. If the space is the activated one, the CPU's reference keeps it: it is
 * marked `dropped` (its handle is gone) and freed at the next activation of another space. Otherwise
 * its page table is dropped (`page_table.drop`: the tree is torn down, every mapped frame's reference
 * released) and the space removed.
 *
 * Requires REQ-EMB-DROPVMSPACE-1..3 (the embedding's `op_pre`: in the store, no cursor, no reader or
 * writer of it), REQ-HANDLE-1 and REQ-VMSPACE-BORROW-1 [model] (left: a raw page-table cursor on its
 * table). Owes ENS-VMSPACE-DROP-1 [model], ENS-EMB-DROPVMSPACE-1.
 */
export const vmSpaceDrop = defineEvent<VmSpaceDropEvent, null>({
  type: 'vm_space.drop',
  doc: 'Drop of a VmSpace: its page table is torn down (deferred while the space is the activated one).',
  schema: VmSpaceDropEvent,
  requires: [
    embVmSpace<VmSpaceDropEvent>('REQ-EMB-DROPVMSPACE-1'),
    embNoCursorOn<VmSpaceDropEvent>('REQ-EMB-DROPVMSPACE-2'),
    embNoIoOn<VmSpaceDropEvent>('REQ-EMB-DROPVMSPACE-3'),
    liveSpace<VmSpaceDropEvent>(),
    {
      rule: 'REQ-VMSPACE-BORROW-1',
      kind: 'requires',
      summary: "[model] A VmSpace is dropped only when no cursor, reader or writer borrows it (`cursor(&'a self)`, `reader(&self) -> VmReader<'_>`).",
      check: (s, e) => borrowersOf(s, e.vmSpace),
    },
  ],
  reduce(s, e) {
    if (s.vm.activated === e.vmSpace) {
      const r = spaceOf(s, e.vmSpace)
      return { snapshot: withVm(s, (vm) => putSpace(vm, e.vmSpace, { ...r, dropped: true })), result: null }
    }
    const rec = new StepRecorder(s)
    freeSpace(rec, e.vmSpace)
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

// ---- activate ------------------------------------------------------------------------------------

export const VmSpaceActivateEvent = z.object({ type: z.literal('vm_space.activate'), vmSpace: HandleId })
export type VmSpaceActivateEvent = z.infer<typeof VmSpaceActivateEvent>

/** The record of a space that stops being the activated one: inactive, no views, no registered readers/writers. */
function deactivated(s: Snapshot, r: VmSpaceRecord): { record: VmSpaceRecord; released: number[] } {
  const released = [...r.readers, ...r.writers]
  return {
    record: { ...r, readers: [], writers: [], owner: { ...r.owner, active: false, readers: [], writers: [], memView: null, mvRange: null } },
    released: released.filter((vio) => tableGet(s.vmIos, vio) !== null),
  }
}

/**
 * `VmSpace::activate()`: the CPU's current page table becomes this space's. Re-activating the
 * activated space is a no-op (behaviour.md §2.6). Otherwise: the previous space becomes inactive
 * (views dropped, its registered readers/writers unregistered and their views returned), the TLB
 * is flushed, this space becomes active with both views = its page table's mappings; a previous
 * space whose handle was dropped is freed (internal `page_table.drop`).
 *
 * Requires REQ-HANDLE-1. Owes ENS-VMSPACE-ACTIVATE-1 [model].
 */
export const vmSpaceActivate = defineEvent<VmSpaceActivateEvent, null>({
  type: 'vm_space.activate',
  doc: 'VmSpace::activate(): this VmSpace becomes the one active on the CPU (a no-op if it already is).',
  schema: VmSpaceActivateEvent,
  requires: [liveSpace<VmSpaceActivateEvent>()],
  reduce(s, e) {
    if (s.vm.activated === e.vmSpace) return { snapshot: s, result: null }
    const rec = new StepRecorder(s)
    const prev = s.vm.activated
    const r = spaceOf(s, e.vmSpace)
    const view = memViewOf(viewOf(s, spaceRootSlot(s, r), { config: 'user' }))
    let released: number[] = []
    let next = s.vm
    if (prev !== null) {
      const p = vmSpaceAt(s, prev)
      if (p !== null) {
        const d = deactivated(s, p)
        released = d.released
        next = putSpace(next, prev, d.record)
      }
    }
    next = putSpace(next, e.vmSpace, { ...r, owner: { ...r.owner, active: true, memView: view, mvRange: view } })
    next = { ...next, activated: e.vmSpace, tlb: { mappings: [] } }
    const vmAfter = next
    rec.set(
      editSnapshot(s, (d, t) => {
        d.vm = vmAfter as typeof d.vm
        for (const vio of released) {
          const entry = tableGet(s.vmIos, vio)!
          if (entry.owner !== undefined) t.vmIos.set(vio, { ...entry, owner: { ...entry.owner, memView: null } })
        }
      }),
    )
    if (prev !== null && vmSpaceAt(rec.snapshot, prev)?.dropped === true) freeSpace(rec, prev)
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

export const vmSpaceLifecycleEvents: readonly EventSpec<ModelEvent, unknown>[] = [vmSpaceNew, vmSpaceDrop, vmSpaceActivate] as unknown as readonly EventSpec<ModelEvent, unknown>[]
