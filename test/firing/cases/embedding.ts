/**
 * Firing cases of the embedding (src/check/rules/embedding/*, reducers/embedding/*): a bad id for
 * every REQ-EMB `op_pre` (rejected, state unchanged), a faulty reducer variant of the Op's event for
 * every ENS-EMB clause, and corrupted snapshots for the ENS-EMB-ALL umbrellas.
 */
import type { Draft } from 'immer'
import { frameToIndex, PAGE_SIZE } from '../../../src/arch/constants.js'
import { newUser, PageFlags } from '../../../src/arch/page_prop.js'
import type { Model } from '../../../src/api/model.js'
import { UNIT_META, type Snapshot } from '../../../src/model/snapshot.js'
import { tableGet, tableWith, type Table } from '../../../src/model/table.js'
import type { VmCursorRecord } from '../../../src/model/vm_space.js'
import { err, ok, type EventSpec, type ModelEvent, type Outcome } from '../../../reducers/types.js'
import { vmSpaceDrop, vmSpaceNew } from '../../../reducers/vm_space/vm_space.js'
import { vmSpaceReader, vmSpaceWriter } from '../../../reducers/vm_space/reader_writer.js'
import { vmSpaceCursor, vmSpaceCursorMut, vmCursorDrop } from '../../../reducers/vm_space/cursor.js'
import { vmCursorMap } from '../../../reducers/vm_space/map.js'
import { vmCursorUnmap } from '../../../reducers/vm_space/unmap.js'
import { vmCursorProtectNext } from '../../../reducers/vm_space/protect.js'
import { cursorFindNext, cursorJump, cursorQuery, cursorVirtAddr } from '../../../reducers/page_table/cursor.js'
import { readerRemain } from '../../../reducers/embedding/io_query.js'
import { readerRead, writerWrite } from '../../../reducers/io/vm_io.js'
import { uniqueDrop, uniqueFromUnused } from '../../../reducers/frame/unique.js'
import { corrupted, edit, rejected, variant, withVariantBothModes, type FiringCase, type FiringOutcome } from '../harness.js'
import { newSpace, okv } from './vm_util.js'
import { ownerIn, setCells, setOwner, tableSet } from './util.js'

const RW = newUser(PageFlags.RW)
const K4 = PAGE_SIZE
const MEM = { physicalMemory: 1 << 23 }

// ---- building states -------------------------------------------------------------------------------

function cursorOf(m: Model, vs: number, start: number, end: number, mut = true): number {
  return okv<{ cursor: number }>(m.call({ type: mut ? 'vm_space.cursor_mut' : 'vm_space.cursor', vmSpace: vs, vaStart: start, vaEnd: end })).cursor
}

function frame(m: Model): { frame: number; paddr: number } {
  return okv<{ frame: number; paddr: number }>(m.call({ type: 'frame_alloc.alloc_frame' }))
}

/** Maps a fresh frame at `va` through a cursor it then drops; returns the frame's paddr. */
function mapAt(m: Model, vs: number, va: number): number {
  const f = frame(m)
  const c = cursorOf(m, vs, va, va + K4)
  m.dispatch({ type: 'vm_cursor_mut.map', cursor: c, frame: f.frame, prop: RW })
  m.dispatch({ type: 'vm_cursor.drop', cursor: c })
  return f.paddr
}

/** A space with a page mapped at 0x10000; `s.vs`, `s.pa`. */
let last = { vs: 0, pa: 0, c: 0 }
function spaceWithPage(m: Model): void {
  const vs = newSpace(m)
  last = { vs, pa: mapAt(m, vs, 0x10000), c: -1 }
}

/** `spaceWithPage` and a CursorMut over [0x10000, 0x12000) (`last.c`). */
function spaceWithCursor(m: Model): void {
  spaceWithPage(m)
  last.c = cursorOf(m, last.vs, 0x10000, 0x12000)
}

/** A variant of `spec` whose post-state is edited by `fix` (and whose result by `result`). */
function after<E extends ModelEvent, R>(spec: EventSpec<E, R>, fix: (d: Draft<Snapshot>, pre: Snapshot, e: E, out: Outcome<R>) => void, result?: (r: R, pre: Snapshot, e: E) => R): EventSpec<ModelEvent, unknown> {
  return variant(spec, (s, e) => {
    const out = spec.reduce(s, e)
    return { ...out, snapshot: edit(out.snapshot, (d) => fix(d, s, e, out)), result: result ? result(out.result, s, e) : out.result }
  })
}

/** A variant whose result is replaced (state as the correct reducer leaves it). */
function resultOf<E extends ModelEvent, R>(spec: EventSpec<E, R>, result: (r: R, pre: Snapshot, e: E) => R): EventSpec<ModelEvent, unknown> {
  return after(spec, () => {}, result)
}

/** Un-parks slot `idx` (the "`slots` unchanged" clauses). */
function unpark(d: Draft<Snapshot>, idx: number): void {
  tableSet(d.regions.unparked, idx, true)
}

/**
 * Set by a case right before the call its faulty variant is for: the setup dispatches the same
 * event type (`vm_space.new`, `vm_space.cursor_mut`, `vm_cursor.drop`) correctly.
 */
let armed = false
function arm(): void {
  armed = true
}
function armedAfter<E extends ModelEvent, R>(spec: EventSpec<E, R>, fix: (d: Draft<Snapshot>, pre: Snapshot, e: E, out: Outcome<R>) => void, result?: (r: R, pre: Snapshot, e: E) => R): EventSpec<ModelEvent, unknown> {
  return variant(spec, (s, e) => {
    const out = spec.reduce(s, e)
    if (!armed) return out
    armed = false
    return { ...out, snapshot: edit(out.snapshot, (d) => fix(d, s, e, out)), result: result ? result(out.result, s, e) : out.result }
  })
}
function armedVariant<E extends ModelEvent, R>(spec: EventSpec<E, R>, reduce: (s: Snapshot, e: E) => Outcome<R>): EventSpec<ModelEvent, unknown> {
  return variant(spec, (s, e) => {
    if (!armed) return spec.reduce(s, e)
    armed = false
    return reduce(s, e)
  })
}

/** A free slot far from everything the cases allocate. */
const FAR = 1500

function ens(rule: string, title: string, variants: ReadonlyArray<EventSpec<ModelEvent, unknown>>, act: (m: Model) => void, expect?: string[]): FiringCase {
  return {
    rule,
    title,
    ...(expect ? { expect: [rule, ...expect] } : {}),
    run: () =>
      withVariantBothModes(variants, (m) => {
        armed = false
        act(m)
      }),
  }
}

function req(rule: string, title: string, setup: (m: Model) => void, event: (m: Model) => ModelEvent): FiringCase {
  return { rule, title, run: (): FiringOutcome => rejected(setup, event) }
}

const nothing = (): void => {}

// ---- op_pre (REQ-EMB-*) ----------------------------------------------------------------------------

const reqCases: FiringCase[] = [
  req('REQ-EMB-DROPVMSPACE-1', 'DropVmSpace of a space never created', nothing, () => ({ type: 'vm_space.drop', vmSpace: 7 })),
  req('REQ-EMB-DROPVMSPACE-2', 'DropVmSpace while one of its cursors is open', spaceWithCursor, () => ({ type: 'vm_space.drop', vmSpace: last.vs })),
  req('REQ-EMB-DROPVMSPACE-3', 'DropVmSpace while one of its readers is live', (m) => {
    spaceWithPage(m)
    m.dispatch({ type: 'vm_space.activate', vmSpace: last.vs })
    okv(m.call({ type: 'vm_space.reader', vmSpace: last.vs, va: 0x10000, len: 8 }))
  }, () => ({ type: 'vm_space.drop', vmSpace: last.vs })),
  req('REQ-EMB-OPENCURSOR-1', 'OpenCursor on a dropped space', (m) => {
    spaceWithPage(m)
    m.dispatch({ type: 'vm_space.drop', vmSpace: last.vs })
  }, () => ({ type: 'vm_space.cursor', vmSpace: last.vs, vaStart: 0x10000, vaEnd: 0x11000 })),
  req('REQ-EMB-OPENCURSORMUT-1', 'OpenCursorMut on a space never created', nothing, () => ({ type: 'vm_space.cursor_mut', vmSpace: 3, vaStart: 0x10000, vaEnd: 0x11000 })),
  req('REQ-EMB-DROPCURSOR-1', 'DropCursor of a dropped cursor', (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'vm_cursor.drop', cursor: last.c })
  }, () => ({ type: 'vm_cursor.drop', cursor: last.c })),
  req('REQ-EMB-QUERY-1', 'Query on a cursor never created', spaceWithPage, () => ({ type: 'cursor.query', cursor: 42 })),
  req('REQ-EMB-FINDNEXT-1', 'FindNext on a cursor never created', spaceWithPage, () => ({ type: 'cursor.find_next', cursor: 42, len: K4 })),
  req('REQ-EMB-JUMP-1', 'Jump on a cursor never created', spaceWithPage, () => ({ type: 'cursor.jump', cursor: 42, va: 0x10000 })),
  req('REQ-EMB-VIRTADDR-1', 'VirtAddr on a cursor never created', spaceWithPage, () => ({ type: 'cursor.virt_addr', cursor: 42 })),
  req('REQ-EMB-PROTECTNEXT-1', 'ProtectNext on a cursor never created', spaceWithPage, () => ({ type: 'vm_cursor_mut.protect_next', cursor: 42, len: K4, prop: RW })),
  req('REQ-EMB-MAP-1', 'Map on a cursor never created', (m) => {
    spaceWithPage(m)
    last.pa = frame(m).frame
  }, () => ({ type: 'vm_cursor_mut.map', cursor: 42, frame: last.pa, prop: RW })),
  req('REQ-EMB-MAP-2', 'Map of a frame handle never created', spaceWithCursor, () => ({ type: 'vm_cursor_mut.map', cursor: last.c, frame: 99, prop: RW })),
  req('REQ-EMB-UNMAP-1', 'Unmap on a cursor never created', spaceWithPage, () => ({ type: 'vm_cursor_mut.unmap', cursor: 42, len: K4 })),
  req('REQ-EMB-NEWREADER-1', 'NewReader on a space never created', nothing, () => ({ type: 'vm_space.reader', vmSpace: 5, va: 0x10000, len: 8 })),
  req('REQ-EMB-NEWWRITER-1', 'NewWriter on a space never created', nothing, () => ({ type: 'vm_space.writer', vmSpace: 5, va: 0x10000, len: 8 })),
]

// ---- the _embedded axioms (ENS-EMB-*) ---------------------------------------------------------------

const rootOf = (d: Draft<Snapshot> | Snapshot, vs: number): number => frameToIndex(tableGet(d.pt.tables as Snapshot['pt']['tables'], tableGet(d.vm.spaces as Snapshot['vm']['spaces'], vs)!.pageTable)!.rootPaddr)
const newVs = (out: Outcome<unknown>): number => (out.result as { vmSpace: number }).vmSpace

const vmSpaceCases: FiringCase[] = [
  ens('ENS-EMB-NEWVMSPACE-1', 'NewVmSpace returns the id of an existing space', [armedAfter(vmSpaceNew, () => {}, () => ({ vmSpace: 0 }))], (m) => {
    newSpace(m)
    arm()
    newSpace(m)
  }, ['ENS-VMSPACE-NEW-1']),
  ens('ENS-EMB-NEWVMSPACE-2', "the new root slot's usage is Frame", [after(vmSpaceNew, (d, _s, _e, out) => setOwner(d, rootOf(d, newVs(out)), { usage: 'Frame' }))], (m) => void newSpace(m), ['ENS-EMB-NEWVMSPACE-4', 'INV-ACCT-2', 'INV-OBLIG-1']),
  ens('ENS-EMB-NEWVMSPACE-3', 'the new root slot is un-parked', [after(vmSpaceNew, (d, _s, _e, out) => unpark(d, rootOf(d, newVs(out))))], (m) => void newSpace(m), ['ENS-EMB-ALL-3', 'INV-NODE-6', 'INV-REGIONS-5', 'INV-STORE-2']),
  ens('ENS-EMB-NEWVMSPACE-4', 'NewVmSpace changes a slot that was in use', [armedAfter(vmSpaceNew, (d) => setOwner(d, frameToIndex(last.pa), { rawCount: ownerIn(d, frameToIndex(last.pa)).rawCount + 1 }))], (m) => {
    spaceWithPage(m)
    arm()
    newSpace(m)
  }, ['INV-ACCT-3']),
  ens('ENS-EMB-NEWVMSPACE-5', 'NewVmSpace drops a frame handle', [armedAfter(vmSpaceNew, (d) => tableSet(d.frames, last.c, null))], (m) => {
    spaceWithPage(m)
    last.c = frame(m).frame
    arm()
    newSpace(m)
  }, ['INV-ACCT-2', 'INV-OBLIG-1']),
  ens('ENS-EMB-DROPVMSPACE-1', 'DropVmSpace leaves the space in the store', [variant(vmSpaceDrop, (s) => ({ snapshot: s, result: null }))], (m) => {
    spaceWithPage(m)
    m.dispatch({ type: 'vm_space.drop', vmSpace: last.vs })
  }, ['ENS-VMSPACE-DROP-1']),
  ...(['OPENCURSOR', 'OPENCURSORMUT'] as const).flatMap((k): FiringCase[] => {
    const spec = (k === 'OPENCURSOR' ? vmSpaceCursor : vmSpaceCursorMut) as unknown as typeof vmSpaceCursor
    const type = k === 'OPENCURSOR' ? 'vm_space.cursor' : 'vm_space.cursor_mut'
    const ensMut = k === 'OPENCURSORMUT' ? ['ENS-VMSPACE-CURSORMUT-1'] : undefined
    const open = (m: Model): void => {
      arm()
      void m.call({ type, vmSpace: last.vs, vaStart: 0x10000, vaEnd: 0x12000 })
    }
    return [
      ens(`ENS-EMB-${k}-1`, `${type} un-parks a slot`, [armedAfter(spec, (d) => unpark(d, FAR))], (m) => {
        spaceWithPage(m)
        open(m)
      }, ['ENS-EMB-ALL-3', 'INV-REGIONS-5', 'INV-STORE-2']),
      ens(`ENS-EMB-${k}-2`, `${type} changes the mapped frame's slot`, [armedAfter(spec, (d) => setOwner(d, frameToIndex(last.pa), { rawCount: ownerIn(d, frameToIndex(last.pa)).rawCount + 1 }))], (m) => {
        spaceWithPage(m)
        open(m)
      }, ['INV-ACCT-3']),
      ens(`ENS-EMB-${k}-3`, `${type} returns an id that is not the new cursor`, [armedAfter(spec, () => {}, (r) => (r.ok ? ok({ cursor: 999 }) : r))], (m) => {
        spaceWithPage(m)
        open(m)
      }, ensMut),
      ens(`ENS-EMB-${k}-4`, `${type} fails on a valid range`, [armedVariant(spec, (s) => ({ snapshot: s, result: err('AccessDenied') }))], (m) => {
        spaceWithPage(m)
        open(m)
      }, ensMut),
    ]
  }),
  ens('ENS-EMB-DROPCURSOR-1', 'DropCursor keeps the VmSpace cursor record', [armedAfter(vmCursorDrop, (d, s, e) => void (d.vm.cursors = tableWith(d.vm.cursors as Table<VmCursorRecord>, e.cursor, tableGet(s.vm.cursors, e.cursor)) as typeof d.vm.cursors))], (m) => {
    spaceWithCursor(m)
    arm()
    m.dispatch({ type: 'vm_cursor.drop', cursor: last.c })
  }, ['INV-VMCURSOR-1']),
  ...(['reader', 'writer'] as const).map((k) =>
    ens(`ENS-EMB-NEW${k.toUpperCase()}-1`, `New${k === 'reader' ? 'Reader' : 'Writer'} fails on an active space and a valid range`, [variant(k === 'reader' ? vmSpaceReader : vmSpaceWriter, (s) => ({ snapshot: s, result: err('AccessDenied') }))], (m) => {
      spaceWithPage(m)
      m.dispatch({ type: 'vm_space.activate', vmSpace: last.vs })
      m.dispatch({ type: `vm_space.${k}`, vmSpace: last.vs, va: 0x10000, len: 8 })
    }, ['ENS-VMSPACE-USERIO-1']),
  ),
]

const cursorCases: FiringCase[] = [
  ens('ENS-EMB-QUERY-1', 'Query un-parks a slot', [after(cursorQuery, (d) => unpark(d, FAR))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'cursor.query', cursor: last.c })
  }, ['ENS-EMB-ALL-3', 'INV-REGIONS-5', 'INV-STORE-2']),
  ens('ENS-EMB-QUERY-2', 'a Query that finds nothing changes a slot', [after(cursorQuery, (d) => setOwner(d, frameToIndex(last.pa), { rawCount: ownerIn(d, frameToIndex(last.pa)).rawCount + 1 }))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'cursor.jump', cursor: last.c, va: 0x11000 })
    m.dispatch({ type: 'cursor.query', cursor: last.c })
  }, ['INV-ACCT-3']),
  ens('ENS-EMB-QUERY-3', 'a Query that clones a frame leaves in_list changed', [after(cursorQuery, (d) => setCells(d, frameToIndex(last.pa), { inList: 1 }))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'cursor.query', cursor: last.c })
  }, ['ENS-EMB-ALL-3', 'INV-SLOT-3', 'INV-STORE-3']),
  ens('ENS-EMB-FINDNEXT-1', 'FindNext un-parks a slot', [after(cursorFindNext, (d) => unpark(d, FAR))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'cursor.find_next', cursor: last.c, len: 2 * K4 })
  }, ['ENS-EMB-ALL-3', 'INV-REGIONS-5', 'INV-STORE-2']),
  ens('ENS-EMB-JUMP-1', 'Jump changes a slot', [after(cursorJump, (d) => setOwner(d, frameToIndex(last.pa), { rawCount: ownerIn(d, frameToIndex(last.pa)).rawCount + 1 }))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'cursor.jump', cursor: last.c, va: 0x11000 })
  }, ['ENS-CURSORMUT-JUMP-4', 'INV-ACCT-3']),
  ens('ENS-EMB-PROTECTNEXT-1', 'ProtectNext un-parks a slot', [after(vmCursorProtectNext, (d) => unpark(d, FAR))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'vm_cursor_mut.protect_next', cursor: last.c, len: 2 * K4, prop: newUser(PageFlags.R) })
  }, ['ENS-EMB-ALL-3', 'INV-REGIONS-5', 'INV-STORE-2']),
  ens('ENS-EMB-VIRTADDR-1', 'VirtAddr writes a byte of memory', [after(cursorVirtAddr, (d) => tableSet(d.memory, FAR, new Uint8Array(PAGE_SIZE).fill(7)))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'cursor.virt_addr', cursor: last.c })
  }, ['ENS-CURSORMUT-VIRTADDR-1']),
  ens('ENS-EMB-MAP-1', 'Map keeps the frame handle in the store', [after(vmCursorMap, (d, s, e) => tableSet(d.frames, e.frame, tableGet(s.frames, e.frame)))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'vm_cursor_mut.map', cursor: last.c, frame: frame(m).frame, prop: RW })
  }, ['ENS-VMSCURSOR-MAP-1', 'INV-ACCT-1', 'INV-ACCT-3', 'INV-OBLIG-1']),
  ens('ENS-EMB-MAP-2', "Map records no path in the mapped frame's slot", [after(vmCursorMap, (d, s, e) => setOwner(d, frameToIndex(tableGet(s.frames, e.frame)!.paddr), { pathsInPt: [] }))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'cursor.jump', cursor: last.c, va: 0x11000 })
    m.dispatch({ type: 'vm_cursor_mut.map', cursor: last.c, frame: frame(m).frame, prop: RW })
  }, ['INV-ACCT-2', 'INV-SOUND-2', 'INV-TREE-8']),
  ens('ENS-EMB-MAP-3', 'Map changes another in-use slot', [after(vmCursorMap, (d) => setOwner(d, frameToIndex(last.pa), { rawCount: ownerIn(d, frameToIndex(last.pa)).rawCount + 1 }))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'cursor.jump', cursor: last.c, va: 0x11000 })
    m.dispatch({ type: 'vm_cursor_mut.map', cursor: last.c, frame: frame(m).frame, prop: RW })
  }, ['INV-ACCT-3']),
  ens('ENS-EMB-MAP-4', 'Map un-parks a slot', [after(vmCursorMap, (d) => unpark(d, FAR))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'cursor.jump', cursor: last.c, va: 0x11000 })
    m.dispatch({ type: 'vm_cursor_mut.map', cursor: last.c, frame: frame(m).frame, prop: RW })
  }, ['ENS-EMB-ALL-3', 'INV-REGIONS-5', 'INV-STORE-2']),
  ens('ENS-EMB-UNMAP-1', "Unmap changes the vtable of a frame that stays in use", [after(vmCursorUnmap, (d) => setCells(d, frameToIndex(last.pa), { vtablePtr: 7 }))], (m) => {
    spaceWithCursor(m)
    okv(m.call({ type: 'frame.from_in_use', paddr: last.pa }))
    m.dispatch({ type: 'vm_cursor_mut.unmap', cursor: last.c, len: K4 })
  }),
  ens('ENS-EMB-UNMAP-2', 'Unmap changes an un-parked (unique) slot', [after(vmCursorUnmap, (d) => setOwner(d, frameToIndex(last.pa + 0x100000), { rawCount: 3 }))], (m) => {
    spaceWithCursor(m)
    okv(m.call({ type: 'unique_frame.from_unused', paddr: last.pa + 0x100000, meta: UNIT_META }))
    m.dispatch({ type: 'vm_cursor_mut.unmap', cursor: last.c, len: K4 })
  }, ['INV-UNIQUE-4']),
  ens('ENS-EMB-UNMAP-3', 'Unmap removes the path but keeps its reference', [after(vmCursorUnmap, (d, s) => setCells(d, frameToIndex(last.pa), { refCount: tableGet(s.regions.slotOwners, frameToIndex(last.pa))!.innerPerms.refCount }))], (m) => {
    spaceWithCursor(m)
    okv(m.call({ type: 'frame.from_in_use', paddr: last.pa }))
    m.dispatch({ type: 'vm_cursor_mut.unmap', cursor: last.c, len: K4 })
  }, ['INV-ACCT-3']),
  // The unmapped frame's reference stays behind as a live Frame handle nobody holds (no flush
  // issued with it, so the dispatch never drops it): every invariant holds, only the count of handles moves.
  ens('ENS-EMB-UNMAP-3', 'Unmap turns the removed mapping into an orphan Frame handle instead of releasing it', [after(vmCursorUnmap, (d, s) => {
    const idx = frameToIndex(last.pa)
    setCells(d, idx, { refCount: tableGet(s.regions.slotOwners, idx)!.innerPerms.refCount })
    tableSet(d.frames, 99, { paddr: last.pa })
    tableSet(d.regions.frameObligations, idx, (tableGet(s.regions.frameObligations, idx) ?? 0) + 1)
  })], (m) => {
    spaceWithCursor(m)
    okv(m.call({ type: 'frame.from_in_use', paddr: last.pa }))
    m.dispatch({ type: 'vm_cursor_mut.unmap', cursor: last.c, len: K4 })
  }),
  ens('ENS-EMB-UNMAP-4', 'Unmap un-parks a slot', [after(vmCursorUnmap, (d) => unpark(d, FAR))], (m) => {
    spaceWithCursor(m)
    m.dispatch({ type: 'vm_cursor_mut.unmap', cursor: last.c, len: K4 })
  }, ['ENS-EMB-ALL-3', 'INV-REGIONS-5', 'INV-STORE-2']),
]

/** A kernel reader and writer over two fresh frames: [reader, writer]. */
function kernelPair(m: Model): [number, number] {
  const a = frame(m).frame
  const b = frame(m).frame
  const r = m.call<{ reader: number }>({ type: 'frame.reader', frame: a }).reader
  const w = m.call<{ writer: number }>({ type: 'frame.writer', frame: b }).writer
  return [r, w]
}

const handleCases: FiringCase[] = [
  ens('ENS-EMB-IOMETHOD-1', "ReaderQuery moves another writer's cursor", [after(readerRemain, (d, s) => {
    const w = tableGet(s.vmIos, 1)!
    tableSet(d.vmIos, 1, { ...w, cursor: w.cursor + 1 })
  })], (m) => {
    const [r] = kernelPair(m)
    m.dispatch({ type: 'vm_reader.remain', reader: r })
  }),
  ens('ENS-EMB-WRITE-1', 'Write inserts a reader/writer', [after(writerWrite, (d, s, e) => tableSet(d.vmIos, 77, tableGet(s.vmIos, e.writer)))], (m) => {
    const [r, w] = kernelPair(m)
    m.dispatch({ type: 'vm_writer.write', writer: w, reader: r })
  }, ['ENS-VMIO-COPY-1']),
  ens('ENS-EMB-UNIQUEFROMUNUSED-1', 'UniqueFromUnused fails on an unused slot', [variant(uniqueFromUnused, (s) => ({ snapshot: s, result: err('InUse') }))], (m) => {
    m.dispatch({ type: 'unique_frame.from_unused', paddr: 0x100000, meta: UNIT_META })
  }),
  ens('ENS-EMB-UNIQUEFROMUNUSED-2', 'UniqueFromUnused returns an id that is not the new handle', [resultOf(uniqueFromUnused, (r) => (r.ok ? ok({ ...r.value, unique: 999 }) : r))], (m) => {
    m.dispatch({ type: 'unique_frame.from_unused', paddr: 0x100000, meta: UNIT_META })
  }, ['ENS-UNIQUE-FROMUNUSED-2']),
  ens('ENS-EMB-UNIQUEFROMUNUSED-3', 'UniqueFromUnused un-parks another slot', [after(uniqueFromUnused, (d) => unpark(d, FAR))], (m) => {
    m.dispatch({ type: 'unique_frame.from_unused', paddr: 0x100000, meta: UNIT_META })
  }, ['ENS-EMB-ALL-3', 'ENS-UNIQUE-FROMUNUSED-3', 'INV-REGIONS-5', 'INV-STORE-2']),
  ens('ENS-EMB-UNIQUEDROP-1', 'UniqueDrop leaves the handle in the store', [after(uniqueDrop, (d, s, e) => tableSet(d.uniqueFrames, e.unique, tableGet(s.uniqueFrames, e.unique)))], (m) => {
    const u = okv<{ unique: number }>(m.call({ type: 'unique_frame.from_unused', paddr: 0x100000, meta: UNIT_META })).unique
    m.dispatch({ type: 'unique_frame.drop', unique: u })
  }, ['ENS-UNIQUE-DROP-2', 'INV-STORE-17', 'INV-UNIQUE-3']),
]

// ---- every step (ENS-EMB-ALL-*) -----------------------------------------------------------------------

const allCases: FiringCase[] = [
  {
    rule: 'ENS-EMB-ALL-1',
    title: 'a frame handle the ref count does not account for (VmStore::inv: INV-ACCT-1)',
    expect: ['INV-ACCT-3', 'INV-OBLIG-1'],
    expectAlso: ['ENS-EMB-ALL-1'],
    run: () => corrupted(spaceWithPage, (d) => tableSet(d.frames, 50, { paddr: last.pa }), MEM),
  },
  {
    rule: 'ENS-EMB-ALL-2',
    title: "a cursor-held leaf whose frame forgot the leaf's path (metaregion_sound)",
    expect: ['INV-ACCT-2', 'INV-SOUND-2', 'INV-TREE-8'],
    expectAlso: ['ENS-EMB-ALL-2'],
    run: () => corrupted(spaceWithCursor, (d) => setOwner(d, frameToIndex(last.pa), { pathsInPt: [] }), MEM),
  },
  ens('ENS-EMB-ALL-3', 'Read un-parks a slot', [after(readerRead, (d) => unpark(d, FAR))], (m) => {
    const [r, w] = kernelPair(m)
    m.dispatch({ type: 'vm_reader.read', reader: r, writer: w })
  }, ['ENS-VMIO-COPY-1', 'INV-REGIONS-5', 'INV-STORE-2']),
]


export const embeddingCases: FiringCase[] = [...reqCases, ...vmSpaceCases, ...cursorCases, ...handleCases, ...allCases]
