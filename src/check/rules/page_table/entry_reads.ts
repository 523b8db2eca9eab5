/**
 * The checker's own readings of an `Entry` handle, its guard and its node, written apart from the
 * reducers' helpers (reducers/page_table/entry.ts `guardSlot` / `guardLevel` / `entryContext`,
 * reducers/page_table/page_table.ts `vaOf`), for the reason cursor_args.ts gives: a rule that
 * computes its expectation with the reducer's helper cannot see a fault in that helper. They read
 * only `src/` (state views and constants), which no reducer variant or mutant changes.
 */
import { frameToIndex, NR_ENTRIES } from '../../../arch/constants.js'
import { pteFromHex } from '../../../arch/pte.js'
import { readPte } from '../../../model/memory.js'
import type { Va } from '../../../model/pt_walk.js'
import { slotOf } from '../../../model/slots.js'
import type { Snapshot } from '../../../model/snapshot.js'
import { childOwnerView, nodeOwnerAt } from '../../../model/spec/page_table.js'
import { tableGet } from '../../../model/table.js'
import type { EntryContext } from '../../../../reducers/page_table/entry.js'
import type { VaddrArg } from '../../../../reducers/page_table/page_table.js'

/** The slot of the node live guard `guard` locks (its `paddr`'s frame), or null for a guard not in `pt.guards`. */
export function lockedSlotOf(s: Snapshot, guard: number): number | null {
  const g = tableGet(s.pt.guards, guard)
  return g === null ? null : frameToIndex(g.paddr)
}

/** `guard.level()` of the node at `slot`: the level its `PageTablePageMeta` holds, else (no node metadata) its owner record's, else 0. */
export function nodeLevelAt(s: Snapshot, slot: number): number {
  const storage = slotOf(s, slot).storage
  if (storage !== null && storage !== undefined && storage.kind === 'PTNode') return storage.level
  const record = nodeOwnerAt(s, slot)
  return record === null ? 0 : record.level
}

/**
 * Live Entry `id` as the entry rules read it — its handle, its guard's node slot, the node's owner
 * record, the child owner view at its index (null for an index outside the node or a missing
 * record), the PTE it cached and the PTE stored in the node now — or null when the entry or its
 * guard is not live.
 */
export function entryAt(s: Snapshot, id: number): EntryContext | null {
  const entry = tableGet(s.pt.entries, id)
  if (entry === null) return null
  const slot = lockedSlotOf(s, entry.guard)
  if (slot === null) return null
  const node = nodeOwnerAt(s, slot)
  const idxInNode = Number.isInteger(entry.idx) && entry.idx >= 0 && entry.idx < NR_ENTRIES
  return {
    id,
    entry,
    slot,
    node,
    view: idxInNode && node !== null ? childOwnerView(s, node, entry.idx) : null,
    cached: pteFromHex(entry.pte),
    stored: idxInNode ? readPte(s, slot, entry.idx) : 0n,
  }
}

/** A virtual-address argument as the page walk takes it: a number as is, a `0x…` string as a bigint. */
export function vaArg(va: VaddrArg): Va {
  return typeof va === 'string' ? BigInt(va) : va
}
