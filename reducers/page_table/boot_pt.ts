/**
 * `BootPageTable` (ostd::mm::page_table::boot_pt): the page table the kernel edits during boot,
 * before the metadata-tracked page tables exist. Its tables are plain frames
 * (`FrameAllocOptions::new().zeroed(false).alloc_frame().unwrap().into_raw()`, then zeroed by
 * hand), recorded in `frames`; it has no owner tree, no locks and no `nr_children`, and its PTEs
 * are written through raw pointers. State: `Snapshot.pt.boot` (src/model/page_table.ts).
 *
 * Events:
 *   boot_page_table.new                the boot page table (`from_current_pt`, with the firmware's mappings: see the deviation)
 *   boot_page_table.map_base_page      `map_base_page(from, to, prop)`
 *   boot_page_table.protect_base_page  `protect_base_page(va, op)`, `op`'s result as data
 *   boot_page_table.page_walk          `page_walk(root_address(), va)` (a query)
 *   boot_page_table.drop               `Drop for BootPageTable` (when it is dismissed)
 *
 * Deviation: OSTD's `from_current_pt()` adopts the firmware's page table
 * (`current_page_table_paddr()`) and marks its PTEs `PTE_POINTS_TO_FIRMWARE_PT` so that the drop
 * spares them. The model has no firmware memory: `boot_page_table.new` takes the firmware's
 * mappings as data (`firmware`: leaves of 4 KiB, 2 MiB or 1 GiB, none by default) and builds
 * their tables the way the boot page table allocates every other table (`alloc_child`), root
 * first, so they are recorded in `frames` and freed by the drop with the rest. What the firmware
 * tables give OSTD's callers — the huge leaves that `map_base_page` refuses to map under and
 * `protect_base_page` splits — is the same.
 *
 * Model rules: REQ-BOOTPT-NEW-1, REQ-BOOTPT-NEW-2, REQ-BOOTPT-LIVE-1, REQ-BOOTPT-MAP-1 (panic), REQ-BOOTPT-PROTECT-1
 * (panic), REQ-BOOTPT-ALLOC-1 (panic); ENS-BOOTPT-NEW-1, -MAP-1, -PROTECT-1, -PAGEWALK-1, -DROP-1;
 * INV-BOOTPT-1 (src/check/rules/page_table/boot_pt.ts). The PTE codec's own panics (REQ-PTE-1..3:
 * a target beyond `MAX_PADDR`, a property without `R`) are raised before any change.
 */
import { z } from 'zod'
import { frameToIndex, indexToFrame, NR_ENTRIES, NR_LEVELS, PAGE_SIZE, pageSize } from '../../src/arch/constants.js'
import { OstdPanic } from '../../src/arch/errors.js'
import { isLast, isPresent, newPage, newPt, ptePaddr, pteProp, type Pte } from '../../src/arch/pte.js'
import { editSnapshot } from '../../src/model/edit.js'
import { MemoryWriter, readPte, writePte } from '../../src/model/memory.js'
import type { BootPageTableState } from '../../src/model/page_table.js'
import { pageWalk, vaBig, vaPageOffset, vaPteIndex, type Va, type WalkResult } from '../../src/model/pt_walk.js'
import { UNIT_META, type Snapshot } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import type { AnyEventSpec } from '../index.js'
import { defineEvent, StepRecorder, type ModelEvent, type Requirement } from '../types.js'
import { isAllocatable } from '../frame/allocator.js'
import { allocFrame, frameDrop, frameFromRaw, frameIntoRaw } from '../frame/frame.js'
import { hex } from '../frame/meta.js'
import { PagePropertySchema } from './child.js'
import { ProtectMaskSchema, protectOp } from './entry.js'
import { VaddrSchema, vaOf } from './page_table.js'

// ---- reading the boot page table ---------------------------------------------------------------

/** The boot page table, or null before it is made / after it is dropped. */
export function bootPageTable(s: Snapshot): BootPageTableState | null {
  return s.pt.boot
}

/** Physical address of the boot page table's root (`root_address()`). */
export function bootRootPaddr(boot: BootPageTableState): number {
  return indexToFrame(boot.rootPt)
}

/** Where `map_base_page` / `protect_base_page` stop walking `va`, and what they find there. */
export interface BootWalkStop {
  /** `absent`: an absent PTE; `huge`: a last PTE above level 1; `leaf`: the level-1 PTE (absent or not). */
  readonly kind: 'absent' | 'huge' | 'leaf'
  readonly level: number
  readonly slot: number
  readonly idx: number
  readonly pte: Pte
}

/** Walks the existing tables for `va` down to the first absent or last PTE (the level-1 PTE at the latest). */
export function bootWalk(s: Snapshot, boot: BootPageTableState, va: Va): BootWalkStop {
  let slot = boot.rootPt
  for (let level = NR_LEVELS; level > 1; level--) {
    const idx = vaPteIndex(va, level)
    const pte = readPte(s, slot, idx)
    if (!isPresent(pte)) return { kind: 'absent', level, slot, idx, pte }
    if (isLast(pte, level)) return { kind: 'huge', level, slot, idx, pte }
    slot = frameToIndex(ptePaddr(pte))
  }
  const idx = vaPteIndex(va, 1)
  return { kind: 'leaf', level: 1, slot, idx, pte: readPte(s, slot, idx) }
}

/** Whether the allocator can hand out `n` more frames (LIFO stack first, then never-used frames). */
export function canAllocate(s: Snapshot, n: number): boolean {
  if (n <= 0) return true
  const seen = new Set<number>()
  for (let len = s.allocator.freeStackLen; len > 0 && seen.size < n; len--) {
    const idx = tableGet(s.allocator.freeStack, len - 1)
    if (idx !== null && isAllocatable(s, idx)) seen.add(idx)
  }
  for (let idx = s.allocator.bumpIndex; idx < s.nrFrames && seen.size < n; idx++) if (isAllocatable(s, idx)) seen.add(idx)
  return seen.size >= n
}

/** Tables `map_base_page(va)` allocates: one per absent PTE from the first absent level down to level 2. */
export function mapAllocations(s: Snapshot, boot: BootPageTableState, va: Va): number {
  const stop = bootWalk(s, boot, va)
  return stop.kind === 'absent' ? stop.level - 1 : 0
}

/** Tables `protect_base_page(va)` allocates: a huge leaf at level `L` is split down to level 1 (`L - 1` tables). */
export function protectAllocations(s: Snapshot, boot: BootPageTableState, va: Va): number {
  const stop = bootWalk(s, boot, va)
  return stop.kind === 'huge' ? stop.level - 1 : 0
}

// ---- steps shared by the events ----------------------------------------------------------------

/**
 * `alloc_child()`: `FrameAllocOptions::new().zeroed(false).alloc_frame().unwrap()` and `into_raw`
 * (internal steps `frame_alloc.alloc_frame`, `frame.into_raw`), then the page is zeroed and its
 * frame number recorded in `frames` (bookkeeping). `.unwrap()` on `Err(NoMemory)` panics
 * (REQ-BOOTPT-ALLOC-1, normally raised by the event's precondition before anything changes).
 */
function allocChild(rec: StepRecorder): number {
  const made = rec.run(allocFrame, { type: 'frame_alloc.alloc_frame', zeroed: false, meta: UNIT_META })
  if (!made.ok) throw new OstdPanic('REQ-BOOTPT-ALLOC-1', 'called `Result::unwrap()` on an `Err` value: NoMemory (boot page table alloc_child)')
  const paddr = rec.run(frameIntoRaw, { type: 'frame.into_raw', frame: made.value.frame })
  const frame = frameToIndex(paddr)
  const cur = rec.snapshot
  rec.set(
    editSnapshot(cur, (d, t) => {
      t.memory.set(frame, null)
      const boot = cur.pt.boot
      d.pt.boot = boot === null ? { rootPt: frame, frames: [frame] } : { rootPt: boot.rootPt, frames: [...boot.frames, frame] }
    }),
  )
  return frame
}

/** A raw PTE store `pte_ptr.write(pte)` into table `slot` (bookkeeping: no guard, no owner). */
function storePte(rec: StepRecorder, slot: number, idx: number, pte: Pte): void {
  rec.set(editSnapshot(rec.snapshot, (_d, t) => writePte(new MemoryWriter(t), slot, idx, pte)))
}

/**
 * The table at `level` on the walk of `va` from the table `root`: each absent PTE above it gets a
 * zeroed table (`alloc_child`, then `pte_ptr.write(new_pt(child))`). The walk meets no leaf: the
 * callers' preconditions refuse one (REQ-BOOTPT-MAP-1, REQ-BOOTPT-NEW-2).
 */
function tableAt(rec: StepRecorder, root: number, va: Va, level: number): number {
  let slot = root
  for (let l = NR_LEVELS; l > level; l--) {
    const idx = vaPteIndex(va, l)
    const pte = readPte(rec.snapshot, slot, idx)
    if (!isPresent(pte)) {
      const child = allocChild(rec)
      storePte(rec, slot, idx, newPt(indexToFrame(child)))
      slot = child
    } else {
      slot = frameToIndex(ptePaddr(pte))
    }
  }
  return slot
}

type BootEvent = ModelEvent

const bootLive: Requirement<BootEvent> = {
  rule: 'REQ-BOOTPT-LIVE-1',
  kind: 'requires',
  summary: '[model] The boot page table is used only while it exists: after it is made (`boot_page_table.new`) and before it is dropped.',
  check: (s) => (s.pt.boot === null ? 'there is no boot page table (not made yet, or dropped)' : null),
}

/** REQ-BOOTPT-ALLOC-1 for a call that needs `count` new tables (`boot`: the boot page table, null for `new`). */
function allocRequirement<E extends BootEvent>(count: (s: Snapshot, boot: BootPageTableState | null, e: E) => number): Requirement<E> {
  return {
    rule: 'REQ-BOOTPT-ALLOC-1',
    kind: 'panic',
    summary:
      '[model] The boot page table allocates its tables with `FrameAllocOptions::new().zeroed(false).alloc_frame().unwrap()`: it panics when the allocator cannot supply every table the call needs.',
    check: (s, e) => {
      const n = count(s, s.pt.boot, e)
      return canAllocate(s, n) ? null : `out of memory: the call needs ${n} new table frame(s) ("called \`Result::unwrap()\` on an \`Err\` value: NoMemory")`
    },
  }
}

// ---- boot_page_table.new -----------------------------------------------------------------------

/** One leaf of the firmware's page table: the page of `level` at `va` maps `paddr` with `prop`. */
export const FirmwareMappingSchema = z.object({
  va: VaddrSchema,
  paddr: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  level: z.number().int().min(1).max(NR_LEVELS - 1),
  prop: PagePropertySchema,
})
export type FirmwareMapping = z.infer<typeof FirmwareMappingSchema>

export const BootPtNewEvent = z.object({
  type: z.literal('boot_page_table.new'),
  /** The firmware's mappings `from_current_pt` adopts (the module's deviation); none by default. */
  firmware: z.array(FirmwareMappingSchema).max(NR_ENTRIES).optional(),
})
export type BootPtNewEvent = z.infer<typeof BootPtNewEvent>

/** The bits of a virtual address a 4-level walk reads (`pte_index` of levels 4..1 and the offset). */
const WALKED_VA_BITS = (1n << 48n) - 1n

/** The first reason the firmware mappings are not leaves one page table can hold, or null. */
export function firmwareFailure(firmware: readonly FirmwareMapping[]): string | null {
  const ranges: Array<readonly [bigint, bigint, number]> = []
  for (const [i, m] of firmware.entries()) {
    const size = pageSize(m.level)
    const va = vaOf(m.va)
    if (vaPageOffset(va, m.level) !== 0) return `firmware[${i}]: va ${String(m.va)} is not aligned to its ${size}-byte page (level ${m.level})`
    if (m.paddr % size !== 0) return `firmware[${i}]: paddr ${hex(m.paddr)} is not aligned to its ${size}-byte page (level ${m.level})`
    const start = vaBig(va) & WALKED_VA_BITS
    const end = start + BigInt(size)
    for (const [s0, e0, j] of ranges) if (start < e0 && s0 < end) return `firmware[${i}] overlaps firmware[${j}]: one PTE cannot map both`
    ranges.push([start, end, i])
  }
  return null
}

/** Tables `new` allocates: the root, and one per distinct (level, VA prefix) the firmware's leaves sit under. */
export function firmwareTables(firmware: readonly FirmwareMapping[]): number {
  const tables = new Set<string>()
  for (const m of firmware) {
    const va = vaBig(vaOf(m.va)) & WALKED_VA_BITS
    // the table at level L (L < NR_LEVELS) covering va: named by the bits above its own span
    for (let level = NR_LEVELS - 1; level >= m.level; level--) tables.add(`${level}:${va >> BigInt(12 + 9 * level)}`)
  }
  return 1 + tables.size
}

/**
 * The boot page table (OSTD: `BootPageTable::from_current_pt()`, stored once in
 * `BOOT_PAGE_TABLE`): a root table from `alloc_child`, and the firmware's leaves (`firmware`, see
 * the module's deviation), each written as `new_page(paddr, level, prop)` after the tables down to
 * its level are allocated (`alloc_child`, `new_pt(child)`) as `map_base_page` does. `frames` lists
 * the root, then the tables in the order they were made.
 *
 * Requires REQ-BOOTPT-NEW-1, REQ-BOOTPT-NEW-2, REQ-BOOTPT-ALLOC-1 (and the codec's REQ-PTE-1..3 on
 * the leaves). Owes ENS-BOOTPT-NEW-1.
 */
export const bootPtNew = defineEvent<BootPtNewEvent, { rootPaddr: number }>({
  type: 'boot_page_table.new',
  doc: "The boot page table: a root table and the firmware's mappings, if any (tables allocated like its other tables).",
  schema: BootPtNewEvent,
  requires: [
    {
      rule: 'REQ-BOOTPT-NEW-1',
      kind: 'requires',
      summary: '[model] There is one boot page table (`BOOT_PAGE_TABLE`, set once during boot): it is made only when none exists.',
      check: (s) => (s.pt.boot === null ? null : `the boot page table already exists (root ${hex(bootRootPaddr(s.pt.boot))})`),
    },
    {
      rule: 'REQ-BOOTPT-NEW-2',
      kind: 'requires',
      summary:
        "[model] The firmware's mappings are leaves one page table can hold: each `va` and `paddr` aligned to the page size of its level (1..3), and no two covering the same virtual address (in the 48 bits the walk reads).",
      check: (_s, e) => firmwareFailure(e.firmware ?? []),
    },
    allocRequirement<BootPtNewEvent>((_s, _boot, e) => firmwareTables(e.firmware ?? [])),
  ],
  reduce(s, e) {
    const firmware = e.firmware ?? []
    // The leaf words first: the codec panics (REQ-PTE-*) before anything changes.
    const leaves = firmware.map((m) => newPage(m.paddr, m.level, m.prop))
    const rec = new StepRecorder(s)
    const root = allocChild(rec)
    firmware.forEach((m, i) => {
      const va = vaOf(m.va)
      storePte(rec, tableAt(rec, root, va, m.level), vaPteIndex(va, m.level), leaves[i]!)
    })
    return { snapshot: rec.snapshot, result: { rootPaddr: indexToFrame(root) }, steps: rec.steps }
  },
})

// ---- map_base_page -----------------------------------------------------------------------------

export const BootPtMapEvent = z.object({
  type: z.literal('boot_page_table.map_base_page'),
  va: VaddrSchema,
  /** `to: FrameNumber` = physical address / PAGE_SIZE. */
  frameNumber: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  prop: PagePropertySchema,
})
export type BootPtMapEvent = z.infer<typeof BootPtMapEvent>

/**
 * `BootPageTable::map_base_page(from, to, prop)` — maps the 4 KiB page at `from` to frame `to`:
 * walks from the root down to level 2, allocating a zeroed table for every absent PTE
 * (`alloc_child`, then `pte_ptr.write(new_pt(child))`), and writes `new_page(to * PAGE_SIZE, 1,
 * prop)` into the level-1 PTE. Panics (REQ-BOOTPT-MAP-1) when the walk meets a huge leaf
 * ("mapping an already mapped huge page in the boot page table") or the level-1 PTE is present
 * ("mapping an already mapped page in the boot page table"); state unchanged.
 *
 * Requires REQ-BOOTPT-LIVE-1, REQ-BOOTPT-MAP-1, REQ-BOOTPT-ALLOC-1 (and the codec's REQ-PTE-1..3).
 * Owes ENS-BOOTPT-MAP-1.
 */
export const bootPtMap = defineEvent<BootPtMapEvent, null>({
  type: 'boot_page_table.map_base_page',
  doc: 'BootPageTable::map_base_page(from, to, prop): map one 4 KiB page, allocating missing tables (panics if already mapped).',
  schema: BootPtMapEvent,
  requires: [
    bootLive as Requirement<BootPtMapEvent>,
    {
      rule: 'REQ-BOOTPT-MAP-1',
      kind: 'panic',
      summary: '[model] `BootPageTable::map_base_page` panics when the page is already mapped: by a huge leaf on the walk, or by a present level-1 PTE.',
      check: (s, e) => {
        const stop = bootWalk(s, s.pt.boot!, vaOf(e.va))
        if (stop.kind === 'huge') return `mapping an already mapped huge page in the boot page table (a level-${stop.level} leaf covers ${String(e.va)})`
        if (stop.kind === 'leaf' && isPresent(stop.pte)) return `mapping an already mapped page in the boot page table (${String(e.va)} maps ${hex(ptePaddr(stop.pte))})`
        return null
      },
    },
    allocRequirement<BootPtMapEvent>((s, boot, e) => (boot === null ? 1 : mapAllocations(s, boot, vaOf(e.va)))),
  ],
  reduce(s, e) {
    const va = vaOf(e.va)
    // The leaf word first: the codec panics (REQ-PTE-*) before anything changes.
    const leaf = newPage(e.frameNumber * PAGE_SIZE, 1, e.prop)
    const rec = new StepRecorder(s)
    storePte(rec, tableAt(rec, s.pt.boot!.rootPt, va, 1), vaPteIndex(va, 1), leaf)
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

// ---- protect_base_page -------------------------------------------------------------------------

export const BootPtProtectEvent = z.union([
  z.object({ type: z.literal('boot_page_table.protect_base_page'), va: VaddrSchema, prop: PagePropertySchema }),
  z.object({ type: z.literal('boot_page_table.protect_base_page'), va: VaddrSchema, mask: ProtectMaskSchema }),
])
export type BootPtProtectEvent = z.infer<typeof BootPtProtectEvent>

/**
 * `BootPageTable::protect_base_page(va, op)` — walks to the level-1 PTE of `va`, splitting every
 * huge leaf on the way (`alloc_child`, 512 `new_page(huge_pa + i * page_size(level - 1), level -
 * 1, prop)` entries, then `new_pt(child)` in place of the leaf), and rewrites the level-1 PTE as
 * `new_page(pte.paddr(), 1, op(pte.prop()))`. `op` is carried as its result, as for
 * `entry.protect`: `prop` (the new property) or `mask` (`flags := (flags & ~clear) | set`).
 * Panics (REQ-BOOTPT-PROTECT-1) when a PTE on the walk or the level-1 PTE is absent ("protecting
 * an unmapped page in the boot page table"); state unchanged.
 *
 * Requires REQ-BOOTPT-LIVE-1, REQ-BOOTPT-PROTECT-1, REQ-BOOTPT-ALLOC-1 (and the codec's
 * REQ-PTE-2..3 on `op`'s result). Owes ENS-BOOTPT-PROTECT-1.
 */
export const bootPtProtect = defineEvent<BootPtProtectEvent, null>({
  type: 'boot_page_table.protect_base_page',
  doc: 'BootPageTable::protect_base_page(va, op): apply op to the property of a mapped 4 KiB page, splitting huge leaves (panics if unmapped).',
  schema: BootPtProtectEvent as unknown as z.ZodType<BootPtProtectEvent>,
  requires: [
    bootLive as Requirement<BootPtProtectEvent>,
    {
      rule: 'REQ-BOOTPT-PROTECT-1',
      kind: 'panic',
      summary: '[model] `BootPageTable::protect_base_page` panics when the page is not mapped: an absent PTE on the walk or at level 1.',
      check: (s, e) => {
        const stop = bootWalk(s, s.pt.boot!, vaOf(e.va))
        return stop.kind === 'absent' || (stop.kind === 'leaf' && !isPresent(stop.pte))
          ? `protecting an unmapped page in the boot page table (${String(e.va)}: the level-${stop.level} PTE is absent)`
          : null
      },
    },
    allocRequirement<BootPtProtectEvent>((s, boot, e) => (boot === null ? 1 : protectAllocations(s, boot, vaOf(e.va)))),
  ],
  reduce(s, e) {
    const va = vaOf(e.va)
    const rec = new StepRecorder(s)
    let slot = s.pt.boot!.rootPt
    for (let level = NR_LEVELS; level > 1; level--) {
      const idx = vaPteIndex(va, level)
      const pte = readPte(rec.snapshot, slot, idx)
      if (isLast(pte, level)) {
        // Split the huge page into NR_ENTRIES pages of the next level, same property.
        const child = allocChild(rec)
        const hugePa = ptePaddr(pte)
        const prop = pteProp(pte)
        const sub = pageSize(level - 1)
        const words = Array.from({ length: NR_ENTRIES }, (_, i) => newPage(hugePa + i * sub, level - 1, prop))
        rec.set(
          editSnapshot(rec.snapshot, (_d, t) => {
            const w = new MemoryWriter(t)
            words.forEach((word, i) => writePte(w, child, i, word))
          }),
        )
        storePte(rec, slot, idx, newPt(indexToFrame(child)))
        slot = child
      } else {
        slot = frameToIndex(ptePaddr(pte))
      }
    }
    const idx = vaPteIndex(va, 1)
    const pte = readPte(rec.snapshot, slot, idx)
    storePte(rec, slot, idx, newPage(ptePaddr(pte), 1, protectOp(e as unknown as Parameters<typeof protectOp>[0], pteProp(pte))))
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

// ---- page_walk ---------------------------------------------------------------------------------

export const BootPtPageWalkEvent = z.object({ type: z.literal('boot_page_table.page_walk'), va: VaddrSchema })
export type BootPtPageWalkEvent = z.infer<typeof BootPtPageWalkEvent>

/**
 * `page_walk::<C>(boot_pt.root_address(), va)` (src/model/pt_walk.ts): the same software MMU walk
 * as a `PageTable`'s, from the boot root. No state change.
 *
 * Requires REQ-BOOTPT-LIVE-1. Owes ENS-BOOTPT-PAGEWALK-1.
 */
export const bootPtPageWalk = defineEvent<BootPtPageWalkEvent, WalkResult | null>({
  type: 'boot_page_table.page_walk',
  doc: 'page_walk from the boot page table root: { pa, prop } of the leaf (pa + offset), or null.',
  schema: BootPtPageWalkEvent,
  requires: [bootLive as Requirement<BootPtPageWalkEvent>],
  reduce(s, e) {
    return { snapshot: s, result: pageWalk(s, bootRootPaddr(s.pt.boot!), vaOf(e.va)) }
  },
})

// ---- drop --------------------------------------------------------------------------------------

export const BootPtDropEvent = z.object({ type: z.literal('boot_page_table.drop') })
export type BootPtDropEvent = z.infer<typeof BootPtDropEvent>

/**
 * `Drop for BootPageTable` (when `dismiss` takes it): `dfs_walk_on_leave` visits every present
 * non-last PTE depth first and, on leaving it, drops the table it points to (`Frame::<()>::from_raw`
 * and drop: internal steps `frame.from_raw`, `frame.drop`) and clears the PTE (`new_absent()`, so
 * that a table reached twice is freed once). Then the model frees its stand-in for the
 * firmware's root the same way (the module's deviation), and the boot page table is gone.
 *
 * Requires REQ-BOOTPT-LIVE-1 (and its internal steps'). Owes ENS-BOOTPT-DROP-1.
 */
export const bootPtDrop = defineEvent<BootPtDropEvent, null>({
  type: 'boot_page_table.drop',
  doc: 'Drop of the boot page table: every table it allocated is freed (depth first), then its root.',
  schema: BootPtDropEvent,
  requires: [bootLive as Requirement<BootPtDropEvent>],
  reduce(s) {
    const boot = s.pt.boot!
    const rec = new StepRecorder(s)
    // The table leaves the record as its forgotten reference is revived and dropped.
    const release = (frame: number): void => {
      const cur = rec.snapshot
      rec.set(
        editSnapshot(cur, (d) => {
          const b = cur.pt.boot!
          d.pt.boot = frame === b.rootPt ? null : { rootPt: b.rootPt, frames: b.frames.filter((f) => f !== frame) }
        }),
      )
      const { frame: handle } = rec.run(frameFromRaw, { type: 'frame.from_raw', paddr: indexToFrame(frame) })
      rec.run(frameDrop, { type: 'frame.drop', frame: handle })
    }
    // dfs_walk_on_leave, reading the words as they are when each is reached (a cleared PTE is skipped).
    const visit = (slot: number, level: number): void => {
      if (level < 2) return
      for (let idx = 0; idx < NR_ENTRIES; idx++) {
        const pte = readPte(rec.snapshot, slot, idx)
        if (!isPresent(pte) || isLast(pte, level)) continue
        const child = frameToIndex(ptePaddr(pte))
        visit(child, level - 1)
        release(child)
        storePte(rec, slot, idx, 0n)
      }
    }
    visit(boot.rootPt, NR_LEVELS)
    release(boot.rootPt)
    return { snapshot: rec.snapshot, result: null, steps: rec.steps }
  },
})

export const bootPtEvents: readonly AnyEventSpec[] = [bootPtNew, bootPtMap, bootPtProtect, bootPtPageWalk, bootPtDrop] as unknown as readonly AnyEventSpec[]
