/**
 * User-space readers and writers of a VmSpace (ostd::mm::vm_space; seed 004 vm_space.rs 744–964;
 * operations.md §8.4–8.7; behaviour.md §2.6).
 *
 * Events:
 *   vm_space.reader / vm_space.writer         {vmSpace, va, len}  OSTD's `reader` / `writer`: `Ok({ reader })`
 *                                                                 / `Ok({ writer })` or `Err('AccessDenied')`
 *   vm_space.create_reader / create_writer    {vmSpace, va, len}  the seed's verified `create_reader` /
 *                                                                 `create_writer` (their internal step)
 *   vm_space.activate_reader / activate_writer {vmSpace, reader|writer}  the seed's exec `activate_*`:
 *                                                                 registered in `VmSpace.readers`, the
 *                                                                 owner gets its view
 *   vm_space.register_reader / register_writer {vmSpace, reader|writer}  `activate_*` then `dispose_*`
 *                                                                 (ENS-VMSPACE-ACTREADER-5: the two together
 *                                                                 keep `inv_with`)
 *   vm_space.unregister_reader / unregister_writer {vmSpace, reader|writer}  `remove_*` and the exec list
 *
 * `reader` / `writer` check, in order (behaviour.md §2.6): the space is the activated one, else
 * `Err(AccessDenied)`; `va + len` neither overflows nor exceeds `MAX_USERSPACE_VADDR`, else
 * `Err(AccessDenied)`. Mappings are not consulted. The reader/writer is fallible, over
 * `[va, va + len)` of the space, borrows the space, and has a ghost `VmIoOwner` with no view.
 *
 * Deviation (behaviour.md wins): the seed makes these checks `requires` of `create_reader`
 * (REQ-VMSPACE-CREATEREADER-3/4) and adds `vaddr != 0 ∧ len > 0`; OSTD returns the errors and
 * accepts an empty range or address 0. So `reader` returns the errors first and runs the verified
 * `create_reader` as its internal step when its preconditions can hold (`vaddr != 0 ∧ len > 0`),
 * else builds the same entry directly. `can_create_reader` (REQ-VMSPACE-CREATEREADER-2: no registered
 * writer overlaps) stays a precondition: the issue makes "a reader overlapping a writer" bad input.
 */
import { z } from 'zod'
import { MAX_USERSPACE_VADDR } from '../../src/arch/constants.js'
import { editSnapshot } from '../../src/model/edit.js'
import type { Snapshot, VmIoEntry } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import { borrowAt, canCreateReader, canCreateWriter, firstUntranslated, splitView, userRangeOk, vmIoInvWith, vmIoOwnerInv, type VmIoOwner } from '../../src/model/vm_space.js'
import { freshId } from '../frame/edit.js'
import { HandleId, Usize } from '../schema.js'
import { embVmSpace } from '../embedding/requires.js'
import { defineEvent, err, ok, StepRecorder, type EventSpec, type ModelEvent, type Requirement, type Result } from '../types.js'
import { invWithFailure, newVmIoId, spaceInvFailure, ownerInvFailure, disposeReader, disposeWriter, removeReader, removeWriter } from './owner.js'
import { liveSpace, putSpace, spaceOf } from './state.js'
import type { VmError } from './cursor.js'

type Kind = 'reader' | 'writer'
const IO_KIND = { reader: 'Reader', writer: 'Writer' } as const
const UPPER = { reader: 'READER', writer: 'WRITER' } as const

/** The entry of a new user reader/writer `id` over `[va, va + len)` of `vmSpace`. */
export function userIoEntry(kind: Kind, id: number, vmSpace: number, va: number, len: number): VmIoEntry {
  const owner: VmIoOwner = { id, range: { start: va, end: va + len }, isFallible: true, isKernel: false, memView: null }
  return { kind: IO_KIND[kind], fallible: true, space: { kind: 'user', vmSpace }, cursor: va, end: va + len, borrow: { kind: 'vmSpace', id: vmSpace }, owner }
}

// ---- create_reader / create_writer (seed) ----------------------------------------------------------

const RangeFields = { vmSpace: HandleId, va: Usize, len: Usize }
type RangeEvent = { type: string; vmSpace: number; va: number; len: number }

function createSpec(kind: Kind): EventSpec<RangeEvent, Result<Record<Kind, number>, VmError>> {
  const K = UPPER[kind]
  const type = `vm_space.create_${kind}`
  /**
   * The seed's `create_reader(vaddr, len)` / `create_writer`: a fresh id (`new_vm_io_id`, internal
   * step), a fallible user reader/writer over `[vaddr, vaddr + len)` whose owner has no view; always
   * `Ok`. Requires REQ-HANDLE-1, REQ-VMSPACE-CREATE{READER,WRITER}-1..4. Owes
   * ENS-VMSPACE-CREATE{READER,WRITER}-1..4.
   */
  return defineEvent<RangeEvent, Result<Record<Kind, number>, VmError>>({
    type,
    doc: `VmSpace::create_${kind}(vaddr, len) (seed): a fallible user-space Vm${IO_KIND[kind]} over [vaddr, vaddr + len), with a fresh id and no memory view.`,
    schema: z.object({ type: z.literal(type), ...RangeFields }) as unknown as z.ZodType<RangeEvent>,
    requires: [
      liveSpace<RangeEvent>(),
      {
        rule: `REQ-VMSPACE-CREATE${K}-1`,
        kind: 'requires',
        check: (s, e) => invWithFailure(s, e.vmSpace) ?? ownerInvFailure(s, e.vmSpace) ?? (spaceOf(s, e.vmSpace).owner.active ? null : `VmSpaceOwner ${e.vmSpace} is not active`),
      },
      {
        rule: `REQ-VMSPACE-CREATE${K}-2`,
        kind: 'requires',
        check: (s, e) => {
          const o = spaceOf(s, e.vmSpace).owner
          const range = { start: e.va, end: e.va + e.len }
          const hit = kind === 'reader' ? canCreateReader(s, o, range) : canCreateWriter(s, o, range)
          return hit === null ? null : `can_create_${kind} fails: registered vm_io ${hit} overlaps [0x${e.va.toString(16)}, 0x${(e.va + e.len).toString(16)}] (closed-interval test)`
        },
      },
      {
        rule: `REQ-VMSPACE-CREATE${K}-3`,
        kind: 'requires',
        check: (_s, e) => (e.va !== 0 && e.len > 0 && e.va + e.len <= MAX_USERSPACE_VADDR ? null : `vaddr 0x${e.va.toString(16)}, len ${e.len}: needs vaddr != 0, len > 0 and vaddr + len <= MAX_USERSPACE_VADDR`),
      },
      {
        rule: `REQ-VMSPACE-CREATE${K}-4`,
        kind: 'requires',
        check: (s, e) => (s.vm.activated === e.vmSpace ? null : `VmSpace ${e.vmSpace} is not the activated one (current_page_table_paddr() != root_paddr())`),
      },
    ],
    reduce(s, e) {
      const rec = new StepRecorder(s)
      const { id } = rec.run(newVmIoId, { type: 'vm_space_owner.new_vm_io_id', vmSpace: e.vmSpace })
      rec.set(editSnapshot(rec.snapshot, (_d, t) => t.vmIos.set(id, userIoEntry(kind, id, e.vmSpace, e.va, e.len))))
      return { snapshot: rec.snapshot, result: ok({ [kind]: id } as Record<Kind, number>), steps: rec.steps }
    },
  })
}

export const createReader = createSpec('reader')
export const createWriter = createSpec('writer')

// ---- reader / writer (OSTD) -------------------------------------------------------------------------

function userSpec(kind: Kind): EventSpec<RangeEvent, Result<Record<Kind, number>, VmError>> {
  const type = `vm_space.${kind}`
  /**
   * `VmSpace::reader(va, len)` / `writer`: `Err(AccessDenied)` unless this space is the activated
   * one, then `Err(AccessDenied)` if `va + len` overflows or exceeds `MAX_USERSPACE_VADDR`; otherwise
   * the seed's `create_*` (internal step; directly for an empty range or address 0, module comment).
   * Requires REQ-EMB-NEWREADER-1 / REQ-EMB-NEWWRITER-1, REQ-HANDLE-1 (and the internal step's REQ-VMSPACE-CREATE*-1..2). Owes
   * ENS-VMSPACE-USERIO-1 [model].
   */
  return defineEvent<RangeEvent, Result<Record<Kind, number>, VmError>>({
    type,
    doc: `VmSpace::${kind}(va, len): a fallible user-space Vm${IO_KIND[kind]}; Err(AccessDenied) unless the space is activated and the range is below MAX_USERSPACE_VADDR.`,
    schema: z.object({ type: z.literal(type), ...RangeFields }) as unknown as z.ZodType<RangeEvent>,
    requires: [embVmSpace<RangeEvent>(kind === 'reader' ? 'REQ-EMB-NEWREADER-1' : 'REQ-EMB-NEWWRITER-1'), liveSpace<RangeEvent>()],
    reduce(s, e) {
      if (s.vm.activated !== e.vmSpace) return { snapshot: s, result: err('AccessDenied') }
      if (!userRangeOk(e.va, e.len)) return { snapshot: s, result: err('AccessDenied') }
      if (e.va !== 0 && e.len > 0) {
        const rec = new StepRecorder(s)
        const res = rec.run(kind === 'reader' ? createReader : createWriter, { type: `vm_space.create_${kind}`, vmSpace: e.vmSpace, va: e.va, len: e.len })
        return { snapshot: rec.snapshot, result: res, steps: rec.steps }
      }
      let id = -1
      const snapshot = editSnapshot(s, (d, t) => {
        id = freshId(d, 'vmIo')
        t.vmIos.set(id, userIoEntry(kind, id, e.vmSpace, e.va, e.len))
      })
      return { snapshot, result: ok({ [kind]: id } as Record<Kind, number>) }
    },
  })
}

export const vmSpaceReader = userSpec('reader')
export const vmSpaceWriter = userSpec('writer')

// ---- activate_reader / activate_writer (seed exec fns) ------------------------------------------------

type IoEvent = { type: string; vmSpace: number } & Partial<Record<Kind, number>>

function ioId(e: IoEvent, kind: Kind): number {
  return e[kind]!
}

/** REQ-HANDLE-1 on the event's reader/writer: a live user-space one of this space. */
function ioOfSpace<E extends IoEvent>(kind: Kind): Requirement<E> {
  return {
    rule: 'REQ-HANDLE-1',
    kind: 'requires',
    check: (s, e) => {
      const id = ioId(e, kind)
      const entry = tableGet(s.vmIos, id)
      if (entry === null) return `Vm${IO_KIND[kind]} ${id} is not a live handle`
      if (entry.kind !== IO_KIND[kind] || entry.space.kind !== 'user' || entry.owner === undefined) return `vm_io ${id} is not a user-space Vm${IO_KIND[kind]}`
      return entry.space.vmSpace === e.vmSpace ? null : `Vm${IO_KIND[kind]} ${id} belongs to VmSpace ${entry.space.vmSpace}, not ${e.vmSpace}`
    },
  }
}

function activateSpec(kind: Kind): EventSpec<IoEvent, null> {
  const K = UPPER[kind]
  const type = `vm_space.activate_${kind}`
  /**
   * The seed's `activate_reader(reader)`: `self.readers.push(reader)`; the owner's view :=
   * `ReadView(mem_view.borrow_at(range))`. `activate_writer(writer)`: `self.writers.push(writer)`;
   * `(lhs, rhs) = mem_view.split(range)`; the owner's view := `WriteView(lhs)`, `mem_view := rhs`.
   * Requires REQ-HANDLE-1, REQ-VMSPACE-ACT{READER,WRITER}-1..4. Owes ENS-VMSPACE-ACT{READER,WRITER}-1..5.
   */
  return defineEvent<IoEvent, null>({
    type,
    doc: `VmSpace::activate_${kind}(${kind}) (seed): the ${kind} is registered in the space and its owner gets its ${kind === 'reader' ? 'borrowed read' : 'split-off write'} view.`,
    schema: z.object({ type: z.literal(type), vmSpace: HandleId, [kind]: HandleId }) as unknown as z.ZodType<IoEvent>,
    requires: [
      liveSpace<IoEvent>(),
      ioOfSpace<IoEvent>(kind),
      { rule: `REQ-VMSPACE-ACT${K}-1`, kind: 'requires', check: (s, e) => spaceInvFailure(s, e.vmSpace) },
      {
        rule: `REQ-VMSPACE-ACT${K}-2`,
        kind: 'requires',
        check: (s, e) => {
          const mv = spaceOf(s, e.vmSpace).owner.memView
          if (mv === null) return `VmSpaceOwner ${e.vmSpace} has no memory view (activate the space first)`
          const o = tableGet(s.vmIos, ioId(e, kind))!.owner!
          const hole = firstUntranslated(mv, o.range)
          return hole === null ? null : `VA 0x${hole.toString(16)} of [0x${o.range.start.toString(16)}, 0x${o.range.end.toString(16)}) does not translate in the space's memory view (map it first)`
        },
      },
      {
        rule: `REQ-VMSPACE-ACT${K}-3`,
        kind: 'requires',
        check: (s, e) => invWithFailure(s, e.vmSpace) ?? ownerInvFailure(s, e.vmSpace) ?? (spaceOf(s, e.vmSpace).owner.active ? null : `VmSpaceOwner ${e.vmSpace} is not active`),
      },
      {
        rule: `REQ-VMSPACE-ACT${K}-4`,
        kind: 'requires',
        check: (s, e) => {
          const id = ioId(e, kind)
          const entry = tableGet(s.vmIos, id)!
          const o = entry.owner!
          const f = vmIoInvWith(o, id, entry, `vmIos[${id}].owner`)[0] ?? vmIoOwnerInv(o, `vmIos[${id}].owner`)[0]
          if (f !== undefined) return f.message
          if (o.memView !== null) return `the ${kind}'s owner already holds a view (it is registered)`
          return entry.cursor <= entry.end ? null : `${kind} ${id} is not inv(): cursor past end`
        },
      },
    ],
    reduce(s, e) {
      const id = ioId(e, kind)
      const r = spaceOf(s, e.vmSpace)
      const entry = tableGet(s.vmIos, id)!
      const o = entry.owner!
      const mv = r.owner.memView!
      const len = o.range.end - o.range.start
      let record = r
      let view: VmIoOwner['memView']
      if (kind === 'reader') {
        record = { ...r, readers: [...r.readers, id] }
        view = { kind: 'ReadView', view: borrowAt(mv, o.range.start, len) }
      } else {
        const [lhs, rhs] = splitView(mv, o.range.start, len)
        record = { ...r, writers: [...r.writers, id], owner: { ...r.owner, memView: rhs } }
        view = { kind: 'WriteView', view: lhs }
      }
      const snapshot = editSnapshot(s, (d, t) => {
        d.vm = putSpace(s.vm, e.vmSpace, record) as typeof d.vm
        t.vmIos.set(id, { ...entry, owner: { ...o, memView: view } })
      })
      return { snapshot, result: null }
    },
  })
}

export const activateReader = activateSpec('reader')
export const activateWriter = activateSpec('writer')

// ---- register / unregister (composites) ----------------------------------------------------------------

function registerSpec(kind: Kind): EventSpec<IoEvent, null> {
  const type = `vm_space.register_${kind}`
  const rule = kind === 'reader' ? 'REQ-VMSOWNER-CANREADER-1' : 'REQ-VMSOWNER-CANWRITER-1'
  /**
   * Registers a reader/writer with the space: `activate_*` then `dispose_*` (internal steps), the way
   * the seed's callers keep `inv_with` (ENS-VMSPACE-ACTREADER-5). An empty one (cursor == end) is not
   * registered: `dispose_*` would discard it, losing a writer's split-off view. Requires REQ-HANDLE-1
   * and REQ-VMSOWNER-CAN{READER,WRITER}-1 (`can_create_*` of its range), then its steps' own.
   */
  return defineEvent<IoEvent, null>({
    type,
    doc: `Registers a user ${kind} with its VmSpace: activate_${kind} then dispose_${kind} (the ${kind}'s range must be mapped).`,
    schema: z.object({ type: z.literal(type), vmSpace: HandleId, [kind]: HandleId }) as unknown as z.ZodType<IoEvent>,
    requires: [
      liveSpace<IoEvent>(),
      ioOfSpace<IoEvent>(kind),
      {
        rule,
        kind: 'requires',
        check: (s, e) => {
          const id = ioId(e, kind)
          const o = tableGet(s.vmIos, id)!.owner!
          const owner = spaceOf(s, e.vmSpace).owner
          const hit = kind === 'reader' ? canCreateReader(s, owner, o.range) : canCreateWriter(s, owner, o.range)
          return hit === null || hit === id ? null : `registered vm_io ${hit} overlaps [0x${o.range.start.toString(16)}, 0x${o.range.end.toString(16)}] (closed-interval test)`
        },
      },
    ],
    reduce(s, e) {
      const id = ioId(e, kind)
      const range = tableGet(s.vmIos, id)!.owner!.range
      // an empty reader/writer has nothing to register: dispose_* would discard it (and its view)
      if (!(range.start < range.end)) return { snapshot: s, result: null }
      const rec = new StepRecorder(s)
      rec.run(kind === 'reader' ? activateReader : activateWriter, { type: `vm_space.activate_${kind}`, vmSpace: e.vmSpace, [kind]: id })
      rec.run(kind === 'reader' ? disposeReader : disposeWriter, { type: `vm_space_owner.dispose_${kind}`, vmSpace: e.vmSpace, [kind]: id } as never)
      return { snapshot: rec.snapshot, result: null, steps: rec.steps }
    },
  })
}

/** The exec registration of `id` removed from the space, and its owner's view returned. */
function dropExec(s: Snapshot, vmSpace: number, kind: Kind, id: number): Snapshot {
  const r = spaceOf(s, vmSpace)
  const record = kind === 'reader' ? { ...r, readers: r.readers.filter((x) => x !== id) } : { ...r, writers: r.writers.filter((x) => x !== id) }
  const entry = tableGet(s.vmIos, id)
  return editSnapshot(s, (d, t) => {
    d.vm = putSpace(s.vm, vmSpace, record) as typeof d.vm
    if (entry !== null && entry.owner !== undefined && entry.owner.memView !== null) t.vmIos.set(id, { ...entry, owner: { ...entry.owner, memView: null } })
  })
}

export const registerReader = registerSpec('reader')
export const registerWriter = registerSpec('writer')

function unregisterSpec(kind: Kind): EventSpec<IoEvent, null> {
  const type = `vm_space.unregister_${kind}`
  /**
   * Unregisters a reader/writer: `remove_*` at its index (internal step; a writer's view joins the
   * remaining view back) and the exec `VmSpace.readers` / `writers` entry removed. Requires
   * REQ-HANDLE-1 and REQ-VMSPACE-REGISTERED-1 [model] (it is registered).
   */
  return defineEvent<IoEvent, null>({
    type,
    doc: `Unregisters a user ${kind} from its VmSpace: remove_${kind} (ghost) and the exec registration.`,
    schema: z.object({ type: z.literal(type), vmSpace: HandleId, [kind]: HandleId }) as unknown as z.ZodType<IoEvent>,
    requires: [
      liveSpace<IoEvent>(),
      ioOfSpace<IoEvent>(kind),
      {
        rule: 'REQ-VMSPACE-REGISTERED-1',
        kind: 'requires',
        summary: '[model] Only a registered reader/writer (in the VmSpace\'s lists and its owner\'s) is unregistered.',
        check: (s, e) => {
          const r = spaceOf(s, e.vmSpace)
          const id = ioId(e, kind)
          const ok1 = (kind === 'reader' ? r.owner.readers : r.owner.writers).includes(id)
          return ok1 ? null : `${kind} ${id} is not registered with VmSpace ${e.vmSpace}`
        },
      },
    ],
    reduce(s, e) {
      const rec = new StepRecorder(s)
      const id = ioId(e, kind)
      const r = spaceOf(s, e.vmSpace)
      const idx = (kind === 'reader' ? r.owner.readers : r.owner.writers).indexOf(id)
      rec.run(kind === 'reader' ? removeReader : removeWriter, { type: `vm_space_owner.remove_${kind}`, vmSpace: e.vmSpace, idx })
      rec.set(dropExec(rec.snapshot, e.vmSpace, kind, id))
      return { snapshot: rec.snapshot, result: null, steps: rec.steps }
    },
  })
}

export const unregisterReader = unregisterSpec('reader')
export const unregisterWriter = unregisterSpec('writer')

/** Whether the user reader/writer `id` is registered with its space (exec list). */
export function isRegistered(s: Snapshot, id: number): boolean {
  const entry = tableGet(s.vmIos, id)
  if (entry === null || entry.space.kind !== 'user') return false
  const r = tableGet(s.vm.spaces, entry.space.vmSpace)
  return r !== null && (r.readers.includes(id) || r.writers.includes(id))
}

export const vmSpaceIoEvents: readonly EventSpec<ModelEvent, unknown>[] = [
  createReader,
  createWriter,
  vmSpaceReader,
  vmSpaceWriter,
  activateReader,
  activateWriter,
  registerReader,
  registerWriter,
  unregisterReader,
  unregisterWriter,
] as unknown as readonly EventSpec<ModelEvent, unknown>[]
