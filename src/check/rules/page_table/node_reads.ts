/**
 * The checker's own readings of a page-table node's metadata, written apart from the reducers'
 * helpers (reducers/page_table/node.ts `onDropChildren` / `newNodeStorage`, and the guard count
 * that was `guardsAt` there), for the reason cursor_args.ts gives. They read only `src/`.
 */
import { frameToIndex, NR_LEVELS, PAGE_SIZE } from '../../../arch/constants.js'
import { isLast, isPresent, pteProp, ptePaddr } from '../../../arch/pte.js'
import { managedIndexRange, ptConfig, type PtConfigName } from '../../../arch/pt_config.js'
import { readPte } from '../../../model/memory.js'
import { slotOf } from '../../../model/slots.js'
import { tableForEach } from '../../../model/table.js'
import type { MetaSlotStorage, Snapshot } from '../../../model/snapshot.js'
import type { OnDropChild } from '../../../../reducers/page_table/node.js'
import { leafIsTracked } from './cursor_args.js'

/** `PageTablePageMeta::new(level)` of a configuration: no children, not stray, unlocked. */
export function freshNodeMeta(level: number, config: PtConfigName): Extract<MetaSlotStorage, { kind: 'PTNode' }> {
  return { kind: 'PTNode', level, config, nrChildren: 0, stray: false, lock: 0 }
}

/** One present PTE of a node being dropped (the reducer's type; only its value is computed here). */
export type DroppedChild = OnDropChild

/**
 * The present PTEs `PageTablePageMeta::on_drop` walks (seed §4 (a)1–3): those of the index range
 * the node's configuration manages at its level, read from the node's page; none when the slot
 * holds no node metadata.
 */
export function droppedChildren(s: Snapshot, slot: number): DroppedChild[] {
  const storage = slotOf(s, slot).storage
  if (storage === null || storage === undefined || storage.kind !== 'PTNode') return []
  const [first, end] = managedIndexRange(ptConfig(storage.config), storage.level, NR_LEVELS)
  const out: DroppedChild[] = []
  for (let idx = first; idx < end; idx++) {
    const pte = readPte(s, slot, idx)
    if (!isPresent(pte)) continue
    const paddr = ptePaddr(pte)
    const node = !isLast(pte, storage.level)
    out.push({ idx, pte, paddr, slot: frameToIndex(paddr), node, tracked: node ? true : leafIsTracked(storage.config, pteProp(pte)) })
  }
  return out
}

/** Number of live `PageTableGuard` handles locking the node at slot `idx` (INV-PTGUARD-1): a scan of the guards, which are few. */
export function guardsOnNode(s: Snapshot, idx: number): number {
  const paddr = idx * PAGE_SIZE
  let n = 0
  tableForEach(s.pt.guards, (g) => {
    if (g.paddr === paddr) n++
  })
  return n
}
