/**
 * Firing cases of the `UniqueFrame` layer: REQ-UNIQUE-*, REQ-EMB-UNIQUEDROP-1,
 * REQ-EMB-FROMUNIQUE-1, REQ-EMB-TRYFROMSHARED-1, REQ-LIST-FROMRAW-1, ENS-UNIQUE-*,
 * ENS-EMB-FROMUNIQUE-1, ENS-EMB-TRYFROMSHARED-1..2, INV-UNIQUE-1..3, and a clean case of
 * ENS-META-GETUNUSED-4 through `unique_frame.from_unused`.
 */
import type { Draft } from 'immer'
import { PageUsage } from '../../../src/arch/constants.js'
import { getFromUnused } from '../../../reducers/frame/meta.js'
import {
  uniqueDrop,
  uniqueFromRaw,
  uniqueFromUnused,
  uniqueIntoRaw,
  uniqueIntoShared,
  uniqueLevel,
  uniqueMeta,
  uniqueMetaMut,
  uniqueMetaWrite,
  uniqueRepurpose,
  uniqueSize,
  uniqueStartPaddr,
  uniqueTransmute,
  uniqueTryFromShared,
} from '../../../reducers/frame/unique.js'
import { freshId } from '../../../reducers/frame/edit.js'
import type { Model } from '../../../src/api/model.js'
import { unwrap } from '../../../src/api/result.js'
import { UniqueFrame } from '../../../src/api/unique_frame.js'
import { LinkedList } from '../../../src/api/linked_list.js'
import { FRESH_SLOT } from '../../../src/model/slots.js'
import { UNIT_META, type Snapshot, type UniqueFrameOwner } from '../../../src/model/snapshot.js'
import { tableGet, type Table } from '../../../src/model/table.js'
import { corrupted, edit, rejected, variant, withVariantBothModes, type FiringCase } from '../harness.js'
import { alloc, setExec, setOwner, stateWith, tableSet } from './util.js'

const nothing = (): void => {}
/** A live UniqueFrame (handle 0) on frame 5 (0x5000). */
const unique5 = (m: Model): UniqueFrame => unwrap(UniqueFrame.fromUnused(m, 0x5000))
const withUnique5 = (m: Model): void => void unique5(m)
/** Frame 5 forgotten by `UniqueFrame::into_raw` (raw_count 1, owner kept, no handle). */
const forgotten5 = (m: Model): void => void unique5(m).intoRaw()

function uniqueOwnerIn(d: Draft<Snapshot>, idx: number): UniqueFrameOwner {
  return tableGet(d.uniqueOwners as Table<UniqueFrameOwner>, idx)!
}

function patchUniqueOwner(d: Draft<Snapshot>, idx: number, patch: Partial<UniqueFrameOwner>): void {
  tableSet(d.uniqueOwners, idx, { ...uniqueOwnerIn(d, idx), ...patch })
}

const META_X = { type: 'X', untyped: false, value: 1 }

export const uniqueCases: FiringCase[] = [
  // ---- REQ: from_unused ------------------------------------------------------------------
  {
    rule: 'REQ-UNIQUE-FROMUNUSED-1',
    title: 'from_unused on a slot whose permission a UniqueFrame holds (not parked)',
    run: () => rejected(withUnique5, () => ({ type: 'unique_frame.from_unused', paddr: 0x5000, meta: UNIT_META })),
  },
  {
    rule: 'REQ-UNIQUE-FROMUNUSED-2',
    title: 'from_unused on a freed frame (usage stays Frame: the one-shot quirk)',
    run: () => rejected((m) => alloc(m).drop(), () => ({ type: 'unique_frame.from_unused', paddr: 0, meta: UNIT_META })),
  },
  {
    rule: 'REQ-UNIQUE-FROMUNUSED-3',
    title: 'from_unused on a never-used slot whose exec cells drifted from the ghost owner',
    run: () => rejected(nothing, () => ({ type: 'unique_frame.from_unused', paddr: 0x3000, meta: UNIT_META }), { initial: stateWith(nothing, (d) => setExec(d, 3, { vtablePtr: 0 })) }),
  },
  // ---- REQ: repurpose / meta / meta_mut / start_paddr / level ----------------------------
  {
    rule: 'REQ-UNIQUE-REPURPOSE-1',
    title: 'repurpose of a handle that does not exist',
    run: () => rejected(nothing, () => ({ type: 'unique_frame.repurpose', unique: 9, meta: META_X })),
  },
  {
    rule: 'REQ-UNIQUE-REPURPOSE-2',
    title: 'repurpose while the slot owner records rc 1',
    run: () =>
      rejected(nothing, () => ({ type: 'unique_frame.repurpose', unique: 0, meta: META_X }), {
        initial: stateWith(withUnique5, (d) => setOwner(d, 5, { innerPerms: { ...uniqueOwnerIn(d, 5).innerPerms, refCount: 1 } })),
      }),
  },
  {
    rule: 'REQ-UNIQUE-REPURPOSE-3',
    title: 'repurpose while the exec slot drifted from its owner (regions.inv() fails)',
    run: () =>
      rejected(nothing, () => ({ type: 'unique_frame.repurpose', unique: 0, meta: META_X }), {
        initial: stateWith(withUnique5, (d) => setExec(d, 5, { vtablePtr: 7 })),
      }),
  },
  {
    rule: 'REQ-UNIQUE-META-1',
    title: 'meta of a dropped UniqueFrame',
    run: () => rejected((m) => unique5(m).drop(), () => ({ type: 'unique_frame.meta', unique: 0 })),
  },
  {
    rule: 'REQ-UNIQUE-METAMUT-1',
    title: 'meta_mut of a UniqueFrame whose owner is gone',
    run: () =>
      rejected(nothing, () => ({ type: 'unique_frame.meta_mut', unique: 0 }), {
        initial: stateWith(withUnique5, (d) => {
          tableSet(d.uniqueOwners, 5, null)
          tableSet(d.regions.unparked, 5, null)
        }),
      }),
  },
  {
    rule: 'REQ-UNIQUE-STARTPADDR-1',
    title: "start_paddr when the owner's slot_index names another slot",
    run: () => rejected(nothing, () => ({ type: 'unique_frame.start_paddr', unique: 0 }), { initial: stateWith(withUnique5, (d) => patchUniqueOwner(d, 5, { slotIndex: 6 })) }),
  },
  {
    rule: 'REQ-HANDLE-1',
    title: 'level of a UniqueFrame forgotten by into_raw',
    run: () => rejected(forgotten5, () => ({ type: 'unique_frame.level', unique: 0 })),
  },
  // ---- REQ: into_raw ---------------------------------------------------------------------
  {
    rule: 'REQ-UNIQUE-INTORAW-2',
    title: 'into_raw while the exec slot drifted from its owner (regions.inv() fails)',
    run: () => rejected(nothing, () => ({ type: 'unique_frame.into_raw', unique: 0 }), { initial: stateWith(withUnique5, (d) => setExec(d, 5, { vtablePtr: 7 })) }),
  },
  {
    rule: 'REQ-UNIQUE-INTORAW-1',
    title: 'into_raw while the slot already counts a forgotten frame',
    run: () => rejected(nothing, () => ({ type: 'unique_frame.into_raw', unique: 0 }), { initial: stateWith(withUnique5, (d) => setOwner(d, 5, { rawCount: 1 })) }),
  },
  {
    rule: 'REQ-UNIQUE-INTORAW-3',
    title: 'into_raw of a frame whose slot is UNUSED (the owner still holds a permission)',
    run: () =>
      rejected(nothing, () => ({ type: 'unique_frame.into_raw', unique: 0 }), {
        initial: stateWith(withUnique5, (d) => {
          setExec(d, 5, FRESH_SLOT)
          setOwner(d, 5, { innerPerms: FRESH_SLOT })
        }),
      }),
  },
  // ---- REQ: from_raw ---------------------------------------------------------------------
  {
    rule: 'REQ-UNIQUE-FROMRAW-1',
    title: 'from_raw of a misaligned address',
    run: () => rejected(forgotten5, () => ({ type: 'unique_frame.from_raw', paddr: 0x5008 })),
  },
  {
    rule: 'REQ-UNIQUE-FROMRAW-2',
    title: 'from_raw of a live UniqueFrame (never forgotten: raw_count 0)',
    run: () => rejected(withUnique5, () => ({ type: 'unique_frame.from_raw', paddr: 0x5000 })),
  },
  {
    rule: 'REQ-UNIQUE-FROMRAW-3',
    title: 'from_raw of a shared frame forgotten by Frame::into_raw (its permission is parked)',
    run: () => rejected((m) => void alloc(m).intoRaw(), () => ({ type: 'unique_frame.from_raw', paddr: 0 })),
  },
  {
    rule: 'REQ-UNIQUE-FROMRAW-4',
    title: 'from_raw of a forgotten unique frame whose owner (meta_perm) is gone',
    run: () => rejected(nothing, () => ({ type: 'unique_frame.from_raw', paddr: 0x5000 }), { initial: stateWith(forgotten5, (d) => tableSet(d.uniqueOwners, 5, null)) }),
  },
  {
    rule: 'REQ-LIST-FROMRAW-1',
    title: 'from_raw of a frame linked into a LinkedList (the list owns it)',
    run: () =>
      rejected(
        (m) => LinkedList.new(m).pushBack(unique5(m)),
        () => ({ type: 'unique_frame.from_raw', paddr: 0x5000 }),
      ),
  },
  // ---- REQ: drop / conversions -----------------------------------------------------------
  {
    rule: 'REQ-EMB-UNIQUEDROP-1',
    title: 'dropping a UniqueFrame twice',
    run: () => rejected((m) => unique5(m).drop(), () => ({ type: 'unique_frame.drop', unique: 0 })),
  },
  {
    rule: 'REQ-UNIQUE-DROP-1',
    title: "drop when the owner's meta_perm points at another slot",
    run: () => rejected(nothing, () => ({ type: 'unique_frame.drop', unique: 0 }), { initial: stateWith(withUnique5, (d) => patchUniqueOwner(d, 5, { metaPermAddr: 6 * 64 })) }),
  },
  {
    rule: 'REQ-UNIQUE-DROP-2',
    title: 'drop while the slot counts a forgotten frame (raw_count 1)',
    run: () => rejected(nothing, () => ({ type: 'unique_frame.drop', unique: 0 }), { initial: stateWith(withUnique5, (d) => setOwner(d, 5, { rawCount: 1 })) }),
  },
  {
    rule: 'REQ-UNIQUE-DROP-3',
    title: 'drop while the slot permission is parked',
    run: () => rejected(nothing, () => ({ type: 'unique_frame.drop', unique: 0 }), { initial: stateWith(withUnique5, (d) => tableSet(d.regions.unparked, 5, null)) }),
  },
  {
    rule: 'REQ-UNIQUE-DROP-4',
    title: "drop while the owner's permission records the frame in a list",
    run: () =>
      rejected(nothing, () => ({ type: 'unique_frame.drop', unique: 0 }), {
        initial: stateWith(withUnique5, (d) => patchUniqueOwner(d, 5, { innerPerms: { ...uniqueOwnerIn(d, 5).innerPerms, inList: 3 } })),
      }),
  },
  {
    rule: 'REQ-EMB-FROMUNIQUE-1',
    title: 'into_shared of a UniqueFrame that was already made shared',
    run: () => rejected((m) => void unique5(m).intoShared(), () => ({ type: 'unique_frame.into_shared', unique: 0 })),
  },
  {
    rule: 'REQ-EMB-TRYFROMSHARED-1',
    title: 'try_from_shared of a dropped Frame',
    run: () => rejected((m) => alloc(m).drop(), () => ({ type: 'unique_frame.try_from_shared', frame: 0 })),
  },
  // ---- ENS: from_unused ------------------------------------------------------------------
  {
    rule: 'ENS-UNIQUE-FROMUNUSED-1',
    title: 'from_unused of a misaligned address succeeds (on the page it falls in)',
    expect: ['ENS-EMB-UNIQUEFROMUNUSED-1', 'ENS-EMB-UNIQUEFROMUNUSED-2', 'ENS-UNIQUE-FROMUNUSED-1'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueFromUnused, (s, e) => {
          const o = uniqueFromUnused.reduce(s, { ...e, paddr: e.paddr - (e.paddr % 0x1000) })
          return o.result.ok ? { ...o, result: { ok: true as const, value: { ...o.result.value, paddr: e.paddr } } } : o
        })],
        (m) => UniqueFrame.fromUnused(m, 0x5010),
      ),
  },
  {
    rule: 'ENS-UNIQUE-FROMUNUSED-2',
    title: 'from_unused registers the handle under another id than it returns',
    expect: ['ENS-EMB-UNIQUEFROMUNUSED-2', 'ENS-UNIQUE-FROMUNUSED-2'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueFromUnused, (s, e) => {
          const o = uniqueFromUnused.reduce(s, e)
          if (!o.result.ok) return o
          const id = o.result.value.unique
          return { ...o, snapshot: edit(o.snapshot, (d) => { tableSet(d.uniqueFrames, id, null); tableSet(d.uniqueFrames, id + 100, { paddr: e.paddr }) }) }
        })],
        withUnique5,
      ),
  },
  {
    rule: 'ENS-UNIQUE-FROMUNUSED-3',
    title: 'from_unused counts a forgotten frame (raw_count 1)',
    // the handle's frame counted as forgotten too: INV-UNIQUE-4 sees the state it leaves
    expect: ['ENS-UNIQUE-FROMUNUSED-3', 'INV-UNIQUE-4'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueFromUnused, (s, e) => {
          const o = uniqueFromUnused.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 5, { rawCount: 1 })) }
        })],
        withUnique5,
      ),
  },
  {
    rule: 'ENS-UNIQUE-FROMUNUSED-4',
    title: 'a failing from_unused (misaligned) takes a handle id',
    expect: ['ENS-EMB-UNIQUEFROMUNUSED-1', 'ENS-UNIQUE-FROMUNUSED-4'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueFromUnused, (s, e) => {
          const o = uniqueFromUnused.reduce(s, e)
          return o.result.ok ? o : { ...o, snapshot: edit(o.snapshot, (d) => void freshId(d, 'unique')) }
        })],
        (m) => UniqueFrame.fromUnused(m, 0x5010),
      ),
  },
  {
    rule: 'ENS-META-GETUNUSED-4',
    title: 'get_from_unused un-parks the slot itself (inside UniqueFrame::from_unused, which extracts it afterwards)',
    run: () =>
      withVariantBothModes(
        [variant(getFromUnused, (s, e) => {
          const o = getFromUnused.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void tableSet(d.regions.unparked, 5, true)) }
        })],
        withUnique5,
      ),
  },
  // ---- ENS: transmute / repurpose --------------------------------------------------------
  {
    rule: 'ENS-UNIQUE-TRANSMUTE-1',
    title: 'transmute returns another handle',
    run: () => withVariantBothModes([variant(uniqueTransmute, (s, e) => ({ snapshot: s, result: { unique: e.unique + 1 } }))], (m) => void unique5(m).transmute()),
  },
  {
    rule: 'ENS-UNIQUE-REPURPOSE-1',
    title: 'repurpose returns another handle',
    run: () =>
      withVariantBothModes(
        [variant(uniqueRepurpose, (s, e) => ({ ...uniqueRepurpose.reduce(s, e), result: { unique: e.unique + 1 } }))],
        (m) => void unique5(m).repurpose(META_X),
      ),
  },
  {
    rule: 'ENS-UNIQUE-REPURPOSE-2',
    title: "repurpose leaves the old metadata in the owner's permission",
    expect: ['ENS-UNIQUE-REPURPOSE-2', 'INV-UNIQUE-2'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueRepurpose, (s, e) => {
          const o = uniqueRepurpose.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void tableSet(d.uniqueOwners, 5, tableGet(s.uniqueOwners, 5))) }
        })],
        (m) => void unique5(m).repurpose(META_X),
      ),
  },
  {
    rule: 'ENS-UNIQUE-REPURPOSE-3',
    title: 'repurpose leaves the exec slot drifted from its owner (regions.inv() fails at the slot)',
    expect: ['ENS-UNIQUE-REPURPOSE-3', 'INV-SLOT-9'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueRepurpose, (s, e) => {
          const o = uniqueRepurpose.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setExec(d, 5, { vtablePtr: 7 })) }
        })],
        (m) => void unique5(m).repurpose(META_X),
      ),
  },
  {
    rule: 'ENS-UNIQUE-REPURPOSE-4',
    title: 'repurpose counts a forgotten frame (raw_count 1)',
    // the handle's frame counted as forgotten too: INV-UNIQUE-4 sees the state it leaves
    expect: ['ENS-UNIQUE-REPURPOSE-4', 'INV-UNIQUE-4'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueRepurpose, (s, e) => {
          const o = uniqueRepurpose.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 5, { rawCount: 1 })) }
        })],
        (m) => void unique5(m).repurpose(META_X),
      ),
  },
  // ---- ENS: meta / meta_mut / write / start_paddr / level / size ---------------------------
  {
    rule: 'ENS-UNIQUE-META-1',
    title: 'meta returns other metadata than the owner holds',
    run: () => withVariantBothModes([variant(uniqueMeta, (s) => ({ snapshot: s, result: META_X }))], (m) => void unique5(m).meta()),
  },
  {
    rule: 'ENS-UNIQUE-METAMUT-1',
    title: 'meta_mut points at the next slot',
    run: () =>
      withVariantBothModes(
        [variant(uniqueMetaMut, (s, e) => {
          const o = uniqueMetaMut.reduce(s, e)
          return { ...o, result: { metaAddr: o.result.metaAddr + 64 } }
        })],
        (m) => void unique5(m).metaMut(),
      ),
  },
  {
    rule: 'ENS-UNIQUE-METAWRITE-1',
    title: 'a write through meta_mut stores another value',
    run: () =>
      withVariantBothModes(
        [variant(uniqueMetaWrite, (s, e) => uniqueMetaWrite.reduce(s, { ...e, value: 'other' }))],
        (m) => unique5(m).metaMut().write(7),
      ),
  },
  {
    rule: 'ENS-UNIQUE-STARTPADDR-1',
    title: 'start_paddr returns the next frame',
    run: () => withVariantBothModes([variant(uniqueStartPaddr, (s, e) => ({ snapshot: s, result: uniqueStartPaddr.reduce(s, e).result + 0x1000 }))], (m) => void unique5(m).startPaddr()),
  },
  {
    rule: 'ENS-UNIQUE-LEVEL-1',
    title: 'level returns 2',
    run: () => withVariantBothModes([variant(uniqueLevel, (s) => ({ snapshot: s, result: 2 }))], (m) => void unique5(m).level()),
  },
  {
    rule: 'ENS-UNIQUE-SIZE-1',
    title: 'size returns two pages',
    run: () => withVariantBothModes([variant(uniqueSize, (s) => ({ snapshot: s, result: 0x2000 }))], (m) => void unique5(m).size()),
  },
  // ---- ENS: into_raw / from_raw ----------------------------------------------------------
  {
    rule: 'ENS-UNIQUE-INTORAW-1',
    title: 'into_raw returns the next frame',
    run: () => withVariantBothModes([variant(uniqueIntoRaw, (s, e) => {
      const o = uniqueIntoRaw.reduce(s, e)
      return { ...o, result: o.result + 0x1000 }
    })], forgotten5),
  },
  {
    rule: 'ENS-UNIQUE-INTORAW-2',
    title: 'into_raw re-parks the slot although the owner keeps its permission',
    expect: ['ENS-UNIQUE-INTORAW-2', 'INV-UNIQUE-2'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueIntoRaw, (s, e) => {
          const o = uniqueIntoRaw.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => void tableSet(d.regions.unparked, 5, null)) }
        })],
        forgotten5,
      ),
  },
  {
    rule: 'ENS-UNIQUE-INTORAW-3',
    title: 'into_raw does not count the forgotten frame',
    run: () =>
      withVariantBothModes(
        [variant(uniqueIntoRaw, (s, e) => {
          const o = uniqueIntoRaw.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 5, { rawCount: 0 })) }
        })],
        forgotten5,
      ),
  },
  {
    rule: 'ENS-UNIQUE-INTORAW-4',
    title: 'into_raw touches another slot owner',
    run: () =>
      withVariantBothModes(
        [variant(uniqueIntoRaw, (s, e) => {
          const o = uniqueIntoRaw.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 9, { usage: PageUsage.Reserved })) }
        })],
        forgotten5,
      ),
  },
  {
    rule: 'ENS-UNIQUE-FROMRAW-1',
    title: 'from_raw registers the handle under another id than it returns',
    run: () =>
      withVariantBothModes(
        [variant(uniqueFromRaw, (s, e) => {
          const o = uniqueFromRaw.reduce(s, e)
          const id = o.result.unique
          return { ...o, snapshot: edit(o.snapshot, (d) => { tableSet(d.uniqueFrames, id, null); tableSet(d.uniqueFrames, id + 100, { paddr: e.paddr }) }) }
        })],
        (m) => void UniqueFrame.fromRaw(m, unique5(m).intoRaw()),
      ),
  },
  {
    rule: 'ENS-UNIQUE-FROMRAW-2',
    title: "from_raw changes the owner's permission",
    expect: ['ENS-UNIQUE-FROMRAW-2', 'INV-UNIQUE-2'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueFromRaw, (s, e) => {
          const o = uniqueFromRaw.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => patchUniqueOwner(d, 5, { innerPerms: { ...uniqueOwnerIn(d, 5).innerPerms, vtablePtr: 9 } })) }
        })],
        (m) => void UniqueFrame.fromRaw(m, unique5(m).intoRaw()),
      ),
  },
  {
    rule: 'ENS-UNIQUE-FROMRAW-3',
    title: 'from_raw does not decrement raw_count',
    // the handle's frame counted as forgotten too: INV-UNIQUE-4 sees the state it leaves
    expect: ['ENS-UNIQUE-FROMRAW-3', 'INV-UNIQUE-4'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueFromRaw, (s, e) => {
          const o = uniqueFromRaw.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 5, { rawCount: 1 })) }
        })],
        (m) => void UniqueFrame.fromRaw(m, unique5(m).intoRaw()),
      ),
  },
  // ---- ENS: drop / conversions -----------------------------------------------------------
  {
    rule: 'ENS-UNIQUE-DROP-1',
    title: 'drop leaves raw_count 1 on the freed slot',
    expect: ['ENS-UNIQUE-DROP-1', 'INV-ACCT-3', 'INV-SLOT-1'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueDrop, (s, e) => {
          const o = uniqueDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 5, { rawCount: 1 })) }
        })],
        (m) => unique5(m).drop(),
      ),
  },
  {
    rule: 'ENS-UNIQUE-DROP-2',
    title: 'drop resets usage to Unused (the seed keeps Frame)',
    expect: ['ENS-EMB-UNIQUEDROP-1', 'ENS-UNIQUE-DROP-2'],
    run: () =>
      withVariantBothModes(
        [variant(uniqueDrop, (s, e) => {
          const o = uniqueDrop.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 5, { usage: PageUsage.Unused })) }
        })],
        (m) => unique5(m).drop(),
      ),
  },
  {
    rule: 'ENS-EMB-FROMUNIQUE-1',
    title: 'into_shared touches another slot',
    run: () =>
      withVariantBothModes(
        [variant(uniqueIntoShared, (s, e) => {
          const o = uniqueIntoShared.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 9, { usage: PageUsage.Reserved })) }
        })],
        (m) => void unique5(m).intoShared(),
      ),
  },
  {
    rule: 'ENS-EMB-TRYFROMSHARED-1',
    title: 'try_from_shared touches another slot',
    run: () =>
      withVariantBothModes(
        [variant(uniqueTryFromShared, (s, e) => {
          const o = uniqueTryFromShared.reduce(s, e)
          return { ...o, snapshot: edit(o.snapshot, (d) => setOwner(d, 9, { usage: PageUsage.Reserved })) }
        })],
        (m) => void UniqueFrame.tryFromShared(alloc(m)),
      ),
  },
  {
    rule: 'ENS-EMB-TRYFROMSHARED-2',
    title: 'a failing try_from_shared (rc 2) takes a handle id',
    run: () =>
      withVariantBothModes(
        [variant(uniqueTryFromShared, (s, e) => {
          const o = uniqueTryFromShared.reduce(s, e)
          return o.result.ok ? o : { ...o, snapshot: edit(o.snapshot, (d) => void freshId(d, 'unique')) }
        })],
        (m) => {
          const f = alloc(m)
          f.clone()
          UniqueFrame.tryFromShared(f)
        },
      ),
  },
  // ---- INV-UNIQUE ------------------------------------------------------------------------
  {
    rule: 'INV-UNIQUE-1',
    title: 'the owner held for slot 5 names slot 6',
    run: () => corrupted(withUnique5, (d) => patchUniqueOwner(d, 5, { slotIndex: 6 })),
  },
  {
    rule: 'INV-UNIQUE-2',
    title: "the owner's permission and the slot owner disagree on the metadata",
    run: () => corrupted(withUnique5, (d) => patchUniqueOwner(d, 5, { innerPerms: { ...uniqueOwnerIn(d, 5).innerPerms, storage: { kind: 'Frame', meta: META_X } } })),
  },
  {
    rule: 'INV-UNIQUE-3',
    title: 'a live UniqueFrame whose owner is gone (its permission parked again)',
    run: () =>
      corrupted(withUnique5, (d) => {
        tableSet(d.uniqueOwners, 5, null)
        tableSet(d.regions.unparked, 5, null)
      }),
  },
  {
    rule: 'INV-UNIQUE-4',
    title: 'a live UniqueFrame whose frame is also counted as forgotten (raw_count 1)',
    run: () => corrupted(withUnique5, (d) => setOwner(d, 5, { rawCount: 1 })),
  },
]
