/**
 * `page_walk` (ostd::mm::page_table, behaviour.md §2.5.12): a software MMU walk over the PTE words
 * in physical memory, from a root table's physical address down to a leaf. Pure: it reads the
 * snapshot's memory only (no owner tree, no locks, no metadata), as the hardware does, so it works
 * for tracked page tables, the shared kernel half of a user page table and the boot page table
 * alike. The checker and the cursor code reuse it.
 *
 * OSTD, for `cur_level` from `NR_LEVELS` down to 1: read PTE `pte_index(va, cur_level)` of the
 * current table; absent → `None`; `is_last(cur_level)` → `Some((pte.paddr() + (va & (page_size -
 * 1)), pte.prop()))`; else continue in the table at `pte.paddr()`. A level-1 PTE is always last
 * (D-PTE), so the walk ends by level 1. Physical address 0 is a valid leaf target. (OSTD's
 * `debug_assert!(cur_level <= HIGHEST_TRANSLATION_LEVEL)` on a leaf is a debug-build check only;
 * the walk reports the leaf's level instead.)
 *
 * Virtual addresses: a `number` (user addresses, exact below 2^53) or a `bigint` (kernel
 * addresses, the full 64 bits). Only bits 12..48 select entries, as `pte_index` does.
 */
import { frameToIndex, NR_ENTRIES, NR_LEVELS, pageSize, pteIndexBitOffset } from '../arch/constants.js'
import type { PageProperty } from '../arch/page_prop.js'
import { isLast, isPresent, ptePaddr, pteProp, type Pte } from '../arch/pte.js'
import { readPte } from './memory.js'
import type { Snapshot } from './snapshot.js'

/** A virtual address: a number below 2^53, or the exact 64-bit value. */
export type Va = number | bigint

const U64 = (1n << 64n) - 1n

/** The exact 64-bit value of a virtual address. */
export function vaBig(va: Va): bigint {
  return typeof va === 'bigint' ? va & U64 : BigInt(va)
}

/** `pte_index(va, level) = (va >> (12 + 9 (level - 1))) & 511`. */
export function vaPteIndex(va: Va, level: number): number {
  if (typeof va === 'number') return Math.floor(va / 2 ** pteIndexBitOffset(level)) % NR_ENTRIES
  return Number((va >> BigInt(pteIndexBitOffset(level))) & BigInt(NR_ENTRIES - 1))
}

/** `va & (page_size(level) - 1)`: the offset of `va` inside its page of `level`. */
export function vaPageOffset(va: Va, level: number): number {
  const size = pageSize(level)
  if (typeof va === 'number') return va % size
  return Number(va & BigInt(size - 1))
}

/** What `page_walk` returns: the translated physical address and the leaf's property. */
export interface WalkResult {
  readonly pa: number
  readonly prop: PageProperty
}

/** One table visited by a walk: its slot, level, the index read and the word found there. */
export interface WalkStep {
  readonly slot: number
  readonly level: number
  readonly idx: number
  readonly pte: Pte
}

/** A walk with its trace: every table visited, and the leaf (with its level) or null. */
export interface WalkTrace {
  readonly steps: readonly WalkStep[]
  readonly leaf: (WalkResult & { readonly level: number; readonly leafPa: number }) | null
}

/** The walk from the root table at `rootPaddr` for `va`, with every table it visits. */
export function walkTrace(s: Snapshot, rootPaddr: number, va: Va): WalkTrace {
  const steps: WalkStep[] = []
  let slot = frameToIndex(rootPaddr)
  for (let level = NR_LEVELS; level >= 1; level--) {
    const idx = vaPteIndex(va, level)
    const pte = readPte(s, slot, idx)
    steps.push({ slot, level, idx, pte })
    if (!isPresent(pte)) return { steps, leaf: null }
    if (isLast(pte, level)) {
      const leafPa = ptePaddr(pte)
      return { steps, leaf: { pa: leafPa + vaPageOffset(va, level), prop: pteProp(pte), level, leafPa } }
    }
    slot = frameToIndex(ptePaddr(pte))
  }
  // Unreachable: `is_last(1)` holds for every level-1 PTE (D-PTE).
  throw new Error('page_walk: a present level-1 PTE was not last')
}

/** `page_walk(root_paddr, va)`: `{ pa: leaf_pa + offset, prop }`, or null when unmapped. */
export function pageWalk(s: Snapshot, rootPaddr: number, va: Va): WalkResult | null {
  const leaf = walkTrace(s, rootPaddr, va).leaf
  return leaf === null ? null : { pa: leaf.pa, prop: leaf.prop }
}
