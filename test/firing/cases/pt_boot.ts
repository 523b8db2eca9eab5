/**
 * Firing cases of the boot page table (reducers/page_table/boot_pt.ts): REQ-BOOTPT-*,
 * ENS-BOOTPT-* and INV-BOOTPT-1.
 */
import { PAGE_SIZE } from '../../../src/arch/constants.js'
import { newUser, PageFlags } from '../../../src/arch/page_prop.js'
import { newPage, ptePaddr, pteProp } from '../../../src/arch/pte.js'
import { MemoryWriter, readPte, writePte } from '../../../src/model/memory.js'
import { editSnapshot } from '../../../src/model/edit.js'
import { walkTrace } from '../../../src/model/pt_walk.js'
import { createModel, type Model } from '../../../src/api/model.js'
import type { BootPageTableState } from '../../../src/model/page_table.js'
import { variantOf, type EventSpec, type ModelEvent, type Outcome } from '../../../reducers/types.js'
import { bootPtDrop, bootPtMap, bootPtNew, bootPtPageWalk, bootPtProtect } from '../../../reducers/page_table/boot_pt.js'
import type { Snapshot } from '../../../src/model/snapshot.js'
import { corrupted, edit, rejected, rejectedOn, withVariantBothModes, type FiringCase } from '../harness.js'

const RW = newUser(PageFlags.RW)

/** A boot page table with the page at VA 0x1000 mapped to frame 7. */
function bootWithPage(m: Model): void {
  m.call({ type: 'boot_page_table.new' })
  m.call({ type: 'boot_page_table.map_base_page', va: 0x1000, frameNumber: 7, prop: RW })
}

function after<E extends ModelEvent, R>(spec: EventSpec<E, R>, f: (s: Snapshot, e: E, out: Outcome<R>) => Outcome<R>) {
  return variantOf(spec, (s, e) => f(s, e, spec.reduce(s, e)))
}

/** The firmware's mappings of the huge-leaf cases: a 2 MiB leaf at VA 0x20_0000 and a 1 GiB leaf at 1 GiB. */
const FIRMWARE = [
  { va: 0x20_0000, paddr: 0x40_0000, level: 2, prop: RW },
  { va: 0x4000_0000, paddr: 0x4000_0000, level: 3, prop: RW },
]

/** `withVariantBothModes` from a boot page table with one page. */
function onBoot(variants: readonly ReturnType<typeof variantOf>[], act: (m: Model) => void) {
  return withVariantBothModes(variants, act, {
    initial: (m) => {
      bootWithPage(m)
      return m.state
    },
  })
}

export const ptBootCases: FiringCase[] = [
  {
    rule: 'INV-BOOTPT-1',
    title: 'the boot page table records a table frame that is free',
    run: () =>
      corrupted(bootWithPage, (d) => {
        const b = d.pt.boot as BootPageTableState
        d.pt.boot = { rootPt: b.rootPt, frames: [...b.frames, 500] }
      }),
  },
  {
    rule: 'REQ-BOOTPT-NEW-1',
    title: 'a second boot page table',
    run: () => rejected((m) => void m.call({ type: 'boot_page_table.new' }), () => ({ type: 'boot_page_table.new' })),
  },
  {
    rule: 'REQ-BOOTPT-LIVE-1',
    title: 'mapping into a boot page table that was dropped',
    run: () => rejected((m) => void (m.call({ type: 'boot_page_table.new' }), m.call({ type: 'boot_page_table.drop' })), () => ({ type: 'boot_page_table.map_base_page', va: 0, frameNumber: 1, prop: RW })),
  },
  {
    rule: 'REQ-BOOTPT-MAP-1',
    title: 'mapping an already mapped page in the boot page table',
    run: () => rejected(bootWithPage, () => ({ type: 'boot_page_table.map_base_page', va: 0x1000, frameNumber: 8, prop: RW })),
  },
  {
    rule: 'REQ-BOOTPT-PROTECT-1',
    title: 'protecting an unmapped page in the boot page table',
    run: () => rejected(bootWithPage, () => ({ type: 'boot_page_table.protect_base_page', va: 0x2000, prop: RW })),
  },
  {
    rule: 'REQ-BOOTPT-ALLOC-1',
    title: 'mapping a page that needs three new tables with two free frames',
    run: () => {
      const m = createModel({ check: 'full', physicalMemory: 6 * PAGE_SIZE })
      bootWithPage(m)
      return rejectedOn(m, { type: 'boot_page_table.map_base_page', va: '0x8000000000', frameNumber: 1, prop: RW })
    },
  },
  {
    rule: 'ENS-BOOTPT-NEW-1',
    title: 'boot_page_table.new returns another address than its root',
    run: () =>
      withVariantBothModes([after(bootPtNew, (_s, _e, out) => ({ ...out, result: { rootPaddr: out.result.rootPaddr + PAGE_SIZE } }))], (m) => void m.dispatch({ type: 'boot_page_table.new' })),
  },
  {
    rule: 'ENS-BOOTPT-NEW-1',
    title: "boot_page_table.new leaves out the firmware's last mapping",
    run: () =>
      withVariantBothModes([variantOf(bootPtNew, (s, e) => bootPtNew.reduce(s, { ...e, firmware: (e.firmware ?? []).slice(0, -1) }))], (m) =>
        void m.dispatch({ type: 'boot_page_table.new', firmware: FIRMWARE }),
      ),
  },
  {
    rule: 'ENS-BOOTPT-NEW-1',
    title: 'boot_page_table.new allocates a table it leaves empty',
    run: () =>
      withVariantBothModes(
        [
          variantOf(bootPtNew, (s, e) => {
            // an extra 2 MiB leaf at 2 GiB, then its word erased: its level-2 table stays, empty and recorded
            const out = bootPtNew.reduce(s, { ...e, firmware: [...(e.firmware ?? []), { va: 0x8000_0000, paddr: 0, level: 2, prop: RW }] })
            const stop = walkTrace(out.snapshot, out.result.rootPaddr, 0x8000_0000).steps[2]!
            return { ...out, snapshot: editSnapshot(out.snapshot, (_d, t) => writePte(new MemoryWriter(t), stop.slot, stop.idx, 0n)) }
          }),
        ],
        (m) => void m.dispatch({ type: 'boot_page_table.new', firmware: FIRMWARE }),
      ),
  },
  {
    rule: 'REQ-BOOTPT-NEW-2',
    title: "firmware mappings that overlap (a 4 KiB leaf inside a 2 MiB one)",
    run: () => rejected(() => {}, () => ({ type: 'boot_page_table.new', firmware: [...FIRMWARE, { va: 0x20_1000, paddr: 0, level: 1, prop: RW }] })),
  },
  {
    rule: 'REQ-BOOTPT-MAP-1',
    title: 'mapping a base page under a huge firmware leaf',
    run: () => rejected((m) => void m.call({ type: 'boot_page_table.new', firmware: FIRMWARE }), () => ({ type: 'boot_page_table.map_base_page', va: 0x4123_4000, frameNumber: 8, prop: RW })),
  },
  {
    rule: 'ENS-BOOTPT-PROTECT-1',
    title: 'protect_base_page splits a 2 MiB leaf into level-1 words marked huge (bit 7, which a level-1 walk ignores)',
    run: () =>
      withVariantBothModes(
        [
          after(bootPtProtect, (s, _e, out) => {
            const made = out.snapshot.pt.boot!.frames.filter((f) => !s.pt.boot!.frames.includes(f))
            const snapshot = editSnapshot(out.snapshot, (_d, t) => {
              const w = new MemoryWriter(t)
              for (const f of made) {
                for (let i = 0; i < 512; i++) {
                  const word = readPte(out.snapshot, f, i)
                  if (i !== 0x34) writePte(w, f, i, newPage(ptePaddr(word), 2, pteProp(word)))
                }
              }
            })
            return { ...out, snapshot }
          }),
        ],
        (m) => {
          m.call({ type: 'boot_page_table.new', firmware: FIRMWARE })
          m.dispatch({ type: 'boot_page_table.protect_base_page', va: 0x23_4000, prop: newUser(PageFlags.R) })
        },
      ),
  },
  {
    rule: 'ENS-BOOTPT-MAP-1',
    title: 'map_base_page maps the next frame',
    run: () =>
      onBoot([variantOf(bootPtMap, (s, e) => bootPtMap.reduce(s, { ...e, frameNumber: e.frameNumber + 1 }))], (m) =>
        void m.dispatch({ type: 'boot_page_table.map_base_page', va: 0x2000, frameNumber: 9, prop: RW }),
      ),
  },
  {
    rule: 'ENS-BOOTPT-PROTECT-1',
    title: 'protect_base_page ignores op',
    run: () => onBoot([variantOf(bootPtProtect, (s) => ({ snapshot: s, result: null }))], (m) => void m.dispatch({ type: 'boot_page_table.protect_base_page', va: 0x1000, mask: { clear: PageFlags.W, set: 0 } })),
  },
  {
    rule: 'ENS-BOOTPT-PAGEWALK-1',
    title: 'page_walk misses a mapped page',
    run: () => onBoot([after(bootPtPageWalk, (_s, _e, out) => ({ ...out, result: null }))], (m) => void m.dispatch({ type: 'boot_page_table.page_walk', va: 0x1000 })),
  },
  {
    rule: 'ENS-BOOTPT-DROP-1',
    title: 'the boot page table is forgotten without freeing its tables',
    run: () => onBoot([variantOf(bootPtDrop, (s) => ({ snapshot: edit(s, (d) => void (d.pt.boot = null)), result: null }))], (m) => void m.dispatch({ type: 'boot_page_table.drop' })),
  },
]
