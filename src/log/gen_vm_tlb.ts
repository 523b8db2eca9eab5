/**
 * Generator operations that bring the TLB into VmSpace histories (issue 7). In `ALL_OPS` no user
 * access hits a mapped page of the activated space often enough for the TLB to cache one, so no
 * flush ever removes a cached translation: the TLB rules (ENS-TLB-*, ENS-VMSCURSOR-*, INV-TLB-*)
 * meet an empty TLB. Here readers and writers open on mapped pages of the activated space and
 * read / write them (the MMU caches the translation); cursors jump onto mapped pages, so `map`
 * replaces a mapping and `unmap` / flushes remove cached ones; flushes target a cached translation,
 * from the activated space's cursors and from another space's (which must flush nothing here); a
 * cursor over two 2 MiB-aligned entries (its guard a level-2 node) maps into a level-1 node, which
 * an unmap of its whole range strays.
 *
 * Not part of `ALL_OPS` (its histories stay as they are): mixed in by the mutation fixtures
 * (test/mutation/histories.ts `TLB_OPS`) and the property tests (`ALL_OPS` + these, prefixed `tlb.`).
 */
import { pageSize } from '../arch/constants.js'
import type { ModelEvent } from '../../reducers/index.js'
import { spaceRootSlot } from '../../reducers/vm_space/state.js'
import { firstMappingFrom } from '../model/pt_view.js'
import type { Snapshot } from '../model/snapshot.js'
import { tableGet, tableKeys } from '../model/table.js'
import type { Op, Rng } from './gen.js'
import { op } from './gen_checked.js'
import { VM_WINDOW } from './gen_vm.js'

/** The activated VmSpace, if it is live. */
function activatedSpace(s: Snapshot): { id: number; root: number } | null {
  const id = s.vm.activated
  const r = id === null ? null : tableGet(s.vm.spaces, id)
  return id === null || r === null || r.dropped ? null : { id, root: spaceRootSlot(s, r) }
}

/** VmSpace CursorMuts (of the space `vmSpace`, when given). */
function vmCursorsMut(s: Snapshot, vmSpace?: number): number[] {
  return tableKeys(s.vm.cursors).filter((id) => {
    const c = tableGet(s.vm.cursors, id)!
    return c.kind === 'CursorMut' && (vmSpace === undefined || c.vmSpace === vmSpace)
  })
}

/** A mapping of the activated space's page table in a window, from a random page on (wrapping). */
function mappedInActivated(s: Snapshot, rng: Rng): { va: number; space: number } | null {
  const a = activatedSpace(s)
  if (a === null) return null
  // the generator's window, or the 2 MiB entries `wideCursor` maps in
  const w = rng.chance(0.6) ? VM_WINDOW : { start: pageSize(2), end: 4 * pageSize(2) }
  const from = w.start + pageSize(1) * rng.int((w.end - w.start) / pageSize(1))
  const m = firstMappingFrom(s, a.root, from, w.end, { config: 'user' }) ?? firstMappingFrom(s, a.root, w.start, w.end, { config: 'user' })
  return m === null ? null : { va: m.vaRange.start, space: a.id }
}

export const VM_TLB_OPS: Record<string, Op> = {
  dispatch: op(3, (s, rng) => {
    const cursor = rng.pick(vmCursorsMut(s).filter((id) => (tableGet(s.vm.cursors, id)!.flusher?.ops.length ?? 0) > 0))
    return cursor === undefined ? null : { type: rng.chance(0.5) ? 'vm_cursor_mut.dispatch_tlb_flush' : 'vm_cursor_mut.sync_tlb_flush', cursor }
  }),
  ioOnMapped: op(6, (s, rng) => {
    if (s.vmIos.count >= 6) return null
    const m = mappedInActivated(s, rng)
    if (m === null) return null
    const kind = rng.chance(0.6) ? 'reader' : 'writer'
    return { type: `vm_space.${kind}`, vmSpace: m.space, va: m.va + (rng.chance(0.5) ? 0 : rng.int(pageSize(1))), len: 1 + rng.int(2 * pageSize(1)) } as ModelEvent
  }),
  access: op(10, (s, rng) => {
    const a = activatedSpace(s)
    const ios = tableKeys(s.vmIos).filter((id) => {
      const e = tableGet(s.vmIos, id)!
      return e.space.kind === 'user' && e.space.vmSpace === a?.id && e.end > e.cursor
    })
    const io = rng.pick(ios)
    if (io === undefined) return null
    const e = tableGet(s.vmIos, io)!
    return e.kind === 'Reader' ? { type: 'vm_reader.collect', reader: io } : { type: 'vm_writer.fill_zeros', writer: io, len: e.end - e.cursor }
  }),
  jumpToMapped: op(4, (s, rng) => {
    const cursor = rng.pick(vmCursorsMut(s))
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    const root = spaceRootSlot(s, tableGet(s.vm.spaces, tableGet(s.vm.cursors, cursor)!.vmSpace)!)
    const m = firstMappingFrom(s, root, c.barrierVa.start, c.barrierVa.end, { config: 'user' })
    return m === null || m.vaRange.start === c.va ? null : { type: 'cursor.jump', cursor, va: m.vaRange.start }
  }),
  flushCached: op(4, (s, rng) => {
    const a = activatedSpace(s)
    const cursor = a === null ? undefined : rng.pick(vmCursorsMut(s, a.id))
    const m = rng.pick([...s.vm.tlb.mappings])
    if (cursor === undefined || m === undefined) return null
    const flush = rng.chance(0.5) ? { kind: 'Address', va: m.vaRange.start } : { kind: 'Range', start: m.vaRange.start, end: m.vaRange.end }
    return { type: 'vm_cursor_mut.issue_tlb_flush', cursor, op: flush } as ModelEvent
  }),
  // a cursor of another space flushes a VA the activated space's translation is cached at: not this TLB's
  flushOther: op(2, (s, rng) => {
    const a = activatedSpace(s)
    const cursor = rng.pick(vmCursorsMut(s).filter((id) => tableGet(s.vm.cursors, id)!.vmSpace !== a?.id))
    const m = rng.pick([...s.vm.tlb.mappings])
    if (cursor === undefined || m === undefined) return null
    return { type: 'vm_cursor_mut.issue_tlb_flush', cursor, op: rng.chance(0.5) ? { kind: 'All' } : { kind: 'Address', va: m.vaRange.start } } as ModelEvent
  }),
  rewind: op(2, (s, rng) => {
    const cursor = rng.pick(vmCursorsMut(s))
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    return c.va === c.barrierVa.start ? null : { type: 'cursor.jump', cursor, va: c.barrierVa.start }
  }),
  unmapRest: op(2, (s, rng) => {
    const cursor = rng.pick(vmCursorsMut(s))
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    return c.va >= c.barrierVa.end ? null : { type: 'vm_cursor_mut.unmap', cursor, len: c.barrierVa.end - c.va }
  }),
  wideCursor: op(1, (s, rng) => {
    if (s.vm.cursors.count >= 2) return null
    const a = activatedSpace(s)
    if (a === null) return null
    const vaStart = pageSize(2) * (1 + rng.int(2))
    return { type: 'vm_space.cursor_mut', vmSpace: a.id, vaStart, vaEnd: vaStart + 2 * pageSize(2) }
  }),
  // … back to its start once it mapped something, then unmap all of it: its level-1 node goes stray
  unmapWide: op(4, (s, rng) => {
    const cursor = rng.pick(vmCursorsMut(s).filter((id) => {
      const c = tableGet(s.pt.cursors, id)!
      return c.barrierVa.end - c.barrierVa.start === 2 * pageSize(2) && c.barrierVa.start % pageSize(2) === 0 && c.va > c.barrierVa.start
    }))
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    return rng.chance(0.5) ? { type: 'cursor.jump', cursor, va: c.barrierVa.start } : { type: 'vm_cursor_mut.unmap', cursor, len: c.barrierVa.end - c.va }
  }),
}
