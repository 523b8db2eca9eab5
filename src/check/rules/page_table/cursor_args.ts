/**
 * The checker's own readings of cursor-event arguments, written apart from the reducers' helpers
 * (reducers/page_table/cursor.ts `validatedRange` / `propTracked` / `queryPanic`,
 * reducers/page_table/cursor_mut.ts `itemIntoRaw` / `protectNextOp`, reducers/page_table/entry.ts
 * `protectOp`).
 *
 * Why: a rule that computes its expectation with the reducer's own helper cannot see a fault in
 * that helper — the model and its judge move together (QUALITY.md, issue 7: the value codec was the
 * first such case). Each function here reads the spec directly; they share only `src/` (state
 * views and constants), which no reducer variant or mutant changes.
 */
import { frameToIndex, REF_COUNT_MAX, refCountName } from '../../../arch/constants.js'
import { PageFlags, type PageProperty } from '../../../arch/page_prop.js'
import { ptConfig, type PtConfigName } from '../../../arch/pt_config.js'
import { cursorRootSlot, isValidRange, viewVaOf, type PtCursor } from '../../../model/pt_cursor.js'
import { mappingAt, type VaRange } from '../../../model/pt_view.js'
import { slotOf } from '../../../model/slots.js'
import type { Snapshot } from '../../../model/snapshot.js'
import { tableGet } from '../../../model/table.js'
import type { MappedItemArg } from '../../../../reducers/page_table/cursor_mut.js'
import type { PageTableError } from '../../../../reducers/page_table/cursor.js'
import type { VaddrArg } from '../../../../reducers/page_table/page_table.js'
import type { Result } from '../../../../reducers/types.js'

const PAGE_BYTES = 4096n

/**
 * What `PageTable::cursor(_mut)(va)` answers (behaviour.md §2.5.1): `Err(InvalidVaddrRange)` unless
 * `is_valid_range::<C>(va) && va.start < va.end`, then `Err(UnalignedVaddr)` unless both ends are
 * 4 KiB aligned; otherwise the range in view addresses.
 */
export function expectedCursorRange(config: PtConfigName, e: { readonly vaStart: VaddrArg; readonly vaEnd: VaddrArg }): Result<VaRange, PageTableError> {
  // a VaddrArg is a safe integer or `0x` + at most 16 hex digits: BigInt reads both exactly
  const start = BigInt(e.vaStart)
  const end = BigInt(e.vaEnd)
  const invalid = { ok: false, error: { kind: 'InvalidVaddrRange', start: e.vaStart, end: e.vaEnd } } as const
  if (start >= end || !isValidRange(config, start, end)) return invalid
  if (start % PAGE_BYTES !== 0n || end % PAGE_BYTES !== 0n) return { ok: false, error: { kind: 'UnalignedVaddr' } }
  const first = viewVaOf(config, start)
  const last = viewVaOf(config, end - 1n)
  return first === null || last === null ? invalid : { ok: true, value: { start: first, end: last + 1 } }
}

/**
 * Whether a leaf with property `prop` holds a tracked frame (constants.md §5): every item of a
 * tracked configuration, none of an untracked one, and in the kernel's the leaves marked `AVAIL1`.
 */
export function leafIsTracked(config: PtConfigName, prop: PageProperty): boolean {
  switch (ptConfig(config).items) {
    case 'tracked':
      return true
    case 'both':
      return (prop.flags & PageFlags.AVAIL1) === PageFlags.AVAIL1
    default:
      return false
  }
}

/** `C::item_into_raw(item)` (constants.md §5): the PTE's `(pa, level, prop)` and whether it is tracked; a `Frame` is a level-1 page, marked `AVAIL1` in the kernel's table, an untracked item cleared of it. */
export function rawOfMapArg(s: Snapshot, config: PtConfigName, item: MappedItemArg): { pa: number; level: number; prop: PageProperty; tracked: boolean } {
  const kernel = config === 'kernel'
  if ('frame' in item) {
    const frame = tableGet(s.frames, item.frame)
    const flags = kernel ? item.prop.flags | PageFlags.AVAIL1 : item.prop.flags
    return { pa: frame === null ? -1 : frame.paddr, level: 1, prop: { ...item.prop, flags }, tracked: true }
  }
  const flags = kernel ? item.prop.flags & ~PageFlags.AVAIL1 : item.prop.flags
  return { pa: item.pa, level: item.level, prop: { ...item.prop, flags }, tracked: false }
}

/** A protect event's op (`protect_next`, `Entry::protect`, `protect_base_page`): a whole property, or a mask. */
export type ProtectOpArg = { readonly prop: PageProperty } | { readonly mask: { readonly clear: number; readonly set: number } }

/** The property a protect op gives a leaf of property `old`: the event's property, or the flags with `mask.clear` cleared then `mask.set` set. */
export function protectedProperty(e: ProtectOpArg, old: PageProperty): PageProperty {
  if ('prop' in e) return e.prop
  return { ...old, flags: (old.flags & ~e.mask.clear) | e.mask.set }
}

/**
 * The panic of a query's clone (REQ-CURSOR-QUERY-2, behaviour.md §2.5.4): the cursor is inside its
 * range over a tracked leaf whose frame already has `REF_COUNT_MAX` references. Null otherwise.
 */
export function expectedQueryPanic(s: Snapshot, c: PtCursor): string | null {
  const rootSlot = cursorRootSlot(s, c)
  if (rootSlot === null || !(c.va < c.barrierVa.end)) return null
  const leaf = mappingAt(s, rootSlot, c.va, { source: 'pte', config: c.config })
  if (leaf === null || !leafIsTracked(c.config, leaf.property)) return null
  const refs = slotOf(s, frameToIndex(leaf.paRange.start)).refCount
  return refs < REF_COUNT_MAX ? null : `cloning the mapped frame at ${leaf.paRange.start} would pass REF_COUNT_MAX (rc ${refCountName(refs)})`
}
