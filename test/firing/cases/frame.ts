/**
 * Firing cases of the meta-slot and `Frame` layer: INV-SLOT-*, INV-REGIONS-*, the frame part of
 * INV-STORE-* / INV-ACCT-*, ENS/REQ of meta slots and frame handles, and the PTE codec REQs.
 */
import { metaAddr, PAGE_SIZE, PageUsage, REF_COUNT_MAX, REF_COUNT_UNIQUE } from '../../../src/arch/constants.js'
import { newUser, PageFlags } from '../../../src/arch/page_prop.js'
import { newPage, newPt, setProp } from '../../../src/arch/pte.js'
import { UNIT_META } from '../../../src/model/snapshot.js'
import { allocFrame, frameClone, frameDrop, frameFromInUse, frameFromRaw, frameFromUnused, frameIntoRaw } from '../../../reducers/frame/frame.js'
import { dropLastInPlace, getFromInUse, getFromUnused } from '../../../reducers/frame/meta.js'
import { freshId } from '../../../reducers/frame/edit.js'
import { corrupted, edit, errSwapped, panics, rejected, variant, withVariantBothModes, type FiringCase } from '../harness.js'
import { alloc, makeUnique, ownerIn, setCells, setExec, setOwner, stateWith, tableSet } from './util.js'
import { unwrap as unwrapResult } from '../../../src/api/result.js'
import { Frame } from '../../../src/api/frame.js'

const nothing = (): void => {}
const oneFrame = (m: Parameters<typeof alloc>[0]): void => void alloc(m)

/** Slot 3 drifts: exec rc 2, ghost rc 1 (INV-SLOT-9), breaking `regions.inv()` locally. */
const driftAt3 = stateWith(nothing, (d) => {
  setCells(d, 3, { refCount: 1, storage: { kind: 'Frame', meta: UNIT_META }, vtablePtr: 0 })
  setOwner(d, 3, { usage: PageUsage.Frame })
  setExec(d, 3, { refCount: 2 })
})

export const frameCases: FiringCase[] = [
  // ---- INV-SLOT -------------------------------------------------------------------------
  {
    rule: 'INV-SLOT-1',
    title: 'a freed slot keeps its metadata initialised',
    run: () => corrupted((m) => alloc(m).drop(), (d) => setCells(d, 0, { storage: { kind: 'Frame', meta: UNIT_META } })),
  },
  {
    rule: 'INV-SLOT-2',
    title: 'a UNIQUE slot with uninitialised storage',
    run: () => corrupted(nothing, (d) => setCells(d, 5, { refCount: REF_COUNT_UNIQUE, vtablePtr: 0 })),
  },
  {
    rule: 'INV-SLOT-3',
    title: 'a shared slot whose vtable cell is uninitialised',
    run: () => corrupted(oneFrame, (d) => setCells(d, 0, { vtablePtr: null })),
  },
  {
    rule: 'INV-SLOT-4',
    title: 'a ref count between REF_COUNT_MAX and UNIQUE',
    run: () => corrupted(nothing, (d) => setCells(d, 5, { refCount: REF_COUNT_MAX + 4096, storage: { kind: 'Frame', meta: UNIT_META }, vtablePtr: 0 })),
  },
  {
    rule: 'INV-SLOT-5',
    title: 'the transient ref count 0 is observed between operations',
    run: () => corrupted(nothing, (d) => setCells(d, 5, { refCount: 0 })),
  },
  {
    rule: 'INV-SLOT-6',
    title: 'self_addr not 64-byte aligned',
    expect: ['INV-REGIONS-6', 'INV-SLOT-6'],
    run: () => corrupted(nothing, (d) => setOwner(d, 5, { selfAddr: metaAddr(5) + 3 })),
  },
  {
    rule: 'INV-SLOT-7',
    title: 'paths_in_pt with a duplicate path',
    expect: ['INV-SLOT-7', 'INV-TREE-8'],
    run: () =>
      corrupted(oneFrame, (d) => {
        setCells(d, 0, { refCount: 3 })
        setOwner(d, 0, { pathsInPt: ['0.0.0.1', '0.0.0.1'] })
      }),
  },
  {
    rule: 'INV-SLOT-8',
    title: 'usage MMIO outside the MMIO ranges',
    run: () => corrupted(nothing, (d) => setOwner(d, 5, { usage: PageUsage.MMIO })),
  },
  {
    rule: 'INV-SLOT-9',
    title: 'exec ref count drifts from the ghost owner',
    run: () => corrupted(oneFrame, (d) => setExec(d, 0, { refCount: 2 })),
  },
  // ---- INV-REGIONS ----------------------------------------------------------------------
  {
    rule: 'INV-REGIONS-1',
    title: 'a slot owner that is not a MetaSlotOwner',
    run: () => corrupted(nothing, (d) => setOwner(d, 5, { usage: 'Bogus' as PageUsage })),
  },
  {
    rule: 'INV-REGIONS-2',
    title: 'a malformed entry in the slot-permission map',
    run: () =>
      corrupted(nothing, (d) => {
        makeUnique(d, 5, { unpark: true })
        tableSet(d.regions.unparked, 5, 2 as unknown as true)
      }),
  },
  {
    rule: 'INV-REGIONS-3',
    title: 'a parked slot breaking its invariant is reported as INV-REGIONS-3 too',
    expect: ['INV-SLOT-3'],
    expectAlso: ['INV-REGIONS-3'],
    run: () => corrupted(oneFrame, (d) => setCells(d, 0, { vtablePtr: null })),
  },
  {
    rule: 'INV-REGIONS-4',
    title: 'an un-parked slot breaking INV-SLOT-2 is reported as INV-REGIONS-4 (not -3)',
    expect: ['INV-SLOT-2'],
    expectAlso: ['INV-REGIONS-4', 'INV-STORE-1'],
    run: () =>
      corrupted(nothing, (d) => {
        makeUnique(d, 5, { unpark: true })
        setCells(d, 5, { vtablePtr: null })
      }),
  },
  {
    rule: 'INV-REGIONS-5',
    title: 'an un-parked slot that is not UNIQUE',
    run: () =>
      corrupted(nothing, (d) => {
        tableSet(d.regions.unparked, 5, true)
        tableSet(d.uniqueOwners, 5, { slotIndex: 5, metaPermAddr: metaAddr(5), innerPerms: ownerIn(d, 5).innerPerms })
      }),
  },
  {
    rule: 'INV-REGIONS-6',
    title: 'self_addr points at another slot',
    run: () => corrupted(nothing, (d) => setOwner(d, 5, { selfAddr: metaAddr(6) })),
  },
  // ---- INV-STORE (frames) ----------------------------------------------------------------
  {
    rule: 'INV-STORE-1',
    title: 'a regions.inv() failure is reported as INV-STORE-1 too',
    expect: ['INV-REGIONS-6'],
    expectAlso: ['INV-STORE-1'],
    run: () => corrupted(nothing, (d) => setOwner(d, 5, { selfAddr: metaAddr(6) })),
  },
  {
    rule: 'INV-STORE-2',
    title: 'an un-parked UNIQUE slot that no owner holds',
    run: () =>
      corrupted(nothing, (d) => {
        makeUnique(d, 5)
        tableSet(d.regions.unparked, 5, true)
      }),
  },
  {
    rule: 'INV-STORE-3',
    title: 'in_list names no linked list',
    run: () =>
      corrupted(nothing, (d) => {
        makeUnique(d, 5)
        setCells(d, 5, { storage: { kind: 'FrameLink', meta: UNIT_META, nextPaddr: null, prevPaddr: null }, inList: 9 })
      }),
  },
  {
    rule: 'INV-STORE-12',
    title: 'a Frame handle with a misaligned paddr',
    run: () =>
      corrupted(oneFrame, (d) => {
        tableSet(d.frames, 7, { paddr: 0x10 })
        setCells(d, 0, { refCount: 2 })
        tableSet(d.regions.frameObligations, 0, 2)
      }),
  },
  {
    rule: 'INV-STORE-13',
    title: 'a Frame handle to a slot whose usage is not Frame',
    run: () => corrupted(oneFrame, (d) => setOwner(d, 0, { usage: PageUsage.Reserved })),
  },
  {
    rule: 'INV-STORE-14',
    title: 'an empty segment',
    run: () => corrupted(nothing, (d) => tableSet(d.segments, 0, { startPaddr: 0x5000, endPaddr: 0x5000 })),
  },
  {
    rule: 'INV-STORE-15',
    title: 'a segment covering a slot whose usage is not Frame',
    run: () =>
      corrupted(
        (m) => void alloc(m).intoRaw(),
        (d) => {
          tableSet(d.segments, 0, { startPaddr: 0, endPaddr: 0x1000 })
          setOwner(d, 0, { usage: PageUsage.Reserved })
        },
      ),
  },
  {
    rule: 'INV-STORE-16',
    title: 'a UniqueFrame handle with a misaligned paddr',
    run: () =>
      corrupted(nothing, (d) => {
        makeUnique(d, 5, { unpark: true })
        tableSet(d.uniqueFrames, 0, { paddr: 0x5001 })
      }),
  },
  {
    rule: 'INV-STORE-17',
    title: 'a UniqueFrame handle to a slot whose usage is not Frame',
    run: () =>
      corrupted(nothing, (d) => {
        makeUnique(d, 5, { unpark: true, usage: PageUsage.Reserved })
        tableSet(d.uniqueFrames, 0, { paddr: 0x5000 })
      }),
  },
  {
    rule: 'INV-STORE-18',
    title: 'two UniqueFrame handles to one frame',
    run: () =>
      corrupted(nothing, (d) => {
        makeUnique(d, 5, { unpark: true })
        tableSet(d.uniqueFrames, 0, { paddr: 0x5000 })
        tableSet(d.uniqueFrames, 1, { paddr: 0x5000 })
      }),
  },
  {
    rule: 'INV-STORE-19',
    title: 'a segment whose forgotten reference is not counted in raw_count',
    run: () =>
      corrupted(oneFrame, (d) => {
        tableSet(d.segments, 0, { startPaddr: 0, endPaddr: 0x1000 })
        setCells(d, 0, { refCount: 2 })
      }),
  },
  // ---- INV-ACCT / obligations ------------------------------------------------------------
  {
    rule: 'INV-ACCT-1',
    title: 'an UNUSED MMIO slot still referenced by a page-table path',
    run: () => corrupted(nothing, (d) => setOwner(d, 0x10, { usage: PageUsage.MMIO, pathsInPt: ['0.0.0.16'] }), { mmioRanges: [[0x10000, 0x20000]] }),
  },
  {
    rule: 'INV-ACCT-2',
    title: 'a live frame that nothing holds (a leak)',
    run: () =>
      corrupted(oneFrame, (d) => {
        tableSet(d.frames, 0, null)
        tableSet(d.regions.frameObligations, 0, null)
      }),
  },
  {
    rule: 'INV-ACCT-3',
    title: 'rc != handles + mappings + segments',
    run: () => corrupted((m) => void alloc(m).clone(), (d) => setCells(d, 0, { refCount: 3 })),
  },
  {
    rule: 'INV-OBLIG-1',
    title: 'frame obligations disagree with the live handles',
    run: () => corrupted(oneFrame, (d) => tableSet(d.regions.frameObligations, 0, 2)),
  },
  // ---- ENS-META -------------------------------------------------------------------------
  {
    rule: 'ENS-META-GETUNUSED-1',
    title: 'a failing get_from_unused changes a slot owner',
    run: () =>
      withVariantBothModes(
        [variant(getFromUnused, (s, e) => {
          const o = getFromUnused.reduce(s, e)
          return o.result.ok ? o : { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 1, { usage: PageUsage.Reserved })) }
        })],
        (m) => m.dispatch({ type: 'meta_slot.get_from_unused', paddr: 0x1001, meta: UNIT_META, asUnique: false }),
      ),
  },
  {
    rule: 'ENS-META-GETUNUSED-6',
    title: 'get_from_unused on a UniqueFrame\'s slot reports InUse instead of Unique',
    run: () =>
      withVariantBothModes(
        [errSwapped(getFromUnused, 'Unique', 'InUse')],
        (m) => {
          m.dispatch({ type: 'unique_frame.from_unused', paddr: 0x3000, meta: UNIT_META })
          m.dispatch({ type: 'meta_slot.get_from_unused', paddr: 0x3000, meta: UNIT_META, asUnique: false })
        },
      ),
  },
  {
    rule: 'ENS-META-GETUNUSED-2',
    title: 'get_from_unused returns the wrong slot pointer',
    run: () =>
      withVariantBothModes(
        [variant(getFromUnused, (s, e) => {
          const o = getFromUnused.reduce(s, e)
          return o.result.ok ? { ...o, result: { ok: true as const, value: { metaAddr: o.result.value.metaAddr + 64 } } } : o
        })],
        (m) => m.frames.fromUnused(0x3000),
      ),
  },
  {
    rule: 'ENS-META-GETUNUSED-3',
    title: 'get_from_unused stores other metadata than it was given',
    run: () =>
      withVariantBothModes(
        [variant(getFromUnused, (s, e) => getFromUnused.reduce(s, { ...e, meta: { ...e.meta, value: 'wrong' } }))],
        (m) => m.frames.fromUnused(0x3000),
      ),
  },
  {
    rule: 'ENS-META-GETUNUSED-5',
    title: 'Frame::from_unused mints two obligations',
    expect: ['ENS-META-GETUNUSED-5', 'INV-OBLIG-1'],
    run: () =>
      withVariantBothModes(
        [variant(frameFromUnused, (s, e) => {
          const o = frameFromUnused.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void tableSet(d.regions.frameObligations, 3, 2)) }
        })],
        (m) => m.frames.fromUnused(0x3000),
      ),
  },
  {
    rule: 'ENS-META-GETINUSE-1',
    title: 'a failing get_from_in_use changes a slot owner',
    run: () =>
      withVariantBothModes(
        [variant(getFromInUse, (s, e) => {
          const o = getFromInUse.reduce(s, e)
          return o.result.ok ? o : { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 5, { usage: PageUsage.Reserved })) }
        })],
        (m) => m.dispatch({ type: 'meta_slot.get_from_in_use', paddr: 0x5000 }),
      ),
  },
  {
    rule: 'ENS-META-GETINUSE-2',
    title: 'get_from_in_use returns the wrong slot pointer',
    run: () =>
      withVariantBothModes(
        [variant(getFromInUse, (s, e) => {
          const o = getFromInUse.reduce(s, e)
          return o.result.ok ? { ...o, result: { ok: true as const, value: { metaAddr: 0 } } } : o
        })],
        (m) => {
          alloc(m)
          const f = alloc(m)
          m.frames.fromInUse(f.startPaddr())
        },
      ),
  },
  {
    rule: 'ENS-META-DROPLAST-1',
    title: 'drop_last_in_place resets the usage',
    run: () =>
      withVariantBothModes(
        [variant(dropLastInPlace, (s, e) => {
          const o = dropLastInPlace.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 5, { usage: PageUsage.Unused })) }
        })],
        (m) => m.dispatch({ type: 'meta_slot.drop_last_in_place', paddr: 0x5000 }),
        { initial: stateWith(nothing, (d) => makeUnique(d, 5)) },
      ),
  },
  // ---- ENS-FRAME ------------------------------------------------------------------------
  {
    rule: 'ENS-FRAME-FROMRAW-1',
    title: 'from_raw rewrites the metadata',
    run: () =>
      withVariantBothModes(
        [variant(frameFromRaw, (s, e) => {
          const o = frameFromRaw.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setCells(d, 0, { storage: { kind: 'Frame', meta: { ...UNIT_META, value: 1 } } })) }
        })],
        (m) => Frame.fromRaw(m, alloc(m).intoRaw()),
      ),
  },
  {
    rule: 'ENS-FRAME-FROMRAW-2',
    title: 'from_raw does not mint an obligation',
    expect: ['ENS-FRAME-FROMRAW-2', 'INV-OBLIG-1'],
    run: () =>
      withVariantBothModes(
        [variant(frameFromRaw, (s, e) => {
          const o = frameFromRaw.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void tableSet(d.regions.frameObligations, 0, null)) }
        })],
        (m) => Frame.fromRaw(m, alloc(m).intoRaw()),
      ),
  },
  {
    rule: 'ENS-FRAME-DROP-1',
    title: 'dropping a frame touches another slot',
    expect: ['ENS-EMB-FRAMEDROP-4', 'ENS-FRAME-DROP-1'],
    run: () =>
      withVariantBothModes(
        [variant(frameDrop, (s, e) => {
          const o = frameDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 9, { usage: PageUsage.Reserved })) }
        })],
        (m) => alloc(m).drop(),
      ),
  },
  {
    rule: 'ENS-FRAME-DROP-2',
    title: 'drop does not redeem the obligation',
    expect: ['ENS-FRAME-DROP-2', 'INV-OBLIG-1'],
    run: () =>
      withVariantBothModes(
        [variant(frameDrop, (s, e) => {
          const o = frameDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void tableSet(d.regions.frameObligations, 0, 2)) }
        })],
        (m) => {
          const f = alloc(m)
          f.clone()
          f.drop()
        },
      ),
  },
  {
    rule: 'ENS-FRAME-FORGET-1',
    title: 'into_raw does not count the forgotten reference',
    expect: ['ENS-FRAME-FORGET-1', 'INV-ACCT-2'],
    run: () =>
      withVariantBothModes(
        [variant(frameIntoRaw, (s, e) => {
          const o = frameIntoRaw.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 0, { rawCount: 0 })) }
        })],
        (m) => alloc(m).intoRaw(),
      ),
  },
  {
    rule: 'ENS-FRAME-CLONE-1',
    title: 'clone rewrites the metadata',
    run: () =>
      withVariantBothModes(
        [variant(frameClone, (s, e) => {
          const o = frameClone.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setCells(d, 0, { storage: { kind: 'Frame', meta: { ...UNIT_META, value: 2 } } })) }
        })],
        (m) => alloc(m).clone(),
      ),
  },
  // ---- ENS-EMB (FrameFromUnused / FrameFromInUse / FrameDrop) ------------------------------
  {
    rule: 'ENS-EMB-FRAMEFROMUNUSED-1',
    title: 'a failing from_unused on a misaligned address changes the store',
    expect: ['ENS-EMB-FRAMEFROMUNUSED-1', 'ENS-EMB-FRAMEFROMUNUSED-3'],
    run: () =>
      withVariantBothModes(
        [variant(frameFromUnused, (s, e) => {
          const o = frameFromUnused.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void freshId(d, 'frame')) }
        })],
        (m) => m.frames.fromUnused(0x1001),
      ),
  },
  {
    rule: 'ENS-EMB-FRAMEFROMUNUSED-2',
    title: 'from_unused registers the handle under another id than it returns',
    run: () =>
      withVariantBothModes(
        [variant(frameFromUnused, (s, e) => {
          const o = frameFromUnused.reduce(s, e)
          if (!o.result.ok) return o
          const id = o.result.value.frame
          return { ...o, snapshot: edit(o.snapshot, (d) => { tableSet(d.frames, id, null); tableSet(d.frames, id + 100, { paddr: e.paddr }) }) }
        })],
        (m) => m.frames.fromUnused(0x3000),
      ),
  },
  {
    rule: 'ENS-EMB-FRAMEFROMUNUSED-3',
    title: 'a from_unused that fails on a slot in use changes the store',
    run: () =>
      withVariantBothModes(
        [variant(frameFromUnused, (s, e) => {
          const o = frameFromUnused.reduce(s, e)
          return o.result.ok ? o : { ...o, snapshot: edit(o.snapshot, (d) => void freshId(d, 'frame')) }
        })],
        (m) => m.frames.fromUnused(alloc(m).startPaddr()),
      ),
  },
  {
    rule: 'ENS-EMB-FRAMEFROMUNUSED-4',
    title: 'from_unused fails on a free slot',
    run: () =>
      withVariantBothModes([variant(frameFromUnused, (s) => ({ snapshot: s, result: { ok: false as const, error: 'InUse' as const } }))], (m) => m.frames.fromUnused(0x3000)),
  },
  {
    rule: 'ENS-EMB-FRAMEFROMINUSE-1',
    title: 'a failing from_in_use on a misaligned address changes the store',
    run: () =>
      withVariantBothModes(
        [variant(frameFromInUse, (s, e) => {
          const o = frameFromInUse.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void freshId(d, 'frame')) }
        })],
        (m) => m.frames.fromInUse(0x1001),
      ),
  },
  {
    rule: 'ENS-EMB-FRAMEFROMINUSE-2',
    title: 'from_in_use registers the handle under another id than it returns',
    run: () =>
      withVariantBothModes(
        [variant(frameFromInUse, (s, e) => {
          const o = frameFromInUse.reduce(s, e)
          if (!o.result.ok) return o
          const id = o.result.value.frame
          return { ...o, snapshot: edit(o.snapshot, (d) => { tableSet(d.frames, id, null); tableSet(d.frames, id + 100, { paddr: e.paddr }) }) }
        })],
        (m) => m.frames.fromInUse(alloc(m).startPaddr()),
      ),
  },
  {
    rule: 'ENS-EMB-FRAMEFROMINUSE-3',
    title: 'from_in_use fails on a frame in use',
    expect: ['ENS-EMB-FRAMEFROMINUSE-3', 'ENS-FRAME-FROMINUSE-1'],
    run: () =>
      withVariantBothModes([variant(frameFromInUse, (s) => ({ snapshot: s, result: { ok: false as const, error: 'Unused' as const } }))], (m) => m.frames.fromInUse(alloc(m).startPaddr())),
  },
  {
    rule: 'ENS-FRAME-FROMINUSE-1',
    title: 'from_in_use on a free page reports InUse instead of Unused',
    run: () =>
      withVariantBothModes([variant(frameFromInUse, (s) => ({ snapshot: s, result: { ok: false as const, error: 'InUse' as const } }))], (m) => {
        alloc(m).drop()
        m.frames.fromInUse(0)
      }),
  },
  {
    rule: 'ENS-META-GETINUSE-3',
    title: 'get_from_in_use on an unaligned address reports OutOfBound (and so does Frame::from_in_use)',
    expect: ['ENS-FRAME-FROMINUSE-1', 'ENS-META-GETINUSE-3'],
    run: () =>
      withVariantBothModes([variant(getFromInUse, (s, e) => (e.paddr % PAGE_SIZE === 0 ? getFromInUse.reduce(s, e) : { snapshot: s, result: { ok: false as const, error: 'OutOfBound' as const } }))], (m) => {
        alloc(m)
        m.frames.fromInUse(8)
      }),
  },
  {
    rule: 'ENS-EMB-FRAMEDROP-1',
    title: 'drop leaves the handle registered',
    expect: ['ENS-EMB-FRAMEDROP-1', 'INV-ACCT-3', 'INV-OBLIG-1'],
    run: () =>
      withVariantBothModes(
        [variant(frameDrop, (s, e) => {
          const o = frameDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void tableSet(d.frames, e.frame, { paddr: 0 })) }
        })],
        (m) => {
          const f = alloc(m)
          f.clone()
          f.drop()
        },
      ),
  },
  {
    rule: 'ENS-EMB-FRAMEDROP-2',
    title: 'the last drop leaves the metadata initialised',
    expect: ['ENS-EMB-FRAMEDROP-2', 'INV-SLOT-1'],
    run: () =>
      withVariantBothModes(
        [variant(frameDrop, (s, e) => {
          const o = frameDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setCells(d, 0, { storage: { kind: 'Frame', meta: UNIT_META } })) }
        })],
        (m) => alloc(m).drop(),
      ),
  },
  {
    rule: 'ENS-EMB-FRAMEDROP-3',
    title: 'dropping one of several references rewrites the metadata',
    run: () =>
      withVariantBothModes(
        [variant(frameDrop, (s, e) => {
          const o = frameDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setCells(d, 0, { storage: { kind: 'Frame', meta: { ...UNIT_META, value: 3 } } })) }
        })],
        (m) => {
          const f = alloc(m)
          f.clone()
          f.drop()
        },
      ),
  },
  {
    rule: 'ENS-EMB-FRAMEDROP-4',
    title: 'drop changes the usage of the slot',
    expect: ['ENS-EMB-FRAMEDROP-4', 'ENS-FRAME-DROP-1', 'INV-STORE-13'],
    run: () =>
      withVariantBothModes(
        [variant(frameDrop, (s, e) => {
          const o = frameDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 0, { usage: PageUsage.Kernel })) }
        })],
        (m) => {
          const f = alloc(m)
          f.clone()
          f.drop()
        },
      ),
  },
  // ---- alloc_frame (model) -------------------------------------------------------------
  {
    rule: 'ENS-FRAMEALLOC-FRAME-1',
    title: 'alloc_frame reports NoMemory although frames are free',
    run: () => withVariantBothModes([variant(allocFrame, (s) => ({ snapshot: s, result: { ok: false as const, error: 'NoMemory' as const } }))], (m) => void m.frames.allocFrame()),
  },
  {
    rule: 'ENS-FRAMEALLOC-FRAME-1',
    title: 'alloc_frame hands out a never-used frame although one was just freed (not LIFO)',
    run: () =>
      withVariantBothModes(
        [variant(allocFrame, (s, e) => allocFrame.reduce(edit(s, (d) => void (d.allocator.freeStackLen = 0)), e))],
        (m) => {
          alloc(m)
          alloc(m).drop()
          alloc(m)
        },
      ),
  },
  {
    rule: 'ENS-FRAMEALLOC-FRAME-2',
    title: 'alloc_frame ignores zeroed (the frame keeps its old contents)',
    run: () =>
      withVariantBothModes([variant(allocFrame, (s, e) => allocFrame.reduce(s, { ...e, zeroed: false }))], oneFrame, {
        initial: stateWith(nothing, (d) => tableSet(d.memory, 0, new Uint8Array(PAGE_SIZE).fill(0xa5))),
      }),
  },
  {
    rule: 'ENS-FRAMEALLOC-FRAME-2',
    title: 'alloc_frame(zeroed: false) zero-fills the frame all the same',
    run: () =>
      withVariantBothModes(
        [variant(allocFrame, (s, e) => allocFrame.reduce(s, { ...e, zeroed: true }))],
        (m) => void unwrapResult(m.frames.allocFrame({ zeroed: false })),
        { initial: stateWith(nothing, (d) => tableSet(d.memory, 0, new Uint8Array(PAGE_SIZE).fill(0xa5))) },
      ),
  },
  // ---- REQ ------------------------------------------------------------------------------
  {
    rule: 'REQ-META-GETUNUSED-1',
    title: 'from_unused on a slot whose exec and ghost state drifted',
    run: () => rejected(nothing, () => ({ type: 'frame.from_unused', paddr: 0x3000, meta: UNIT_META }), { initial: driftAt3 }),
  },
  {
    rule: 'REQ-META-GETINUSE-1',
    title: 'from_in_use on a slot whose exec and ghost state drifted',
    run: () => rejected(nothing, () => ({ type: 'frame.from_in_use', paddr: 0x3000 }), { initial: driftAt3 }),
  },
  {
    rule: 'REQ-META-GETINUSE-2',
    title: 'from_in_use at REF_COUNT_MAX panics (overflow)',
    run: () =>
      rejected(nothing, () => ({ type: 'frame.from_in_use', paddr: 0 }), {
        initial: stateWith(oneFrame, (d) => setCells(d, 0, { refCount: REF_COUNT_MAX })),
      }),
  },
  {
    rule: 'REQ-META-DROPLAST-1',
    title: 'drop_last_in_place on a slot breaking its invariant',
    run: () =>
      rejected(nothing, () => ({ type: 'meta_slot.drop_last_in_place', paddr: 0x5000 }), {
        initial: stateWith(nothing, (d) => {
          makeUnique(d, 5)
          setCells(d, 5, { vtablePtr: null })
        }),
      }),
  },
  {
    rule: 'REQ-META-DROPLAST-2',
    title: 'drop_last_in_place on a shared frame (rc 1)',
    run: () => rejected(oneFrame, () => ({ type: 'meta_slot.drop_last_in_place', paddr: 0 })),
  },
  {
    rule: 'REQ-EMB-FRAMEDROP-1',
    title: 'dropping an unknown frame handle',
    run: () => rejected(nothing, () => ({ type: 'frame.drop', frame: 99 })),
  },
  {
    rule: 'REQ-FRAME-DROP-1',
    title: 'dropping a frame with no obligation left',
    run: () => rejected(nothing, () => ({ type: 'frame.drop', frame: 0 }), { initial: stateWith(oneFrame, (d) => void tableSet(d.regions.frameObligations, 0, null)) }),
  },
  {
    rule: 'REQ-FRAME-FORGET-1',
    title: 'forgetting a frame with no obligation left',
    run: () => rejected(nothing, () => ({ type: 'frame.into_raw', frame: 0 }), { initial: stateWith(oneFrame, (d) => void tableSet(d.regions.frameObligations, 0, null)) }),
  },
  {
    rule: 'REQ-FRAME-FROMRAW-1',
    title: 'from_raw of an address that was never forgotten',
    run: () => rejected(oneFrame, () => ({ type: 'frame.from_raw', paddr: 0 })),
  },
  {
    rule: 'REQ-HANDLE-1',
    title: 'cloning a handle that does not exist',
    run: () => rejected(nothing, () => ({ type: 'frame.clone', frame: 42 })),
  },
  {
    rule: 'REQ-FRAME-CLONE-1',
    title: 'clone at REF_COUNT_MAX panics (overflow)',
    run: () => rejected(nothing, () => ({ type: 'frame.clone', frame: 0 }), { initial: stateWith(oneFrame, (d) => setCells(d, 0, { refCount: REF_COUNT_MAX })) }),
  },
  {
    rule: 'REQ-UNWRAP-1',
    title: 'unwrap of an Err panics',
    run: () => panics(() => unwrapResult({ ok: false, error: 'NoMemory' })),
  },
  {
    rule: 'REQ-PTE-1',
    title: 'new_pt with a misaligned address',
    run: () => panics(() => newPt(0x1234)),
  },
  {
    rule: 'REQ-PTE-2',
    title: 'new_page without R',
    run: () => panics(() => newPage(0x1000, 1, { ...newUser(PageFlags.W), flags: PageFlags.W })),
  },
  {
    rule: 'REQ-PTE-3',
    title: 'set_prop with an unsupported cache policy',
    run: () => panics(() => setProp(newPt(0x1000), newUser(PageFlags.RW, 'WriteCombining'))),
  },
]

