/**
 * Firing cases of VmSpace, its ghost VmSpaceOwner, user-space VM I/O and the TLB
 * (reducers/vm_space/*, src/check/rules/vm_space/*): corrupted snapshots for the invariants, faulty
 * reducer variants for the postconditions, bad arguments and states for the preconditions.
 */
import { current, isDraft, type Draft } from 'immer'
import { MAX_USERSPACE_VADDR, PAGE_SIZE, REF_COUNT_MAX } from '../../../src/arch/constants.js'
import { newUser, PageFlags } from '../../../src/arch/page_prop.js'
import type { Model } from '../../../src/api/model.js'
import { mappingAt, type Mapping } from '../../../src/model/pt_view.js'
import type { Snapshot, VmIoEntry } from '../../../src/model/snapshot.js'
import type { PtNodeOwner } from '../../../src/model/page_table.js'
import type { PtCursor } from '../../../src/model/pt_cursor.js'
import { tableGet, tableWith, type Table } from '../../../src/model/table.js'
import { borrowAt, type VmCursorRecord, type VmSpaceRecord } from '../../../src/model/vm_space.js'
import type { EventSpec, ModelEvent, Outcome } from '../../../reducers/types.js'
import { vmSpaceActivate, vmSpaceDrop, vmSpaceNew } from '../../../reducers/vm_space/vm_space.js'
import { vmSpaceCursorMut } from '../../../reducers/vm_space/cursor.js'
import { vmCursorMap } from '../../../reducers/vm_space/map.js'
import { vmCursorUnmap } from '../../../reducers/vm_space/unmap.js'
import { dispatchTlbFlush, issueTlbFlush } from '../../../reducers/vm_space/flusher.js'
import { activateReader, activateWriter, createReader, createWriter, vmSpaceReader } from '../../../reducers/vm_space/reader_writer.js'
import { disposeReader, disposeWriter, newVmIoId, removeReader, removeWriter } from '../../../reducers/vm_space/owner.js'
import { readerCollect, writerFillZeros, writerWriteFallible } from '../../../reducers/vm_space/user_io.js'
import { readerReadVal } from '../../../reducers/io/vm_io.js'
import { writerWriteVal } from '../../../reducers/io/vm_io.js'
import { corrupted, edit, rejected, variant, withVariantBothModes, type FiringCase, type FiringOutcome } from '../harness.js'
import { newSpace, okv } from './vm_util.js'
import { setCells } from './util.js'

const RW = newUser(PageFlags.RW)
const R = newUser(PageFlags.R)
const K4 = PAGE_SIZE
const MEM = { physicalMemory: 1 << 23 }

// ---- building states -------------------------------------------------------------------------------

function cursorMut(m: Model, vs: number, start: number, end: number): number {
  return okv<{ cursor: number }>(m.call({ type: 'vm_space.cursor_mut', vmSpace: vs, vaStart: start, vaEnd: end })).cursor
}

/** Maps a fresh frame at `va`; returns its paddr. */
function mapAt(m: Model, vs: number, va: number, prop = RW): number {
  const f = okv<{ frame: number; paddr: number }>(m.call({ type: 'frame_alloc.alloc_frame' }))
  const c = cursorMut(m, vs, va, va + K4)
  m.dispatch({ type: 'vm_cursor_mut.map', cursor: c, frame: f.frame, prop })
  m.dispatch({ type: 'vm_cursor.drop', cursor: c })
  return f.paddr
}

function reader(m: Model, vs: number, va: number, len: number): number {
  return okv<{ reader: number }>(m.call({ type: 'vm_space.reader', vmSpace: vs, va, len })).reader
}

/** An activated space with a page at 0x10000 whose translation the TLB caches (a reader read it). */
function spaceWithCachedPage(m: Model): number {
  const vs = newSpace(m)
  mapAt(m, vs, 0x10000)
  m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
  const r = reader(m, vs, 0x10000, 8)
  m.dispatch({ type: 'vm_reader.read_val', reader: r, valType: 'u64' })
  m.dispatch({ type: 'vm_reader.drop', reader: r })
  return vs
}

function writer(m: Model, vs: number, va: number, len: number): number {
  return okv<{ writer: number }>(m.call({ type: 'vm_space.writer', vmSpace: vs, va, len })).writer
}

interface Scene {
  vs: number
  /** Registered writer over [0x10000, 0x10100). */
  w: number
  /** Registered reader over [0x11000, 0x11100) (when asked for). */
  r: number | null
}

/** An activated space with pages at 0x10000, 0x11000 (0x12000 too), a registered writer, and optionally a registered reader. */
function scene(m: Model, withReader: boolean): Scene {
  const vs = newSpace(m)
  mapAt(m, vs, 0x10000)
  mapAt(m, vs, 0x11000)
  mapAt(m, vs, 0x12000)
  m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
  const w = writer(m, vs, 0x10000, 0x100)
  m.dispatch({ type: 'vm_space.register_writer', vmSpace: vs, writer: w })
  let r: number | null = null
  if (withReader) {
    r = reader(m, vs, 0x11000, 0x100)
    m.dispatch({ type: 'vm_space.register_reader', vmSpace: vs, reader: r })
  }
  return { vs, w, r }
}

let last: Scene = { vs: 0, w: 0, r: null }

function withScene(withReader: boolean): (m: Model) => void {
  return (m) => {
    last = scene(m, withReader)
  }
}

// ---- draft editors ---------------------------------------------------------------------------------------

/** A table of the draft as plain data (immer drafts tables it reads through). */
function plain<T>(t: unknown): Table<T> {
  return (isDraft(t) ? current(t as object) : t) as Table<T>
}

function spaceIn(d: Draft<Snapshot>, id: number): VmSpaceRecord {
  return tableGet(plain<VmSpaceRecord>(d.vm.spaces), id)!
}

function putSpace(d: Draft<Snapshot>, id: number, r: VmSpaceRecord): void {
  d.vm.spaces = tableWith(plain<VmSpaceRecord>(d.vm.spaces), id, r) as typeof d.vm.spaces
}

function patchSpace(d: Draft<Snapshot>, id: number, fn: (r: VmSpaceRecord) => VmSpaceRecord): void {
  putSpace(d, id, fn(spaceIn(d, id)))
}

function ioIn(d: Draft<Snapshot>, id: number): VmIoEntry {
  return tableGet(plain<VmIoEntry>(d.vmIos), id)!
}

function putIo(d: Draft<Snapshot>, id: number, e: VmIoEntry): void {
  d.vmIos = tableWith(plain<VmIoEntry>(d.vmIos), id, e) as typeof d.vmIos
}

function patchIo(d: Draft<Snapshot>, id: number, fn: (e: VmIoEntry) => VmIoEntry): void {
  putIo(d, id, fn(ioIn(d, id)))
}

function total(d: Draft<Snapshot>, vs: number): Mapping[] {
  return [...spaceIn(d, vs).owner.mvRange!.mappings]
}

/** The range, cursor and owner range of a user entry moved to `[start, end)`. */
function moveIo(e: VmIoEntry, start: number, end: number): VmIoEntry {
  return { ...e, cursor: start, end, owner: { ...e.owner!, range: { start, end } } }
}

/** A user reader over the 4 bytes at 0x10000 of an activated space, which hold the u32 0x01020304. */
function userWordReader(m: Model): number {
    const vs = newSpace(m)
    mapAt(m, vs, 0x10000)
    m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
    const w = writer(m, vs, 0x10000, 4)
    m.dispatch({ type: 'vm_writer.write_val', writer: w, valType: 'u32', value: 0x01020304 })
    const r = reader(m, vs, 0x10000, 4)
    return r
}

// ---- variants ------------------------------------------------------------------------------------------------

/** A variant of `spec` whose post-state is edited by `fix` (the reducer runs first). */
function after<E extends ModelEvent, R>(spec: EventSpec<E, R>, fix: (post: Snapshot, pre: Snapshot, e: E, out: Outcome<R>) => Snapshot, result?: (r: R, pre: Snapshot, e: E) => R): EventSpec<ModelEvent, unknown> {
  return variant(spec, (s, e) => {
    const out = spec.reduce(s, e)
    return { ...out, snapshot: fix(out.snapshot, s, e, out), result: result ? result(out.result, s, e) : out.result }
  })
}

function vmEdit(s: Snapshot, fn: (d: Draft<Snapshot>) => void): Snapshot {
  return edit(s, fn)
}

function inv(rule: string, title: string, withReader: boolean, fn: (d: Draft<Snapshot>) => void, expect?: string[], expectAlso?: string[]): FiringCase {
  return {
    rule,
    title,
    ...(expect ? { expect } : {}),
    ...(expectAlso ? { expectAlso } : {}),
    run: () => corrupted(withScene(withReader), fn, MEM),
  }
}

function ens(rule: string, title: string, variants: ReadonlyArray<EventSpec<ModelEvent, unknown>>, act: (m: Model) => void, expect?: string[]): FiringCase {
  return { rule, title, ...(expect ? { expect } : {}), run: () => withVariantBothModes(variants, act) }
}

function req(rule: string, title: string, setup: (m: Model) => void, event: (m: Model) => ModelEvent, initial?: (m: Model) => Snapshot): FiringCase {
  return { rule, title, run: (): FiringOutcome => rejected(setup, event, initial ? { initial } : {}) }
}


// ---- invariants ------------------------------------------------------------------------------------------------

const invariantCases: FiringCase[] = [
  inv('INV-VMSPACE-1', 'an inactive space registers a reader that does not exist', false, (d) => {
    const id = newSpaceIn(d)
    patchSpace(d, id, (r) => ({ ...r, readers: [999], owner: { ...r.owner, readers: [999] } }))
  }),
  inv('INV-VMSPACE-2', "the space's page table handle is not live", false, (d) => patchSpace(d, last.vs, (r) => ({ ...r, pageTable: 999 })), ['INV-VMSPACE-2'], ['INV-STORE-5']),
  inv('INV-VMSPACE-3', 'active, but mem_view is gone while mv_range is kept', false, (d) => patchSpace(d, last.vs, (r) => ({ ...r, owner: { ...r.owner, memView: null } })), ['INV-VMSPACE-7'], ['INV-VMSPACE-3']),
  inv(
    'INV-VMSPACE-4',
    "a registered reader's view does not cover its range",
    true,
    (d) => patchIo(d, last.r!, (e) => ({ ...e, owner: { ...e.owner!, memView: { kind: 'ReadView', view: { mappings: [], memory: [] } } } })),
    ['INV-VMIO-2', 'INV-VMSPACE-4'],
  ),
  inv('INV-VMSPACE-5', 'a registered reader is moved over the writer', true, (d) => {
    const t = { mappings: total(d, last.vs), memory: spaceIn(d, last.vs).owner.mvRange!.memory }
    patchIo(d, last.r!, (e) => {
      const moved = moveIo(e, 0x10080, 0x10100)
      return { ...moved, owner: { ...moved.owner!, memView: { kind: 'ReadView', view: borrowAt(t, 0x10080, 0x80) } } }
    })
  }),
  inv('INV-VMSPACE-6', 'two registered readers overlap (no shared reading)', true, (d) => {
    const other = 500
    const e = ioIn(d, last.r!)
    putIo(d, other, { ...e, owner: { ...e.owner!, id: other } })
    patchSpace(d, last.vs, (r) => ({ ...r, readers: [...r.readers, other], owner: { ...r.owner, readers: [...r.owner.readers, other] } }))
  }),
  inv('INV-VMSPACE-7', 'active, mem_view present but mv_range gone', false, (d) => patchSpace(d, last.vs, (r) => ({ ...r, owner: { ...r.owner, mvRange: null } })), undefined, ['INV-VMSPACE-3']),
  inv('INV-VMSPACE-8', 'the remaining view holds a frame the total view lacks', false, (d) =>
    patchSpace(d, last.vs, (r) => ({ ...r, owner: { ...r.owner, memView: { ...r.owner.memView!, memory: [...r.owner.memView!.memory, { start: 0x700000, size: K4 }] } } })),
  ),
  inv('INV-VMSPACE-9', 'the remaining view loses a mapping no writer holds', false, (d) =>
    patchSpace(d, last.vs, (r) => ({ ...r, owner: { ...r.owner, memView: { ...r.owner.memView!, mappings: r.owner.memView!.mappings.filter((m) => m.vaRange.start !== 0x12000) } } })),
  ),
  inv('INV-VMSPACE-10', "the writer's view also takes a mapping the remaining view has", false, (d) => {
    const extra = total(d, last.vs).find((m) => m.vaRange.start === 0x12000)!
    patchIo(d, last.w, (e) => ({ ...e, owner: { ...e.owner!, memView: { kind: 'WriteView', view: { ...e.owner!.memView!.view, mappings: [...e.owner!.memView!.view.mappings, extra] } } } }))
  }),
  inv('INV-VMSPACE-11', "a registered reader's view translates with another property than the total view", true, (d) =>
    patchIo(d, last.r!, (e) => ({ ...e, owner: { ...e.owner!, memView: { kind: 'ReadView', view: { ...e.owner!.memView!.view, mappings: e.owner!.memView!.view.mappings.map((m) => ({ ...m, property: R })) } } } })),
  ),
  inv('INV-VMSPACE-12', 'shared_reader differs between the space and its owner', false, (d) => patchSpace(d, last.vs, (r) => ({ ...r, sharedReader: true }))),
  inv('INV-VMSPACE-13', 'the total and remaining views forget a mapping the page table has', false, (d) =>
    patchSpace(d, last.vs, (r) => {
      const drop = (v: NonNullable<typeof r.owner.memView>) => ({ ...v, mappings: v.mappings.filter((m) => m.vaRange.start !== 0x12000) })
      return { ...r, owner: { ...r.owner, memView: drop(r.owner.memView!), mvRange: drop(r.owner.mvRange!) } }
    }),
  ),
  inv('INV-VMIO-2', "an unregistered reader's owner holds a view that does not cover its range", false, (d) => {
    const r = 600
    putIo(d, r, { kind: 'Reader', fallible: true, space: { kind: 'user', vmSpace: last.vs }, cursor: 0x40000, end: 0x40010, borrow: { kind: 'vmSpace', id: last.vs }, owner: { id: r, range: { start: 0x40000, end: 0x40010 }, isFallible: true, isKernel: false, memView: { kind: 'ReadView', view: { mappings: [], memory: [] } } } })
  }),
  inv('INV-VMIO-3', "a user reader's owner range is not its [cursor, end)", false, (d) => {
    const r = 600
    putIo(d, r, { kind: 'Reader', fallible: true, space: { kind: 'user', vmSpace: last.vs }, cursor: 0x40000, end: 0x40010, borrow: { kind: 'vmSpace', id: last.vs }, owner: { id: r, range: { start: 0x40004, end: 0x40010 }, isFallible: true, isKernel: false, memView: null } })
  }),
  inv('INV-MEMVIEW-1', "a frame of a (unregistered) reader's view is not aligned to its size", false, (d) => {
    const m = total(d, last.vs).find((x) => x.vaRange.start === 0x12000)!
    const view = { mappings: [m], memory: [{ start: m.paRange.start + 0x800, size: K4 }] }
    putIo(d, 600, { kind: 'Reader', fallible: true, space: { kind: 'user', vmSpace: last.vs }, cursor: 0x12000, end: 0x12010, borrow: { kind: 'vmSpace', id: last.vs }, owner: { id: 600, range: { start: 0x12000, end: 0x12010 }, isFallible: true, isKernel: false, memView: { kind: 'ReadView', view } } })
  }),
  inv('INV-TLB-1', 'the TLB caches one mapping twice', false, (d) => {
    const m = total(d, last.vs)[0]!
    d.vm.tlb = { mappings: [m, m] } as typeof d.vm.tlb
  }),
  inv('INV-TLB-2', 'the TLB caches a translation the page table does not have', false, (d) => {
    const m = total(d, last.vs)[0]!
    d.vm.tlb = { mappings: [{ ...m, vaRange: { start: 0x50000, end: 0x51000 } }] } as typeof d.vm.tlb
  }),
  inv('INV-STORE-4', 'the TLB caches one mapping twice (tlb_model.inv())', false, (d) => {
    const m = total(d, last.vs)[0]!
    d.vm.tlb = { mappings: [m, m] } as typeof d.vm.tlb
  }, ['INV-TLB-1'], ['INV-STORE-4']),
  inv('INV-STORE-5', 'a VmSpaceOwner breaks inv() (its page table is gone)', false, (d) => patchSpace(d, last.vs, (r) => ({ ...r, pageTable: 999 })), ['INV-VMSPACE-2'], ['INV-STORE-5']),
  inv('INV-STORE-8', "a VmSpace cursor's space is not live", false, (d) => {
    d.vm.cursors = tableWith(plain<VmCursorRecord>(d.vm.cursors), 77, { vmSpace: 999, kind: 'Cursor', flusher: null }) as typeof d.vm.cursors
  }),
  inv('INV-VMCURSOR-1', 'a VmSpace cursor record names no live page-table cursor', false, (d) => {
    d.vm.cursors = tableWith(plain<VmCursorRecord>(d.vm.cursors), 77, { vmSpace: last.vs, kind: 'Cursor', flusher: null }) as typeof d.vm.cursors
  }),
  ...(['a dead frame handle', 'one handle twice'] as const).map((what): FiringCase => ({
    rule: 'INV-VMCURSOR-2',
    title: `a flusher keeps ${what} behind a flush`,
    run: () =>
      corrupted(
        (m) => {
          const c = cursorMut(m, newSpace(m), 0x30000, 0x40000)
          const f = okv<{ frame: number }>(m.call({ type: 'frame_alloc.alloc_frame' }))
          m.dispatch({ type: 'vm_cursor_mut.issue_tlb_flush_with', cursor: c, op: { kind: 'Address', va: 0x30000 }, release: { kind: 'frame', handle: f.frame } })
          extra = c
        },
        (d) => {
          const c = tableGet(plain<VmCursorRecord>(d.vm.cursors), extra)!
          const kept = c.flusher!.deferred[0]!
          const deferred = what === 'one handle twice' ? [kept, kept] : [{ ...kept, handle: 999 }]
          d.vm.cursors = tableWith(plain<VmCursorRecord>(d.vm.cursors), extra, { ...c, flusher: { ...c.flusher!, deferred } }) as typeof d.vm.cursors
        },
        MEM,
      ),
  })),
  inv('INV-STORE-10', "a user reader's space is not live", false, (d) => {
    putIo(d, 600, { kind: 'Reader', fallible: true, space: { kind: 'user', vmSpace: 999 }, cursor: 0x40000, end: 0x40010, borrow: null, owner: { id: 600, range: { start: 0x40000, end: 0x40010 }, isFallible: true, isKernel: false, memView: null } })
  }),
  inv('INV-STORE-11', 'a user reader reaches past MAX_USERSPACE_VADDR', false, (d) => {
    const start = MAX_USERSPACE_VADDR - 8
    putIo(d, 600, { kind: 'Reader', fallible: true, space: { kind: 'user', vmSpace: last.vs }, cursor: start, end: start + 16, borrow: { kind: 'vmSpace', id: last.vs }, owner: { id: 600, range: { start, end: start + 16 }, isFallible: true, isKernel: false, memView: null } })
  }),
]

/** Adds an inactive, empty space record (id 300) sharing the scene's page table id… with its own fresh table: a copy of the scene space, inactive. */
function newSpaceIn(d: Draft<Snapshot>): number {
  const base = spaceIn(d, last.vs)
  putSpace(d, 300, { ...base, readers: [], writers: [], owner: { ...base.owner, active: false, readers: [], writers: [], memView: null, mvRange: null } })
  return 300
}

// ---- postconditions (faulty variants) --------------------------------------------------------------------------

/** The scene's space and a reader over the mapped page 0x12000 (not registered). */
function registerReaderAct(v: 'direct' | 'register'): (m: Model) => void {
  return (m) => {
    const sc = scene(m, false)
    const r = reader(m, sc.vs, 0x12000, 0x100)
    if (v === 'direct') m.dispatch({ type: 'vm_space.activate_reader', vmSpace: sc.vs, reader: r })
    else m.dispatch({ type: 'vm_space.register_reader', vmSpace: sc.vs, reader: r })
  }
}

/** An activated space with pages at 0x10000..0x13000 and nothing registered (writer variants must not meet the scene's own writer). */
function bare(m: Model): number {
  const vs = newSpace(m)
  for (const va of [0x10000, 0x11000, 0x12000]) mapAt(m, vs, va)
  m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
  return vs
}

function registerWriterAct(v: 'direct' | 'register'): (m: Model) => void {
  return (m) => {
    const sc = { vs: bare(m) }
    const w = writer(m, sc.vs, 0x12000, 0x100)
    if (v === 'direct') m.dispatch({ type: 'vm_space.activate_writer', vmSpace: sc.vs, writer: w })
    else m.dispatch({ type: 'vm_space.register_writer', vmSpace: sc.vs, writer: w })
  }
}

const spacePatch = (id: (e: ModelEvent) => number, fn: (r: VmSpaceRecord) => VmSpaceRecord) => (post: Snapshot, _pre: Snapshot, e: ModelEvent) => vmEdit(post, (d) => patchSpace(d, id(e), fn))
const ioPatch = (id: (e: ModelEvent) => number, fn: (x: VmIoEntry) => VmIoEntry) => (post: Snapshot, _pre: Snapshot, e: ModelEvent) => vmEdit(post, (d) => patchIo(d, id(e), fn))
const evSpace = (e: ModelEvent): number => e['vmSpace'] as number
const evReader = (e: ModelEvent): number => e['reader'] as number
const evWriter = (e: ModelEvent): number => e['writer'] as number

const ensCases: FiringCase[] = [
  ens('ENS-VMSPACE-NEW-1', 'new gives a space with shared reading on', [after(vmSpaceNew, (post, _pre, _e, out) => vmEdit(post, (d) => patchSpace(d, (out.result as { vmSpace: number }).vmSpace, (r) => ({ ...r, sharedReader: true, owner: { ...r.owner, sharedReader: true } }))))], (m) => void newSpace(m)),
  ens(
    'ENS-VMSPACE-NEW-2',
    'new registers a reader that does not exist',
    [after(vmSpaceNew, (post, _pre, _e, out) => vmEdit(post, (d) => patchSpace(d, (out.result as { vmSpace: number }).vmSpace, (r) => ({ ...r, readers: [999], owner: { ...r.owner, readers: [999] } }))))],
    (m) => void newSpace(m),
    ['ENS-EMB-NEWVMSPACE-1', 'ENS-VMSPACE-NEW-1', 'ENS-VMSPACE-NEW-2', 'INV-VMSPACE-1'],
  ),
  ens('ENS-VMSPACE-CURSORMUT-1', 'cursor_mut records a cursor at the wrong space', [after(vmSpaceCursorMut, (post, _pre, e, out) => (out.result as { ok: boolean }).ok ? vmEdit(post, (d) => { const id = (out.result as { value: { cursor: number } }).value.cursor; d.vm.cursors = tableWith(plain<VmCursorRecord>(d.vm.cursors), id, { vmSpace: evSpace(e), kind: 'CursorMut', flusher: { ops: [{ kind: 'All' }], deferred: [] } }) as typeof d.vm.cursors }) : post)], (m) => {
    const vs = newSpace(m)
    cursorMut(m, vs, 0x1000, 0x3000)
  }),
  ens('ENS-VMSPACE-CURSORMUT-2', 'an unaligned range gives InvalidArgs instead of AccessDenied', [after(vmSpaceCursorMut, (post) => post, (r) => ((r as { ok: boolean }).ok ? r : { ok: false, error: 'InvalidArgs' }) as typeof r)], (m) => {
    const vs = newSpace(m)
    m.dispatch({ type: 'vm_space.cursor_mut', vmSpace: vs, vaStart: 0x1001, vaEnd: 0x3000 })
  }),
  ...(['ENS-VMSPACE-CURSORMUT-3', 'ENS-VMSPACE-CURSORMUT-4'] as const).map((rule) =>
    ens(rule, 'cursor_mut saturates the reference count of a mapped frame', [after(vmSpaceCursorMut, (post, pre, e) => {
      if (e['vaStart'] !== 0x20000) return post
      const root = tableGet(pre.pt.tables, tableGet(pre.vm.spaces, e['vmSpace'] as number)!.pageTable)!.rootPaddr / K4
      const pa = mappingAt(pre, root, 0x10000, { config: 'user' })!.paRange.start
      return vmEdit(post, (d) => setCells(d, pa / K4, { refCount: REF_COUNT_MAX }))
    })], (m) => {
      const vs = newSpace(m)
      mapAt(m, vs, 0x10000)
      cursorMut(m, vs, 0x20000, 0x21000)
    }, ['ENS-EMB-OPENCURSORMUT-2', 'ENS-VMSPACE-CURSORMUT-3', 'ENS-VMSPACE-CURSORMUT-4', 'INV-ACCT-3'])),
  // activate_reader / activate_writer
  ens('ENS-VMSPACE-ACTREADER-1', 'activate_reader turns shared reading on in the VmSpace', [after(activateReader, spacePatch(evSpace, (r) => ({ ...r, sharedReader: true })))], registerReaderAct('register'), ['ENS-VMSPACE-ACTREADER-1', 'INV-VMSPACE-12']),
  ens('ENS-VMSPACE-ACTREADER-2', 'activate_reader does not register the reader', [after(activateReader, spacePatch(evSpace, (r) => ({ ...r, readers: r.readers.slice(0, -1) })))], registerReaderAct('register'), ['ENS-VMSPACE-ACTREADER-2', 'INV-VMSPACE-12']),
  ens('ENS-VMSPACE-ACTREADER-3', "activate_reader leaves the owner's id wrong", [after(activateReader, ioPatch(evReader, (x) => ({ ...x, owner: { ...x.owner!, id: 12345 } })))], registerReaderAct('register'), ['ENS-VMSPACE-ACTREADER-3', 'INV-VMIO-3', 'INV-VMSPACE-12']),
  ens('ENS-VMSPACE-ACTREADER-4', 'activate_reader lends the whole remaining view', [after(activateReader, (post, pre, e) => vmEdit(post, (d) => patchIo(d, evReader(e), (x) => ({ ...x, owner: { ...x.owner!, memView: { kind: 'ReadView', view: tableGet(pre.vm.spaces, evSpace(e))!.owner.memView! } } }))))], registerReaderAct('register')),
  ens('ENS-VMSPACE-ACTREADER-5', "activate_reader changes the space's remaining view", [after(activateReader, spacePatch(evSpace, (r) => ({ ...r, owner: { ...r.owner, memView: { ...r.owner.memView!, mappings: r.owner.memView!.mappings.filter((x) => x.vaRange.start !== 0x11000) } } })))], registerReaderAct('direct'), ['ENS-VMSPACE-ACTREADER-5', 'INV-VMSPACE-12', 'INV-VMSPACE-9']),
  ens('ENS-VMSPACE-ACTWRITER-1', 'activate_writer turns shared reading on in the VmSpace', [after(activateWriter, spacePatch(evSpace, (r) => ({ ...r, sharedReader: true })))], registerWriterAct('register'), ['ENS-VMSPACE-ACTWRITER-1', 'INV-VMSPACE-12']),
  ens('ENS-VMSPACE-ACTWRITER-2', 'activate_writer does not register the writer', [after(activateWriter, spacePatch(evSpace, (r) => ({ ...r, writers: r.writers.slice(0, -1) })))], registerWriterAct('register'), ['ENS-VMSPACE-ACTWRITER-2', 'INV-VMSPACE-12']),
  ens('ENS-VMSPACE-ACTWRITER-3', "activate_writer leaves the owner's id wrong", [after(activateWriter, ioPatch(evWriter, (x) => ({ ...x, owner: { ...x.owner!, id: 12345 } })))], registerWriterAct('register'), ['ENS-VMSPACE-ACTWRITER-3', 'INV-VMIO-3', 'INV-VMSPACE-12']),
  ens('ENS-VMSPACE-ACTWRITER-4', "activate_writer's view keeps a mapping outside its range", [after(activateWriter, (post, pre, e) => vmEdit(post, (d) => patchIo(d, evWriter(e), (x) => ({ ...x, owner: { ...x.owner!, memView: { kind: 'WriteView', view: { mappings: [...x.owner!.memView!.view.mappings, tableGet(pre.vm.spaces, evSpace(e))!.owner.memView!.mappings.find((q) => q.vaRange.start === 0x11000)!], memory: x.owner!.memView!.view.memory } } } }))))], registerWriterAct('direct'), ['ENS-VMSPACE-ACTWRITER-4', 'INV-VMSPACE-12', 'INV-VMSPACE-9']),
  ens('ENS-VMSPACE-ACTWRITER-5', 'activate_writer does not take the lent mapping out of the remaining view', [after(activateWriter, (post, pre, e) => vmEdit(post, (d) => patchSpace(d, evSpace(e), (r) => ({ ...r, owner: { ...r.owner, memView: tableGet(pre.vm.spaces, evSpace(e))!.owner.memView } }))))], registerWriterAct('direct'), ['ENS-VMSPACE-ACTWRITER-5', 'INV-VMSPACE-12']),
  // create_reader / create_writer
  ...(['reader', 'writer'] as const).flatMap((k) => {
    const K = k === 'reader' ? 'READER' : 'WRITER'
    const spec = k === 'reader' ? createReader : createWriter
    const act = (m: Model): void => {
      m.dispatch({ type: `vm_space.create_${k}`, vmSpace: bare(m), va: 0x30000, len: 0x10 })
    }
    const vio = (out: Outcome<unknown>): number => ((out.result as { value: Record<string, number> }).value)[k]!
    return [
      ens(`ENS-VMSPACE-CREATE${K}-1`, `create_${k} drops the remaining view`, [after(spec, spacePatch(evSpace, (r) => ({ ...r, owner: { ...r.owner, memView: null } })))], act, [`ENS-VMSPACE-CREATE${K}-1`, 'INV-VMSPACE-7']),
      ens(`ENS-VMSPACE-CREATE${K}-2`, `create_${k} registers the new one in the owner`, [after(spec, (post, _pre, e, out) => vmEdit(post, (d) => patchSpace(d, evSpace(e), (r) => ({ ...r, owner: { ...r.owner, [`${k}s`]: [...r.owner[`${k}s`], vio(out)] } }))))], act, [`ENS-VMSPACE-CREATE${K}-1`, `ENS-VMSPACE-CREATE${K}-2`, 'INV-VMSPACE-12', k === 'reader' ? 'INV-VMSPACE-11' : 'INV-VMSPACE-10']),
      ens(`ENS-VMSPACE-CREATE${K}-3`, `create_${k} gives the owner a view`, [after(spec, (post, _pre, _e, out) => vmEdit(post, (d) => patchIo(d, vio(out), (x) => ({ ...x, owner: { ...x.owner!, memView: { kind: k === 'reader' ? 'ReadView' : 'WriteView', view: { mappings: [], memory: [] } } } }))))], act, [`ENS-VMSPACE-CREATE${K}-3`, 'INV-VMIO-2']),
      ens(`ENS-VMSPACE-CREATE${K}-4`, `create_${k} makes an infallible one`, [after(spec, (post, _pre, _e, out) => vmEdit(post, (d) => patchIo(d, vio(out), (x) => ({ ...x, fallible: false }))))], act),
    ]
  }),
  // dispose / remove
  ens('ENS-VMSOWNER-DISPOSEREADER-1', 'dispose_reader drops the remaining view', [after(disposeReader, spacePatch(evSpace, (r) => ({ ...r, owner: { ...r.owner, memView: null } })))], registerReaderAct('register'), ['ENS-VMSOWNER-DISPOSEREADER-1', 'INV-VMSPACE-7']),
  ens('ENS-VMSOWNER-DISPOSEREADER-2', 'dispose_reader turns shared reading on', [after(disposeReader, spacePatch(evSpace, (r) => ({ ...r, owner: { ...r.owner, sharedReader: true } })))], registerReaderAct('register'), ['ENS-VMSOWNER-DISPOSEREADER-2', 'INV-VMSPACE-12']),
  ens('ENS-VMSOWNER-DISPOSEREADER-3', 'dispose_reader forgets to push the reader', [after(disposeReader, (_post, pre) => pre)], registerReaderAct('register'), ['ENS-VMSOWNER-DISPOSEREADER-3', 'INV-VMSPACE-12']),
  ens('ENS-VMSOWNER-DISPOSEWRITER-1', 'dispose_writer drops the remaining view', [after(disposeWriter, spacePatch(evSpace, (r) => ({ ...r, owner: { ...r.owner, memView: null } })))], registerWriterAct('register'), ['ENS-VMSOWNER-DISPOSEWRITER-1', 'INV-VMSPACE-7']),
  ens('ENS-VMSOWNER-DISPOSEWRITER-2', 'dispose_writer turns shared reading on', [after(disposeWriter, spacePatch(evSpace, (r) => ({ ...r, owner: { ...r.owner, sharedReader: true } })))], registerWriterAct('register'), ['ENS-VMSOWNER-DISPOSEWRITER-2', 'INV-VMSPACE-12']),
  ens('ENS-VMSOWNER-DISPOSEWRITER-3', 'dispose_writer forgets to push the writer', [after(disposeWriter, (_post, pre) => pre)], registerWriterAct('register'), ['ENS-VMSOWNER-DISPOSEWRITER-1', 'ENS-VMSOWNER-DISPOSEWRITER-3', 'INV-VMSPACE-12', 'INV-VMSPACE-9']),
  ...(['reader', 'writer'] as const).flatMap((k) => {
    const K = k === 'reader' ? 'READER' : 'WRITER'
    const spec = k === 'reader' ? removeReader : removeWriter
    const act = (m: Model): void => {
      const sc = scene(m, true)
      m.dispatch({ type: `vm_space.unregister_${k}`, vmSpace: sc.vs, [k]: k === 'reader' ? sc.r! : sc.w })
    }
    return [
      ens(`ENS-VMSOWNER-REMOVE${K}-1`, `remove_${k} drops the remaining view`, [after(spec, spacePatch(evSpace, (r) => ({ ...r, owner: { ...r.owner, memView: null } })))], act, [`ENS-VMSOWNER-REMOVE${K}-1`, 'INV-VMSPACE-7', ...(k === 'writer' ? ['ENS-VMSOWNER-REMOVEWRITER-4'] : ['ENS-VMSOWNER-REMOVEREADER-3'])]),
      ens(`ENS-VMSOWNER-REMOVE${K}-2`, `remove_${k} deactivates the owner`, [after(spec, spacePatch(evSpace, (r) => ({ ...r, owner: { ...r.owner, active: false } })))], act),
      ens(`ENS-VMSOWNER-REMOVE${K}-3`, `remove_${k} removes nothing`, [after(spec, (post, pre, e) => vmEdit(post, (d) => patchSpace(d, evSpace(e), (r) => ({ ...r, owner: { ...r.owner, [`${k}s`]: tableGet(pre.vm.spaces, evSpace(e))!.owner[`${k}s`] } }))))], act, [`ENS-VMSOWNER-REMOVE${K}-1`, `ENS-VMSOWNER-REMOVE${K}-3`, 'INV-VMSPACE-12', ...(k === 'writer' ? ['INV-VMSPACE-10'] : ['INV-VMSPACE-11'])]),
    ]
  }),
  ens('ENS-VMSOWNER-REMOVEWRITER-4', "remove_writer does not join the writer's view back", [after(removeWriter, (post, pre, e) => vmEdit(post, (d) => patchSpace(d, evSpace(e), (r) => ({ ...r, owner: { ...r.owner, memView: tableGet(pre.vm.spaces, evSpace(e))!.owner.memView } }))))], (m) => {
    const sc = scene(m, false)
    m.dispatch({ type: 'vm_space.unregister_writer', vmSpace: sc.vs, writer: sc.w })
  }, ['ENS-VMSOWNER-REMOVEWRITER-1', 'ENS-VMSOWNER-REMOVEWRITER-4', 'INV-VMSPACE-9']),
  ens('ENS-VMSOWNER-NEWID-1', 'new_vm_io_id does not move the counter past the id', [variant(newVmIoId, (s) => ({ snapshot: s, result: { id: s.counters.vmIo } }))], (m) => {
    m.dispatch({ type: 'vm_space.create_reader', vmSpace: bare(m), va: 0x30000, len: 0x10 })
  }),
  // model postconditions
  ens('ENS-VMSPACE-ACTIVATE-1', 'activate does not flush the TLB', [after(vmSpaceActivate, (post, pre) => vmEdit(post, (d) => { d.vm.tlb = pre.vm.tlb as typeof d.vm.tlb }))], (m) => {
    const a = newSpace(m)
    mapAt(m, a, 0x10000)
    const b = newSpace(m)
    m.dispatch({ type: 'vm_space.activate', vmSpace: a })
    const r = reader(m, a, 0x10000, 8)
    m.dispatch({ type: 'vm_reader.read_val', reader: r, valType: 'u64' })
    m.dispatch({ type: 'vm_reader.drop', reader: r })
    m.dispatch({ type: 'vm_space.activate', vmSpace: b })
  }, ['ENS-VMSPACE-ACTIVATE-1', 'INV-TLB-2']),
  ens('ENS-VMSPACE-ACTIVATE-1', 'activate keeps the previous space, dropped while activated, and its page table', [variant(vmSpaceActivate, (s, e) => {
    const prev = s.vm.activated
    const record = prev === null ? null : tableGet(s.vm.spaces, prev)
    if (prev === null || record?.dropped !== true) return vmSpaceActivate.reduce(s, e)
    // the previous space treated as if its handle were still live: deactivated, not freed
    const out = vmSpaceActivate.reduce(vmEdit(s, (d) => patchSpace(d, prev, (r) => ({ ...r, dropped: false }))), e)
    return { ...out, snapshot: vmEdit(out.snapshot, (d) => patchSpace(d, prev, (r) => ({ ...r, dropped: record.dropped }))) }
  })], (m) => {
    const a = newSpace(m)
    const b = newSpace(m)
    m.dispatch({ type: 'vm_space.activate', vmSpace: a })
    m.dispatch({ type: 'vm_space.drop', vmSpace: a })
    m.dispatch({ type: 'vm_space.activate', vmSpace: b })
  }),
  ens('ENS-VMSPACE-DROP-1', 'drop forgets to drop the page table', [variant(vmSpaceDrop, (s, e) => ({ snapshot: vmEdit(s, (d) => putSpace(d, e['vmSpace'] as number, null as unknown as VmSpaceRecord)), result: null }))], (m) => {
    const vs = newSpace(m)
    m.dispatch({ type: 'vm_space.drop', vmSpace: vs })
  }),
  ens('ENS-VMSPACE-USERIO-1', 'reader ignores that the space is not activated', [variant(vmSpaceReader, (s, e) => createReader.reduce(s, { ...e, type: 'vm_space.create_reader' }) as Outcome<never>)], (m) => {
    const vs = newSpace(m)
    m.dispatch({ type: 'vm_space.reader', vmSpace: vs, va: 0x1000, len: 8 })
  }, ['ENS-EMB-NEWREADER-1', 'ENS-VMSPACE-USERIO-1']),
  ens('ENS-VMSCURSOR-MAP-1', 'map keeps the replaced frame', [variant(vmCursorMap, (s, e) => {
    const out = vmCursorMap.reduce(s, e)
    const vc = tableGet(s.vm.cursors, e.cursor)!
    const root = tableGet(s.pt.tables, tableGet(s.vm.spaces, vc.vmSpace)!.pageTable)!.rootPaddr / K4
    const old = mappingAt(s, root, 0x10000, { config: 'user' })
    return old === null ? out : { ...out, snapshot: vmEdit(out.snapshot, (d) => setCells(d, old.paRange.start / K4, { refCount: 2 })) }
  })], (m) => {
    const vs = newSpace(m)
    const f = okv<{ frame: number }>(m.call({ type: 'frame_alloc.alloc_frame' }))
    m.dispatch({ type: 'frame.clone', frame: f.frame }) // the old frame outlives its mapping
    const c = cursorMut(m, vs, 0x10000, 0x11000)
    m.dispatch({ type: 'vm_cursor_mut.map', cursor: c, frame: f.frame, prop: RW })
    m.dispatch({ type: 'vm_cursor.drop', cursor: c })
    mapAt(m, vs, 0x10000)
  }, ['ENS-VMSCURSOR-MAP-1', 'INV-ACCT-3']),
  ens('ENS-VMSCURSOR-MAP-2', 'map leaves the stale translation in the TLB', [variant(vmCursorMap, (s, e) => {
    const out = vmCursorMap.reduce(s, e)
    return { ...out, snapshot: vmEdit(out.snapshot, (d) => { d.vm.tlb = s.vm.tlb as typeof d.vm.tlb }) }
  })], (m) => {
    const vs = spaceWithCachedPage(m)
    mapAt(m, vs, 0x10000)
  }, ['ENS-VMSCURSOR-MAP-2', 'INV-TLB-2']),
  ens('ENS-VMSCURSOR-UNMAP-1', 'unmap counts one frame too many', [after(vmCursorUnmap, (post) => post, (n) => (n as number) + 1)], (m) => {
    const vs = newSpace(m)
    mapAt(m, vs, 0x10000)
    const c = cursorMut(m, vs, 0x10000, 0x20000)
    m.dispatch({ type: 'vm_cursor_mut.unmap', cursor: c, len: 0x10000 })
  }),
  ens('ENS-VMSCURSOR-UNMAP-2', 'unmap stops half-way', [variant(vmCursorUnmap, (s, e) => vmCursorUnmap.reduce(s, { ...e, len: K4 } as typeof e) as Outcome<never>)], (m) => {
    const vs = newSpace(m)
    mapAt(m, vs, 0x10000)
    mapAt(m, vs, 0x18000)
    const c = cursorMut(m, vs, 0x10000, 0x20000)
    m.dispatch({ type: 'vm_cursor_mut.unmap', cursor: c, len: 0x10000 })
  }, ['ENS-VMSCURSOR-UNMAP-1', 'ENS-VMSCURSOR-UNMAP-2']),
  ens('ENS-VMSCURSOR-UNMAP-3', 'unmap leaves the stale translation cached', [variant(vmCursorUnmap, (s, e) => {
    const out = vmCursorUnmap.reduce(s, e)
    return { ...out, snapshot: vmEdit(out.snapshot, (d) => { d.vm.tlb = s.vm.tlb as typeof d.vm.tlb }) }
  })], (m) => {
    const vs = spaceWithCachedPage(m)
    const c = cursorMut(m, vs, 0x10000, 0x20000)
    m.dispatch({ type: 'vm_cursor_mut.unmap', cursor: c, len: 0x10000 })
  }, ['ENS-VMSCURSOR-UNMAP-3', 'INV-TLB-2']),
  ens('ENS-TLB-DISPATCH-1', 'dispatch empties the flusher without flushing', [variant(dispatchTlbFlush, (s, e) => ({ snapshot: vmEdit(s, (d) => { d.vm.cursors = tableWith(plain<VmCursorRecord>(d.vm.cursors), e['cursor'] as number, { ...tableGet(s.vm.cursors, e['cursor'] as number)!, flusher: { ops: [], deferred: [] } }) as typeof d.vm.cursors }), result: null }))], (m) => {
    const vs = spaceWithCachedPage(m)
    const c = cursorMut(m, vs, 0x30000, 0x40000)
    m.dispatch({ type: 'vm_cursor_mut.issue_tlb_flush', cursor: c, op: { kind: 'All' } })
    m.dispatch({ type: 'vm_cursor_mut.dispatch_tlb_flush', cursor: c })
  }),
  ens('ENS-TLB-DISPATCH-2', 'dispatch forgets the frames kept behind the flush', [variant(dispatchTlbFlush, (s, e) => ({ snapshot: vmEdit(s, (d) => { d.vm.cursors = tableWith(plain<VmCursorRecord>(d.vm.cursors), e['cursor'] as number, { ...tableGet(s.vm.cursors, e['cursor'] as number)!, flusher: { ops: [], deferred: [] } }) as typeof d.vm.cursors }), result: null }))], (m) => {
    const vs = newSpace(m)
    const c = cursorMut(m, vs, 0x30000, 0x40000)
    const f = okv<{ frame: number }>(m.call({ type: 'frame_alloc.alloc_frame' }))
    m.dispatch({ type: 'vm_cursor_mut.issue_tlb_flush_with', cursor: c, op: { kind: 'Address', va: 0x30000 }, release: { kind: 'frame', handle: f.frame } })
    m.dispatch({ type: 'vm_cursor_mut.dispatch_tlb_flush', cursor: c })
  }),
  ens('ENS-TLB-DISPATCH-3', "another space's dispatch flushes the activated space's translations", [variant(dispatchTlbFlush, (s, e) => {
    const out = dispatchTlbFlush.reduce(s, e)
    return { ...out, snapshot: vmEdit(out.snapshot, (d) => { d.vm.tlb = { mappings: [] } as typeof d.vm.tlb }) }
  })], (m) => {
    spaceWithCachedPage(m)
    const c = cursorMut(m, newSpace(m), 0x10000, 0x20000)
    m.dispatch({ type: 'vm_cursor_mut.issue_tlb_flush', cursor: c, op: { kind: 'All' } })
    m.dispatch({ type: 'vm_cursor_mut.dispatch_tlb_flush', cursor: c })
  }),
  ens('ENS-TLB-ISSUE-1', 'issue_tlb_flush loses the op', [variant(issueTlbFlush, (s) => ({ snapshot: s, result: null }))], (m) => {
    const c = cursorMut(m, newSpace(m), 0x30000, 0x40000)
    m.dispatch({ type: 'vm_cursor_mut.issue_tlb_flush', cursor: c, op: { kind: 'Address', va: 0x30000 } })
  }),
  ens('ENS-VMIO-FALLIBLE-1', 'collect returns zeros instead of the mapped bytes', [after(readerCollect, (post) => post, (r) => ((r as { ok: boolean }).ok ? { ok: true, value: 'AAAAAA==' } : r) as typeof r)], (m) => {
    m.dispatch({ type: 'vm_reader.collect', reader: userWordReader(m) })
  }),
  ens('ENS-VMIO-FALLIBLE-1', 'a user-space read_val decodes the mapped bytes big-endian', [after(readerReadVal, (post) => post, (r) => ((r as { ok: boolean; value: unknown }).ok ? { ok: true, value: 0x04030201 } : r) as typeof r)], (m) => {
    m.dispatch({ type: 'vm_reader.read_val', reader: userWordReader(m), valType: 'u32' })
  }),
  ens('ENS-VMIO-FALLIBLE-2', 'fill_zeros claims success at a read-only page', [after(writerFillZeros, (post) => post, (r, pre, e) => ({ ok: true, value: Math.min(e.len, tableGet(pre.vmIos, e.writer)!.end - tableGet(pre.vmIos, e.writer)!.cursor) }) as typeof r)], (m) => {
    const vs = newSpace(m)
    mapAt(m, vs, 0x10000, R)
    m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
    const w = writer(m, vs, 0x10000, 16)
    m.dispatch({ type: 'vm_writer.fill_zeros', writer: w, len: 16 })
  }),
  ens('ENS-VMIO-FALLIBLE-2', 'write_fallible reports the copy but writes nothing', [after(writerWriteFallible, (post, pre) => vmEdit(post, (d) => { d.memory = pre.memory as typeof d.memory }))], (m) => {
    const vs = newSpace(m)
    mapAt(m, vs, 0x10000)
    m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
    const f = okv<{ frame: number }>(m.call({ type: 'frame_alloc.alloc_frame' }))
    const kw = m.call<{ writer: number }>({ type: 'frame.writer', frame: f.frame }).writer
    m.dispatch({ type: 'vm_writer.write_val', writer: kw, valType: 'u32', value: 0x01020304 })
    const kr = m.call<{ reader: number }>({ type: 'frame.reader', frame: f.frame }).reader
    const w = writer(m, vs, 0x10000, 4)
    m.dispatch({ type: 'vm_writer.write_fallible', writer: w, reader: kr })
  }),
  ens('ENS-VMIO-FALLIBLE-2', "write_fallible copies but leaves the kernel reader's cursor where it was", [after(writerWriteFallible, (post, pre, e) => vmEdit(post, (d) => patchIo(d, e.reader, () => tableGet(pre.vmIos, e.reader)!)))], (m) => {
    const vs = newSpace(m)
    mapAt(m, vs, 0x10000)
    m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
    const f = okv<{ frame: number }>(m.call({ type: 'frame_alloc.alloc_frame' }))
    const kr = m.call<{ reader: number }>({ type: 'frame.reader', frame: f.frame }).reader
    const w = writer(m, vs, 0x10000, 4)
    m.dispatch({ type: 'vm_writer.write_fallible', writer: w, reader: kr })
  }),
  ens('ENS-VMIO-FALLIBLE-2', "a user write_val reports Ok but its bytes are lost", [after(writerWriteVal, (post, pre) => vmEdit(post, (d) => { d.memory = pre.memory as typeof d.memory }))], (m) => {
    const vs = newSpace(m)
    mapAt(m, vs, 0x10000)
    m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
    const w = writer(m, vs, 0x10000, 8)
    m.dispatch({ type: 'vm_writer.write_val', writer: w, valType: 'u64', value: '72623859790382856' })
  }),
  ens('ENS-VMIO-FALLIBLE-2', "a user write_val that does not fit moves the cursor", [after(writerWriteVal, (post, _pre, e) => vmEdit(post, (d) => patchIo(d, e.writer, (x) => ({ ...x, cursor: x.end }))))], (m) => {
    const vs = newSpace(m)
    mapAt(m, vs, 0x10000)
    m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
    const w = writer(m, vs, 0x10000, 2)
    m.dispatch({ type: 'vm_writer.write_val', writer: w, valType: 'u32', value: 7 })
  }, ['ENS-VMIO-FALLIBLE-2', 'INV-VMIO-3']), // the owner's range no longer starts at the cursor
]


// ---- preconditions ------------------------------------------------------------------------------------------------

const corruptSpace = (fn: (r: VmSpaceRecord) => VmSpaceRecord) => (m: Model): Snapshot => edit(m.state, (d) => patchSpace(d, last.vs, fn))
const corruptIo = (id: () => number, fn: (x: VmIoEntry) => VmIoEntry) => (m: Model): Snapshot => edit(m.state, (d) => patchIo(d, id(), fn))
let extra = 0

const reqCases: FiringCase[] = [
  req('REQ-VMSPACE-CURSORMUT-1', "cursor_mut over a space whose page-table root is held by code (pt_own.inv() fails)", withScene(false), () => ({ type: 'vm_space.cursor_mut', vmSpace: last.vs, vaStart: 0x40000, vaEnd: 0x41000 }), (m) =>
    edit(m.state, (d) => {
      const pt = tableGet(m.state.pt.tables, tableGet(m.state.vm.spaces, last.vs)!.pageTable)!
      const slot = pt.rootPaddr / K4
      const owners = plain<PtNodeOwner>(d.pt.owners)
      d.pt.owners = tableWith(owners, slot, { ...tableGet(owners, slot)!, inScope: true }) as typeof d.pt.owners
    }),
  ),
  ...(['reader', 'writer'] as const).flatMap((k) => {
    const K = k === 'reader' ? 'READER' : 'WRITER'
    const ev = (va: number, len = 0x10) => (): ModelEvent => ({ type: `vm_space.create_${k}`, vmSpace: last.vs, va, len })
    return [
      req(`REQ-VMSPACE-CREATE${K}-1`, `create_${k} on an inactive space`, (m) => { last = { vs: newSpace(m), w: 0, r: null } }, ev(0x10000)),
      req(`REQ-VMSPACE-CREATE${K}-2`, `create_${k} over a registered ${k === 'reader' ? 'writer' : 'reader'}`, withScene(true), ev(k === 'reader' ? 0x10080 : 0x11080)),
      req(`REQ-VMSPACE-CREATE${K}-3`, `create_${k} at address 0`, withScene(false), ev(0, 8)),
      req(`REQ-VMSPACE-CREATE${K}-4`, `create_${k} while another page table is current`, withScene(false), ev(0x40000), (m) => edit(m.state, (d) => { d.vm.activated = null })),
    ]
  }),
  ...(['reader', 'writer'] as const).flatMap((k) => {
    const K = k === 'reader' ? 'READER' : 'WRITER'
    const fresh = (va: number) => (m: Model): void => {
      last = scene(m, true)
      extra = k === 'reader' ? reader(m, last.vs, va, 0x10) : writer(m, last.vs, va, 0x10)
    }
    const act = (vio: () => number) => (): ModelEvent => ({ type: `vm_space.activate_${k}`, vmSpace: last.vs, [k]: vio() })
    return [
      req(`REQ-VMSPACE-ACT${K}-1`, `activate_${k} while the space registers a ${k} that does not exist`, fresh(0x12000), act(() => extra), corruptSpace((r) => ({ ...r, readers: [...r.readers, 999] }))),
      req(`REQ-VMSPACE-ACT${K}-2`, `activate_${k} over an unmapped range`, fresh(0x50000), act(() => extra)),
      req(`REQ-VMSPACE-ACT${K}-3`, `activate_${k} while inv_with is broken`, fresh(0x12000), act(() => extra), corruptSpace((r) => ({ ...r, sharedReader: true }))),
      req(`REQ-VMSPACE-ACT${K}-4`, `activate_${k} of one whose owner id is not its own`, fresh(0x12000), act(() => extra), corruptIo(() => extra, (x) => ({ ...x, owner: { ...x.owner!, id: 4242 } }))),
    ]
  }),
  req('REQ-VMSOWNER-CANREADER-1', 'register a reader that overlaps a registered writer', (m) => {
    const vs = newSpace(m)
    mapAt(m, vs, 0x10000)
    m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
    extra = reader(m, vs, 0x10000, 0x80)
    const w = writer(m, vs, 0x10080, 0x80)
    m.dispatch({ type: 'vm_space.register_writer', vmSpace: vs, writer: w })
    last = { vs, w, r: null }
  }, () => ({ type: 'vm_space.register_reader', vmSpace: last.vs, reader: extra })),
  req('REQ-VMSOWNER-CANWRITER-1', 'register a writer that overlaps a registered reader', (m) => {
    const vs = newSpace(m)
    mapAt(m, vs, 0x11000)
    m.dispatch({ type: 'vm_space.activate', vmSpace: vs })
    extra = writer(m, vs, 0x11000, 0x10)
    const r = reader(m, vs, 0x11000, 0x100)
    m.dispatch({ type: 'vm_space.register_reader', vmSpace: vs, reader: r })
    last = { vs, w: 0, r }
  }, () => ({ type: 'vm_space.register_writer', vmSpace: last.vs, writer: extra })),
  req('REQ-VMSOWNER-DISPOSEREADER-1', "dispose a reader whose view does not cover its range", (m) => {
    last = scene(m, false)
    extra = reader(m, last.vs, 0x12000, 0x10)
  }, () => ({ type: 'vm_space_owner.dispose_reader', vmSpace: last.vs, reader: extra }), corruptIo(() => extra, (x) => ({ ...x, owner: { ...x.owner!, memView: { kind: 'ReadView', view: { mappings: [], memory: [] } } } }))),
  req('REQ-VMSOWNER-DISPOSEREADER-2', 'dispose a reader that holds no read view', (m) => {
    last = scene(m, false)
    extra = reader(m, last.vs, 0x12000, 0x10)
  }, () => ({ type: 'vm_space_owner.dispose_reader', vmSpace: last.vs, reader: extra })),
  req('REQ-VMSOWNER-DISPOSEREADER-3', 'dispose a reader overlapping a registered reader', (m) => {
    last = scene(m, true)
    extra = reader(m, last.vs, 0x11000, 0x10)
    m.dispatch({ type: 'vm_space.activate_reader', vmSpace: last.vs, reader: extra })
  }, () => ({ type: 'vm_space_owner.dispose_reader', vmSpace: last.vs, reader: extra })),
  req('REQ-VMSOWNER-DISPOSEWRITER-1', "dispose a writer whose view does not cover its range", (m) => {
    last = scene(m, false)
    extra = writer(m, last.vs, 0x12000, 0x10)
  }, () => ({ type: 'vm_space_owner.dispose_writer', vmSpace: last.vs, writer: extra }), corruptIo(() => extra, (x) => ({ ...x, owner: { ...x.owner!, memView: { kind: 'WriteView', view: { mappings: [], memory: [] } } } }))),
  req('REQ-VMSOWNER-DISPOSEWRITER-2', 'dispose a writer that holds no write view', (m) => {
    last = scene(m, false)
    extra = writer(m, last.vs, 0x12000, 0x10)
  }, () => ({ type: 'vm_space_owner.dispose_writer', vmSpace: last.vs, writer: extra })),
  req('REQ-VMSOWNER-DISPOSEWRITER-3', 'dispose a writer overlapping a registered reader', (m) => {
    last = scene(m, false)
    extra = writer(m, last.vs, 0x12080, 0x10)
    const r = reader(m, last.vs, 0x12000, 0x100)
    m.dispatch({ type: 'vm_space.register_reader', vmSpace: last.vs, reader: r })
    m.dispatch({ type: 'vm_space.activate_writer', vmSpace: last.vs, writer: extra })
  }, () => ({ type: 'vm_space_owner.dispose_writer', vmSpace: last.vs, writer: extra })),
  ...(['reader', 'writer'] as const).flatMap((k) => {
    const K = k === 'reader' ? 'READER' : 'WRITER'
    return [
      req(`REQ-VMSOWNER-REMOVE${K}-1`, `remove_${k} on an inactive owner`, withScene(true), () => ({ type: `vm_space_owner.remove_${k}`, vmSpace: last.vs, idx: 0 }), corruptSpace((r) => ({ ...r, owner: { ...r.owner, active: false } }))),
      req(`REQ-VMSOWNER-REMOVE${K}-2`, `remove_${k} at an index past the end`, withScene(true), () => ({ type: `vm_space_owner.remove_${k}`, vmSpace: last.vs, idx: 5 })),
    ]
  }),
  req('REQ-VMSOWNER-NEWID-1', 'new_vm_io_id while the owner breaks inv()', withScene(false), () => ({ type: 'vm_space_owner.new_vm_io_id', vmSpace: last.vs }), corruptSpace((r) => ({ ...r, owner: { ...r.owner, memView: null } }))),
  req('REQ-VMSCURSOR-1', "unmap a page lent to a registered writer", (m) => {
    last = scene(m, false)
    extra = cursorMut(m, last.vs, 0x10000, 0x11000)
  }, () => ({ type: 'vm_cursor_mut.unmap', cursor: extra, len: K4 })),
  // A VmSpace cursor or reader is the embedding's REQ-EMB-DROPVMSPACE-2/3 (checked first); what is left
  // for the model rule is a page-table cursor on the space's table with no VmSpace cursor record.
  req('REQ-VMSPACE-BORROW-1', "drop a space whose page table a cursor borrows that is not in the store's cursors (corrupted)", (m) => {
    last = { vs: newSpace(m), w: 0, r: null }
    extra = cursorMut(m, last.vs, 0x40000, 0x41000)
  }, () => ({ type: 'vm_space.drop', vmSpace: last.vs }), (m) => edit(m.state, (d) => {
    d.vm.cursors = tableWith(plain<VmCursorRecord>(d.vm.cursors), extra, null) as typeof d.vm.cursors
  })),
  req('REQ-VMSPACE-REGISTERED-1', 'unregister a reader that was never registered', (m) => {
    last = scene(m, false)
    extra = reader(m, last.vs, 0x40000, 8)
  }, () => ({ type: 'vm_space.unregister_reader', vmSpace: last.vs, reader: extra })),
  req('REQ-VMIO-REGISTERED-1', 'drop a registered writer', withScene(false), () => ({ type: 'vm_writer.drop', writer: last.w })),
  req('REQ-VMIO-INFALLIBLE-1', 'write_once through a fallible user writer', (m) => {
    last = scene(m, false)
    extra = writer(m, last.vs, 0x40000, 8)
  }, () => ({ type: 'vm_writer.write_once', writer: extra, valType: 'u32', value: 1 })),
  req('REQ-VMIO-FALLIBLE-1', 'read_fallible between two infallible kernel sides', (m) => {
    const f = okv<{ frame: number }>(m.call({ type: 'frame_alloc.alloc_frame' }))
    extra = m.call<{ reader: number }>({ type: 'frame.reader', frame: f.frame }).reader
    last = { vs: 0, w: m.call<{ writer: number }>({ type: 'frame.writer', frame: f.frame }).writer, r: null }
  }, () => ({ type: 'vm_reader.read_fallible', reader: extra, writer: last.w })),
  req('REQ-TLB-OP-1', 'issue a flush of an unaligned address', (m) => {
    const vs = newSpace(m)
    extra = cursorMut(m, vs, 0x10000, 0x20000)
  }, () => ({ type: 'vm_cursor_mut.issue_tlb_flush', cursor: extra, op: { kind: 'Address', va: 0x10001 } })),
]

// ---- store umbrellas over the cursor invariants ---------------------------------------------------------

let cursorId = 0

function spaceWithCursor(m: Model): void {
  const vs = newSpace(m)
  mapAt(m, vs, 0x10000)
  cursorId = cursorMut(m, vs, 0x10000, 0x11000)
}

function ptCursorIn(d: Draft<Snapshot>): PtCursor {
  return tableGet(plain<PtCursor>(d.pt.cursors), cursorId)!
}

const storeCases: FiringCase[] = [
  {
    rule: 'INV-STORE-6',
    title: "a VmSpace cursor's exec address does not reflect its owner's (CursorEntry::inv)",
    expectAlso: ['INV-STORE-6'],
    expect: ['INV-CURSOR-12', 'INV-CURSOR-13'],
    run: () =>
      corrupted(spaceWithCursor, (d) => {
        const c = ptCursorIn(d)
        d.pt.cursors = tableWith(plain<PtCursor>(d.pt.cursors), cursorId, { ...c, va: c.va + 0x800 }) as typeof d.pt.cursors
      }, MEM),
  },
  {
    rule: 'INV-STORE-7',
    title: 'an entry of a node the cursor holds is an absent owner carrying a frame (metaregion_sound)',
    expectAlso: ['INV-STORE-7'],
    expect: ['INV-ENTRY-1', 'INV-MATCH-4', 'INV-SOUND-4', 'INV-TREE-8'],
    run: () =>
      corrupted(spaceWithCursor, (d) => {
        const slot = ptCursorIn(d).owner.continuations[0]!.slot
        const owners = plain<PtNodeOwner>(d.pt.owners)
        const r = tableGet(owners, slot)!
        const e = tableGet(r.children, 16) as { tree: number; path: string; frame: unknown }
        d.pt.owners = tableWith(owners, slot, { ...r, children: tableWith(r.children, 16, { kind: 'absent', tree: e.tree, path: e.path, parentLevel: 1, inScope: false, frame: e.frame } as never) }) as typeof d.pt.owners
      }, MEM),
  },
]

export const vmSpaceCases: FiringCase[] = [...invariantCases, ...ensCases, ...reqCases, ...storeCases]
