/**
 * Generator operations of VmSpace (issue 5, part 1): spaces and their activation, VmSpace cursors
 * with map / unmap / protect_next and the TLB flusher, user readers and writers (registered with
 * the ghost VmSpaceOwner or not) and the fallible user-space I/O with real bytes.
 *
 * Addresses stay in a small user window (`WINDOW`, 64 pages from 0x10000) so that maps, unmaps,
 * readers and writers meet each other: reads hit mapped pages, unmapped ones (PageFault), and pages
 * a registered reader or writer pins. Every candidate passes through `admissible` (the event's own
 * preconditions and reduction, as a dispatched call), as gen_pt.ts does: the VmSpaceOwner's
 * preconditions (disjoint ranges, views that translate) are predicates a copy here would only
 * duplicate; a refused candidate is dropped, so every proposed event is valid.
 *
 * Excluded (`VM_EXCLUDED_EVENT_TYPES`): the seed's `activate_reader` / `activate_writer` and the ghost
 * `dispose_*` / `remove_*` steps, which leave `inv_with` (INV-VMSPACE-12) broken when dispatched
 * alone; they run as the internal steps of `register_*` / `unregister_*`.
 */
import { PAGE_SIZE } from '../arch/constants.js'
import { newUser, PageFlags, type PageProperty } from '../arch/page_prop.js'
import { borrowFailure } from '../../reducers/io/vm_io.js'
import type { Snapshot, VmIoEntry } from '../model/snapshot.js'
import { tableForEach, tableGet, tableKeys } from '../model/table.js'
import { CAPS, type Op, type Rng } from './gen.js'
import { op, room } from './gen_checked.js'

const WINDOW_START = 0x10000
const WINDOW_PAGES = 64
/** The user window the operations work in (64 pages from 0x10000). */
export const VM_WINDOW = { start: WINDOW_START, end: WINDOW_START + PAGE_SIZE * WINDOW_PAGES } as const
const PROPS: readonly PageProperty[] = [newUser(PageFlags.RW), newUser(PageFlags.RW), newUser(PageFlags.R), newUser(PageFlags.RX)]
const INT_TYPES = ['u8', 'u16', 'u32', 'u64'] as const

/** Soft caps on live VmSpace objects. */
export const VM_CAPS = { spaces: 3, cursors: 2, userIos: 6 } as const




function liveSpaces(s: Snapshot): number[] {
  const out: number[] = []
  tableForEach(s.vm.spaces, (r, id) => {
    if (!r.dropped) out.push(id)
  })
  return out
}

/** A live space, the activated one half of the time (readers and writers need it). */
function space(s: Snapshot, rng: Rng): number | undefined {
  if (s.vm.activated !== null && !tableGet(s.vm.spaces, s.vm.activated)!.dropped && rng.chance(0.6)) return s.vm.activated
  return rng.pick(liveSpaces(s))
}

function vmCursor(s: Snapshot, rng: Rng, kind?: 'Cursor' | 'CursorMut'): number | undefined {
  const ids = tableKeys(s.vm.cursors)
  return rng.pick(kind === undefined ? ids : ids.filter((id) => tableGet(s.vm.cursors, id)!.kind === kind))
}

function page(rng: Rng): number {
  return WINDOW_START + PAGE_SIZE * rng.int(WINDOW_PAGES)
}

/** A byte range in the window: mostly inside one or two pages, sometimes unaligned. */
function byteRange(rng: Rng): { va: number; len: number } {
  const va = page(rng) + (rng.chance(0.5) ? rng.int(PAGE_SIZE) : 0)
  return { va, len: 1 + rng.int(rng.chance(0.8) ? 64 : 2 * PAGE_SIZE) }
}

function userIos(s: Snapshot, kind?: VmIoEntry['kind']): number[] {
  const out: number[] = []
  tableForEach(s.vmIos, (e, id) => {
    if (e.space.kind === 'user' && (kind === undefined || e.kind === kind)) out.push(id)
  })
  return out
}

/** A usable infallible kernel reader/writer (the other side of a fallible copy). */
function kernelIo(s: Snapshot, rng: Rng, kind: VmIoEntry['kind']): number | undefined {
  const out: number[] = []
  tableForEach(s.vmIos, (e, id) => {
    if (e.space.kind === 'linear' && e.kind === kind && borrowFailure(s, e) === null) out.push(id)
  })
  return rng.pick(out)
}

function valueOf(rng: Rng, t: (typeof INT_TYPES)[number]): number | string {
  return t === 'u64' ? String(rng.int(1 << 30) * 4096 + rng.int(4096)) : rng.int(2 ** (8 * { u8: 1, u16: 2, u32: 4 }[t]))
}

function registered(s: Snapshot, kind: 'Reader' | 'Writer'): Array<{ vmSpace: number; io: number }> {
  const out: Array<{ vmSpace: number; io: number }> = []
  tableForEach(s.vm.spaces, (r, vmSpace) => {
    for (const io of kind === 'Reader' ? r.readers : r.writers) out.push({ vmSpace, io })
  })
  return out
}

export const VM_OPS: Record<string, Op> = {
  vmNew: op(2, (s, rng) => (room(rng, liveSpaces(s).length, VM_CAPS.spaces) ? { type: 'vm_space.new' } : null)),
  vmDrop: op(0.4, (s, rng) => {
    const vs = rng.pick(liveSpaces(s))
    return vs === undefined ? null : { type: 'vm_space.drop', vmSpace: vs }
  }),
  vmActivate: op(2, (s, rng) => {
    const vs = rng.pick(liveSpaces(s))
    return vs === undefined ? null : { type: 'vm_space.activate', vmSpace: vs }
  }),
  vmCursorNew: op(4, (s, rng) => {
    if (!room(rng, s.vm.cursors.count, VM_CAPS.cursors)) return null
    const vs = space(s, rng)
    if (vs === undefined) return null
    const start = page(rng)
    const end = start + PAGE_SIZE * (1 + rng.int(16)) + (rng.chance(0.05) ? 1 : 0)
    return { type: rng.chance(0.8) ? 'vm_space.cursor_mut' : 'vm_space.cursor', vmSpace: vs, vaStart: rng.chance(0.03) ? end : start, vaEnd: end }
  }),
  vmCursorDrop: op(3, (s, rng) => {
    const c = vmCursor(s, rng)
    return c === undefined ? null : { type: 'vm_cursor.drop', cursor: c }
  }),
  vmCursorRead: op(2, (s, rng) => {
    const cursor = vmCursor(s, rng)
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    switch (rng.int(4)) {
      case 0:
        return { type: 'cursor.query', cursor }
      case 1:
        return { type: 'cursor.next', cursor }
      case 2:
        return { type: 'cursor.jump', cursor, va: c.barrierVa.start + PAGE_SIZE * rng.int(Math.max(1, (c.barrierVa.end - c.barrierVa.start) / PAGE_SIZE)) }
      default:
        return { type: 'cursor.find_next', cursor, len: PAGE_SIZE * rng.int(Math.max(0, Math.floor((c.barrierVa.end - c.va) / PAGE_SIZE)) + 1) }
    }
  }),
  vmMap: op(8, (s, rng, g) => {
    const cursor = vmCursor(s, rng, 'CursorMut')
    const frame = g.frames.pick(rng)
    if (cursor === undefined || frame === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    if (c.va >= c.barrierVa.end && rng.chance(0.9)) return { type: 'cursor.jump', cursor, va: c.barrierVa.start }
    return { type: 'vm_cursor_mut.map', cursor, frame, prop: rng.pick(PROPS)! }
  }),
  vmUnmap: op(2, (s, rng) => {
    const cursor = vmCursor(s, rng, 'CursorMut')
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    return { type: 'vm_cursor_mut.unmap', cursor, len: PAGE_SIZE * rng.int(Math.max(0, Math.floor((c.barrierVa.end - c.va) / PAGE_SIZE)) + 1) }
  }),
  vmProtectNext: op(1.5, (s, rng) => {
    const cursor = vmCursor(s, rng, 'CursorMut')
    if (cursor === undefined) return null
    const c = tableGet(s.pt.cursors, cursor)!
    return { type: 'vm_cursor_mut.protect_next', cursor, len: PAGE_SIZE * rng.int(Math.max(0, Math.floor((c.barrierVa.end - c.va) / PAGE_SIZE)) + 1), prop: rng.pick(PROPS)! }
  }),
  vmFlush: op(1.5, (s, rng, g) => {
    const cursor = vmCursor(s, rng, 'CursorMut')
    if (cursor === undefined) return null
    const op = rng.pick([{ kind: 'All' }, { kind: 'Address', va: page(rng) }, { kind: 'Range', start: WINDOW_START, end: WINDOW_START + PAGE_SIZE * WINDOW_PAGES }] as const)!
    switch (rng.int(4)) {
      case 0:
        return { type: 'vm_cursor_mut.issue_tlb_flush', cursor, op }
      case 1: {
        const frame = g.frames.pick(rng)
        return frame === undefined ? null : { type: 'vm_cursor_mut.issue_tlb_flush_with', cursor, op, release: { kind: 'frame', handle: frame } }
      }
      case 2:
        return { type: 'vm_cursor_mut.dispatch_tlb_flush', cursor }
      default:
        return { type: 'vm_cursor_mut.sync_tlb_flush', cursor }
    }
  }),
  vmNewIo: op(4, (s, rng) => {
    // the readers/writers of every kind share the generator's cap (CAPS.vmIos, read at run time)
    if (!room(rng, userIos(s).length, VM_CAPS.userIos) || s.vmIos.count >= CAPS.vmIos) return null
    const vs = space(s, rng)
    if (vs === undefined) return null
    const { va, len } = byteRange(rng)
    const kind = rng.chance(0.5) ? 'reader' : 'writer'
    return { type: rng.chance(0.8) ? `vm_space.${kind}` : `vm_space.create_${kind}`, vmSpace: vs, va: rng.chance(0.03) ? 0x7fff_ffff_f000 : va, len }
  }),
  vmNewIoId: op(0.2, (s, rng) => {
    const vs = space(s, rng)
    return vs === undefined ? null : { type: 'vm_space_owner.new_vm_io_id', vmSpace: vs }
  }),
  vmRegister: op(3, (s, rng) => {
    const io = rng.pick(userIos(s))
    if (io === undefined) return null
    const e = tableGet(s.vmIos, io)!
    if (e.space.kind !== 'user') return null
    const kind = e.kind === 'Reader' ? 'reader' : 'writer'
    return { type: `vm_space.register_${kind}`, vmSpace: e.space.vmSpace, [kind]: io }
  }),
  vmUnregister: op(2, (s, rng) => {
    const kind = rng.chance(0.5) ? 'Reader' : 'Writer'
    const pick = rng.pick(registered(s, kind))
    if (pick === undefined) return null
    const k = kind === 'Reader' ? 'reader' : 'writer'
    return { type: `vm_space.unregister_${k}`, vmSpace: pick.vmSpace, [k]: pick.io }
  }),
  vmIoMethod: op(8, (s, rng) => {
    const io = rng.pick(userIos(s))
    if (io === undefined) return null
    const e = tableGet(s.vmIos, io)!
    const left = e.end - e.cursor
    const t = rng.pick(INT_TYPES)!
    if (e.kind === 'Reader') {
      switch (rng.int(5)) {
        case 0:
          return { type: 'vm_reader.read_val', reader: io, valType: rng.chance(0.8) ? t : { size: 1 + rng.int(16) } }
        case 1:
          return { type: 'vm_reader.skip', reader: io, n: rng.int(Math.min(left, 64) + 1) }
        case 2:
          return { type: 'vm_reader.limit', reader: io, n: rng.int(left + 16) }
        case 3:
          return { type: 'vm_reader.collect', reader: io }
        default: {
          const w = kernelIo(s, rng, 'Writer')
          return w === undefined ? null : { type: 'vm_reader.read_fallible', reader: io, writer: w }
        }
      }
    }
    switch (rng.int(5)) {
      case 0:
        return { type: 'vm_writer.write_val', writer: io, valType: t, value: valueOf(rng, t) }
      case 1:
        return { type: 'vm_writer.skip', writer: io, n: rng.int(Math.min(left, 64) + 1) }
      case 2:
        return { type: 'vm_writer.limit', writer: io, n: rng.int(left + 16) }
      case 3:
        return { type: 'vm_writer.fill_zeros', writer: io, len: rng.int(left + 16) }
      default: {
        const r = kernelIo(s, rng, 'Reader')
        return r === undefined ? null : { type: 'vm_writer.write_fallible', writer: io, reader: r }
      }
    }
  }),
  vmIoDrop: op(2, (s, rng) => {
    const io = rng.pick(userIos(s))
    if (io === undefined) return null
    return tableGet(s.vmIos, io)!.kind === 'Reader' ? { type: 'vm_reader.drop', reader: io } : { type: 'vm_writer.drop', writer: io }
  }),
  // The embedding's ReaderQuery / WriterQuery (`remain()` / `avail()`, reducers/embedding/io_query.ts).
  vmIoQuery: op(0.5, (s, rng) => {
    const io = rng.pick(tableKeys(s.vmIos))
    if (io === undefined) return null
    return tableGet(s.vmIos, io)!.kind === 'Reader' ? { type: 'vm_reader.remain', reader: io } : { type: 'vm_writer.avail', writer: io }
  }),
}

/** Event types the VmSpace generator never proposes, and why. */
export const VM_EXCLUDED_EVENT_TYPES: Readonly<Record<string, string>> = Object.fromEntries(
  ['vm_space.activate_reader', 'vm_space.activate_writer', 'vm_space_owner.dispose_reader', 'vm_space_owner.dispose_writer', 'vm_space_owner.remove_reader', 'vm_space_owner.remove_writer'].map((t) => [
    t,
    "a seed step that leaves inv_with (INV-VMSPACE-12) broken on its own: it runs as an internal step of vm_space.register_* / unregister_*",
  ]),
)
