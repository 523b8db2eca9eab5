/**
 * The ghost `VmSpaceOwner` operations (seed 004 vm_space.rs 345–560, proof fns; operations.md §7):
 * they change only ghost state. Each is an event so that it is checked and visible in the history;
 * the exec events of reader_writer.ts run them as internal steps.
 *
 * Events:
 *   vm_space_owner.new_vm_io_id   {vmSpace}          a fresh VM I/O id (counter `vmIo`)
 *   vm_space_owner.dispose_reader {vmSpace, reader}  a non-empty reader's owner joins `readers`
 *   vm_space_owner.dispose_writer {vmSpace, writer}  a non-empty writer's owner joins `writers`
 *   vm_space_owner.remove_reader  {vmSpace, idx}     `readers.remove(idx)`; the borrowed read view ends
 *   vm_space_owner.remove_writer  {vmSpace, idx}     `writers.remove(idx)`; its write view joins `mem_view` back
 *
 * Owners are named by their vmIo id (src/model/vm_space.ts): "push the owner" is "push its id"; an
 * owner leaving the space's sequences keeps living in its entry, with no view.
 */
import { z } from 'zod'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import { hasMapping } from '../../src/model/mapping_list.js'
import { ioDisjoint, joinView, mappingsSubset, ownerOfIo, vmIoOwnerInv, vmSpaceAt, vmSpaceFindings, type MemView, type VmIoOwner } from '../../src/model/vm_space.js'
import { editSnapshot } from '../../src/model/edit.js'
import { freshId } from '../frame/edit.js'
import { HandleId, Usize } from '../schema.js'
import { defineEvent, type EventSpec, type ModelEvent, type Requirement } from '../types.js'
import { liveSpace, putSpace, spaceOf } from './state.js'

const OWNER_INV = new Set(['INV-VMSPACE-2', 'INV-VMSPACE-3', 'INV-VMSPACE-4', 'INV-VMSPACE-5', 'INV-VMSPACE-6', 'INV-VMSPACE-7', 'INV-VMSPACE-8', 'INV-VMSPACE-9', 'INV-VMSPACE-10', 'INV-VMSPACE-11'])

/**
 * Why `VmSpaceOwner::inv()` fails for space `id` (INV-VMSPACE-2..11), or null. `lent`: write views
 * held by an owner on its way back (`dispose_writer`'s argument), which MD-10 exempts like the
 * registered writers' views.
 */
export function ownerInvFailure(s: Snapshot, id: number, lent: readonly MemView[] = []): string | null {
  const r = vmSpaceAt(s, id)
  if (r === null) return null
  const f = vmSpaceFindings(s, id, r, lent).find((x) => OWNER_INV.has(x.rule))
  return f === undefined ? null : `VmSpaceOwner ${id}: ${f.rule}: ${f.message}`
}

/** Why `inv_with(vm_space)` (INV-VMSPACE-12) or `VmSpace::inv` (INV-VMSPACE-1) fails, or null. */
export function invWithFailure(s: Snapshot, id: number): string | null {
  const r = vmSpaceAt(s, id)
  if (r === null) return null
  const f = vmSpaceFindings(s, id, r).find((x) => x.rule === 'INV-VMSPACE-12' || x.rule === 'INV-VMSPACE-1')
  return f === undefined ? null : `VmSpace ${id}: ${f.rule}: ${f.message}`
}

/** Why `VmSpace::inv()` (INV-VMSPACE-1: every registered reader/writer is `inv()`) fails, or null. */
export function spaceInvFailure(s: Snapshot, id: number): string | null {
  const r = vmSpaceAt(s, id)
  if (r === null) return null
  const f = vmSpaceFindings(s, id, r).find((x) => x.rule === 'INV-VMSPACE-1')
  return f === undefined ? null : `VmSpace ${id}: ${f.message}`
}

function activeFailure(s: Snapshot, id: number): string | null {
  const r = vmSpaceAt(s, id)
  return r === null || r.owner.active ? null : `VmSpaceOwner ${id} is not active`
}

// ---- new_vm_io_id --------------------------------------------------------------------------------

export const NewVmIoIdEvent = z.object({ type: z.literal('vm_space_owner.new_vm_io_id'), vmSpace: HandleId })
export type NewVmIoIdEvent = z.infer<typeof NewVmIoIdEvent>

/** `new_vm_io_id()`: a fresh id from the `vmIo` counter. Requires REQ-HANDLE-1, REQ-VMSOWNER-NEWID-1. Owes ENS-VMSOWNER-NEWID-1 [model]. */
export const newVmIoId = defineEvent<NewVmIoIdEvent, { id: number }>({
  type: 'vm_space_owner.new_vm_io_id',
  doc: 'VmSpaceOwner::new_vm_io_id(): a fresh VM I/O id (ghost).',
  schema: NewVmIoIdEvent,
  requires: [liveSpace<NewVmIoIdEvent>(), { rule: 'REQ-VMSOWNER-NEWID-1', kind: 'requires', check: (s, e) => ownerInvFailure(s, e.vmSpace) }],
  reduce(s) {
    let id = -1
    const snapshot = editSnapshot(s, (d) => {
      id = freshId(d, 'vmIo')
    })
    return { snapshot, result: { id } }
  },
})

// ---- dispose -------------------------------------------------------------------------------------

type DisposeEvent = { type: string; vmSpace: number } & ({ reader: number } | { writer: number })

function ioOf(e: DisposeEvent): number {
  return 'reader' in e ? e.reader : e.writer
}

/** The VmIoOwner an event names (REQ-HANDLE-1 on a user reader/writer). */
function liveIoOwner<E extends ModelEvent>(field: string, kind: 'Reader' | 'Writer'): Requirement<E> {
  return {
    rule: 'REQ-HANDLE-1',
    kind: 'requires',
    check: (s, e) => {
      const id = e[field] as number
      const entry = tableGet(s.vmIos, id)
      if (entry === null) return `Vm${kind} ${id} is not a live handle`
      if (entry.kind !== kind || entry.owner === undefined) return `vm_io ${id} is not a user-space Vm${kind}`
      return null
    },
  }
}

/** The `disjoint` precondition of dispose (closed-interval ranges, then views): the first overlapping owner, or null. */
function overlapping(s: Snapshot, vmSpace: number, o: VmIoOwner, self: number): string | null {
  const r = spaceOf(s, vmSpace)
  for (const [list, what] of [[r.owner.writers, 'writer'], [r.owner.readers, 'reader']] as const) {
    for (const vio of list) {
      if (vio === self) return `vm_io ${self} is already one of the space's ${what}s`
      const other = ownerOfIo(s, vio)
      if (other !== null && !ioDisjoint(other, o)) return `${what} ${vio} [0x${other.range.start.toString(16)}, 0x${other.range.end.toString(16)}] is not disjoint from [0x${o.range.start.toString(16)}, 0x${o.range.end.toString(16)}] (closed-interval test, then views)`
    }
  }
  return null
}

function disposeSpec(kind: 'reader' | 'writer'): EventSpec<DisposeEvent, null> {
  const K = kind === 'reader' ? 'READER' : 'WRITER'
  const Kind = kind === 'reader' ? 'Reader' : 'Writer'
  const type = `vm_space_owner.dispose_${kind}`
  /**
   * `dispose_reader(owner)` / `dispose_writer(owner)`: a non-empty owner joins the space's
   * `readers` / `writers`; an empty one is discarded. Requires REQ-HANDLE-1,
   * REQ-VMSOWNER-DISPOSE{READER,WRITER}-1..3. Owes ENS-VMSOWNER-DISPOSE{READER,WRITER}-1..3.
   */
  return defineEvent<DisposeEvent, null>({
    type,
    doc: `VmSpaceOwner::dispose_${kind}(owner): the ${kind}'s owner (with its ${kind === 'reader' ? 'read' : 'write'} view) is returned to the space's ${kind}s (ghost).`,
    schema: z.object({ type: z.literal(type), vmSpace: HandleId, [kind]: HandleId }) as unknown as z.ZodType<DisposeEvent>,
    requires: [
      liveSpace<DisposeEvent>(),
      liveIoOwner<DisposeEvent>(kind, Kind),
      {
        rule: `REQ-VMSOWNER-DISPOSE${K}-1`,
        kind: 'requires',
        check: (s, e) => {
          const o = ownerOfIo(s, ioOf(e))!
          const f = vmIoOwnerInv(o, `vmIos[${ioOf(e)}].owner`)[0]
          return (f !== undefined ? `owner.inv() fails: ${f.message}` : null) ?? ownerInvFailure(s, e.vmSpace, o.memView?.kind === 'WriteView' ? [o.memView.view] : []) ?? activeFailure(s, e.vmSpace)
        },
      },
      {
        rule: `REQ-VMSOWNER-DISPOSE${K}-2`,
        kind: 'requires',
        check: (s, e) => {
          const r = spaceOf(s, e.vmSpace).owner
          const o = ownerOfIo(s, ioOf(e))!
          if (r.mvRange === null || r.memView === null) return `VmSpaceOwner ${e.vmSpace} has no memory views`
          const want = kind === 'reader' ? 'ReadView' : 'WriteView'
          if (o.memView === null || o.memView.kind !== want) return `the ${kind}'s owner holds no ${want}`
          const mv = o.memView.view
          if (!mappingsSubset(mv, r.mvRange)) return `the ${kind}'s view translates differently from the total view`
          if (kind === 'writer') {
            const rem = r.memView.mappings
            if (mv.mappings.some((m) => hasMapping(rem, m))) return 'the writer view shares a mapping with the remaining view'
            if (mv.mappings.some((m) => r.memView!.mappings.some((x) => x.vaRange.start < m.vaRange.end && m.vaRange.start < x.vaRange.end))) return 'the remaining view translates where the writer view does'
          }
          return null
        },
      },
      { rule: `REQ-VMSOWNER-DISPOSE${K}-3`, kind: 'requires', check: (s, e) => overlapping(s, e.vmSpace, ownerOfIo(s, ioOf(e))!, ioOf(e)) },
    ],
    reduce(s, e) {
      const o = ownerOfIo(s, ioOf(e))!
      if (!(o.range.start < o.range.end)) return { snapshot: s, result: null }
      const r = spaceOf(s, e.vmSpace)
      const owner = kind === 'reader' ? { ...r.owner, readers: [...r.owner.readers, ioOf(e)] } : { ...r.owner, writers: [...r.owner.writers, ioOf(e)] }
      return { snapshot: editSnapshot(s, (d) => void (d.vm = putSpace(s.vm, e.vmSpace, { ...r, owner }) as typeof d.vm)), result: null }
    },
  })
}

export const disposeReader = disposeSpec('reader')
export const disposeWriter = disposeSpec('writer')

// ---- remove --------------------------------------------------------------------------------------

type RemoveEvent = { type: string; vmSpace: number; idx: number }

function removeSpec(kind: 'reader' | 'writer'): EventSpec<RemoveEvent, null> {
  const K = kind === 'reader' ? 'READER' : 'WRITER'
  const type = `vm_space_owner.remove_${kind}`
  /**
   * `remove_reader(idx)`: `readers.remove(idx)` (the borrowed read view ends: the owner, in its
   * entry, has no view). `remove_writer(idx)`: `writers.remove(idx)` and the writer's view joins the
   * remaining view (`mem_view.join(wmv)`); the owner keeps no view. Requires REQ-HANDLE-1,
   * REQ-VMSOWNER-REMOVE{READER,WRITER}-1..2. Owes ENS-VMSOWNER-REMOVE{READER-1..3,WRITER-1..4}.
   */
  return defineEvent<RemoveEvent, null>({
    type,
    doc: `VmSpaceOwner::remove_${kind}(idx): the ${kind} at idx leaves the space's ${kind}s${kind === 'writer' ? '; its write view joins the remaining view' : ''} (ghost).`,
    schema: z.object({ type: z.literal(type), vmSpace: HandleId, idx: Usize }) as unknown as z.ZodType<RemoveEvent>,
    requires: [
      liveSpace<RemoveEvent>(),
      {
        rule: `REQ-VMSOWNER-REMOVE${K}-1`,
        kind: 'requires',
        check: (s, e) => ownerInvFailure(s, e.vmSpace) ?? activeFailure(s, e.vmSpace) ?? (spaceOf(s, e.vmSpace).owner.memView === null || spaceOf(s, e.vmSpace).owner.mvRange === null ? `VmSpaceOwner ${e.vmSpace} has no memory view` : null),
      },
      {
        rule: `REQ-VMSOWNER-REMOVE${K}-2`,
        kind: 'requires',
        check: (s, e) => {
          const n = (kind === 'reader' ? spaceOf(s, e.vmSpace).owner.readers : spaceOf(s, e.vmSpace).owner.writers).length
          return e.idx < n ? null : `idx ${e.idx} is out of range: the space has ${n} ${kind}s`
        },
      },
    ],
    reduce(s, e) {
      const r = spaceOf(s, e.vmSpace)
      const list = kind === 'reader' ? r.owner.readers : r.owner.writers
      const vio = list[e.idx]!
      const rest = list.filter((_, i) => i !== e.idx)
      const entry = tableGet(s.vmIos, vio)
      const view = entry?.owner?.memView ?? null
      let owner = kind === 'reader' ? { ...r.owner, readers: rest } : { ...r.owner, writers: rest }
      if (kind === 'writer' && view !== null && owner.memView !== null) owner = { ...owner, memView: joinView(owner.memView, view.view) }
      const snapshot = editSnapshot(s, (d, t) => {
        d.vm = putSpace(s.vm, e.vmSpace, { ...r, owner }) as typeof d.vm
        if (entry !== null && entry.owner !== undefined) t.vmIos.set(vio, { ...entry, owner: { ...entry.owner, memView: null } })
      })
      return { snapshot, result: null }
    },
  })
}

export const removeReader = removeSpec('reader')
export const removeWriter = removeSpec('writer')

export const vmSpaceOwnerEvents: readonly EventSpec<ModelEvent, unknown>[] = [newVmIoId, disposeReader, disposeWriter, removeReader, removeWriter] as unknown as readonly EventSpec<ModelEvent, unknown>[]
