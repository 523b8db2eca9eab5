/**
 * Shared pieces of the VmSpace reducers: editing `Snapshot.vm`, the live-handle preconditions of
 * VmSpaces and VmSpace cursors, and the ghost view bookkeeping the cursor events share.
 * The state and its spec predicates are in src/model/vm_space.ts (read its module comment).
 */
import { frameToIndex } from '../../src/arch/constants.js'
import { editSnapshot } from '../../src/model/edit.js'
import type { Draft } from '../../src/model/immer.js'
import { cursorAt } from '../../src/model/pt_cursor.js'
import type { Mapping, VaRange } from '../../src/model/pt_view.js'
import { mappingsIn } from '../../src/model/pt_view.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableGet, tableWith } from '../../src/model/table.js'
import { liveVmSpace, ownerOfIo, viewWith, vmCursorAt, vmSpaceAt, type VmCursorRecord, type VmSpaceRecord, type VmState } from '../../src/model/vm_space.js'
import { HANDLE_SUMMARY } from '../frame/handles.js'
import type { ModelEvent, Requirement } from '../types.js'

/** A snapshot with `vm` replaced by `fn(vm)`; `d` edits the rest (counters) in the same transaction. */
export function withVm(s: Snapshot, fn: (vm: VmState, d: Draft<Snapshot>) => VmState): Snapshot {
  return editSnapshot(s, (d) => {
    d.vm = fn(s.vm, d) as Draft<VmState>
  })
}

export function putSpace(vm: VmState, id: number, r: VmSpaceRecord | null): VmState {
  return { ...vm, spaces: tableWith(vm.spaces, id, r) }
}

export function putVmCursor(vm: VmState, id: number, c: VmCursorRecord | null): VmState {
  return { ...vm, cursors: tableWith(vm.cursors, id, c) }
}

/** The live VmSpace of an event (call after its REQ-HANDLE-1). */
export function spaceOf(s: Snapshot, id: number): VmSpaceRecord {
  return vmSpaceAt(s, id)!
}

/** REQ-HANDLE-1 on a VmSpace handle. */
export function liveSpace<E extends ModelEvent>(field: keyof E & string = 'vmSpace' as keyof E & string): Requirement<E> {
  return {
    rule: 'REQ-HANDLE-1',
    kind: 'requires',
    summary: HANDLE_SUMMARY,
    check: (s, e) => (liveVmSpace(s, e[field] as number) === null ? `VmSpace ${String(e[field])} is not a live handle (dropped, or never created)` : null),
  }
}

/** REQ-HANDLE-1 on a VmSpace cursor (a live page-table cursor made by `vm_space.cursor` / `cursor_mut`). */
export function liveVmCursor<E extends ModelEvent>(kind: 'Cursor' | 'CursorMut' | 'any'): Requirement<E> {
  return {
    rule: 'REQ-HANDLE-1',
    kind: 'requires',
    summary: HANDLE_SUMMARY,
    check: (s, e) => {
      const id = e['cursor'] as number
      const c = vmCursorAt(s, id)
      if (c === null || cursorAt(s, id) === null) return `VmSpace cursor ${String(id)} is not a live handle (dropped, or never created by vm_space.cursor / cursor_mut)`
      if (kind !== 'any' && c.kind !== kind) return `VmSpace cursor ${id} is a ${c.kind}, not a ${kind} (Rust's types keep them apart)`
      return null
    },
  }
}

/** The root slot of a space's page table. */
export function spaceRootSlot(s: Snapshot, r: VmSpaceRecord): number {
  return frameToIndex(tableGet(s.pt.tables, r.pageTable)!.rootPaddr)
}

/** The page table's mappings overlapping `range` (ghost view). */
export function spaceMappingsIn(s: Snapshot, r: VmSpaceRecord, range: VaRange): Mapping[] {
  return mappingsIn(s, spaceRootSlot(s, r), range, { config: 'user' })
}

/**
 * REQ-VMSCURSOR-1 [model]: a registered reader/writer pins its range — a VmSpace cursor changes no
 * mapping a registered reader or writer covers (the verified views lent to them would go stale).
 * Returns why `range` may not change, or null.
 */
export function pinnedFailure(s: Snapshot, vmSpace: number, range: VaRange): string | null {
  const r = vmSpaceAt(s, vmSpace)
  if (r === null) return null
  for (const vio of [...r.owner.readers, ...r.owner.writers]) {
    const o = ownerOfIo(s, vio)
    if (o === null || o.memView === null) continue
    for (const m of o.memView.view.mappings) {
      if (m.vaRange.start < range.end && range.start < m.vaRange.end) return `the mapping [0x${m.vaRange.start.toString(16)}, 0x${m.vaRange.end.toString(16)}) is lent to registered vm_io ${vio} (unregister it first)`
    }
  }
  return null
}

export const PINNED_SUMMARY = '[model] A VmSpace cursor changes no mapping that a registered reader or writer holds in its memory view (the view was lent to it; unregister it first).'

/**
 * REQ-VMSCURSOR-1 for a VmSpace cursor event changing `[va, va + lenOf(e))` at the cursor: no
 * registered reader or writer holds a mapping there (`pinnedFailure`).
 */
export function pinnedWindow<E extends ModelEvent & { cursor: number }>(lenOf: (e: E) => number): Requirement<E> {
  return {
    rule: 'REQ-VMSCURSOR-1',
    kind: 'requires',
    summary: PINNED_SUMMARY,
    check: (s, e) => {
      const c = cursorAt(s, e.cursor)!
      return pinnedFailure(s, vmCursorAt(s, e.cursor)!.vmSpace, { start: c.va, end: c.va + lenOf(e) })
    },
  }
}

/**
 * The ghost bookkeeping of a page-table change made through a VmSpace cursor while the space is
 * active: the total and remaining views lose `removed` and gain `added` (module comment of
 * src/model/vm_space.ts). Nothing happens while the space is inactive.
 */
export function updateViews(vm: VmState, vmSpace: number, removed: readonly Mapping[], added: readonly Mapping[]): VmState {
  const r = tableGet(vm.spaces, vmSpace)
  if (r === null || !r.owner.active || r.owner.memView === null || r.owner.mvRange === null) return vm
  if (removed.length === 0 && added.length === 0) return vm
  const mvRange = viewWith(r.owner.mvRange, removed, added)
  // activation makes the two views one object, until a writer takes a part of the remaining one: keep it one (comparing the two is then free)
  const memView = r.owner.memView === r.owner.mvRange ? mvRange : viewWith(r.owner.memView, removed, added)
  const owner = { ...r.owner, memView, mvRange }
  return putSpace(vm, vmSpace, { ...r, owner })
}

/** The mappings that differ between two lists (by identity of their fields): [removed, added]. */
export function mappingDelta(before: readonly Mapping[], after: readonly Mapping[]): [Mapping[], Mapping[]] {
  const key = (m: Mapping): string => `${m.vaRange.start}:${m.paRange.start}:${m.pageSize}:${m.property.flags}:${m.property.cache}:${m.property.privFlags}`
  const a = new Set(after.map(key))
  const b = new Set(before.map(key))
  return [before.filter((m) => !a.has(key(m))), after.filter((m) => !b.has(key(m)))]
}
