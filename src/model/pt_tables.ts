/**
 * Reading `PageTable` handles (`Snapshot.pt.tables`, src/model/page_table.ts): the handle of a root
 * node, and which root entries are the kernel's shared top level.
 *
 * Kernel-half sharing (deviation from the spec, documented here once): OSTD's
 * `create_user_page_table` copies the kernel root's PTE words 256..512 into the new user root raw
 * — no reference is taken, no `nr_children` is counted, and `UserPtConfig::TOP_LEVEL_INDEX_RANGE`
 * (0..256) keeps cursors and `on_drop` away from them. The spec (INV-TREE-4) says the user tree's
 * ghost entries at 256..512 are absent: the shared half is outside the Verus model. So the model
 * keeps those ghost entries absent while the words are present, and every rule that compares PTE
 * words with the owner tree (INV-MATCH-*, INV-PTMETA-2, the tree rules) exempts exactly these
 * entries (`isSharedKernelEntry`); the model's INV-PTSHARE-1 checks instead that the words equal
 * the kernel root's.
 */
import { frameToIndex } from '../arch/constants.js'
import { USER_PT_CONFIG } from '../arch/pt_config.js'
import type { PageTableHandle } from './page_table.js'
import type { Snapshot } from './snapshot.js'
import { tableForEach, tableGet, type Table } from './table.js'

/** A live `PageTable` handle, or null. */
export function pageTableHandle(s: Snapshot, id: number): PageTableHandle | null {
  return tableGet(s.pt.tables, id)
}

/** Root slot → handle id, per handle table (tables are immutable, so the index never goes stale). */
const rootIndex = new WeakMap<Table<PageTableHandle>, Map<number, number>>()

function rootsOf(tables: Table<PageTableHandle>): Map<number, number> {
  let roots = rootIndex.get(tables)
  if (roots === undefined) {
    roots = new Map()
    const r = roots
    tableForEach(tables, (h, id) => {
      const slot = Number.isSafeInteger(h.rootPaddr) && h.rootPaddr >= 0 ? frameToIndex(h.rootPaddr) : -1
      // Two handles claiming one root is a corrupted state (INV-PTHANDLE-1); the first one wins here.
      if (slot >= 0 && !r.has(slot)) r.set(slot, id)
    })
    rootIndex.set(tables, roots)
  }
  return roots
}

/** The id of the `PageTable` handle whose root is the node at `slot`, or null. */
export function handleOfRoot(s: Snapshot, slot: number): number | null {
  return rootsOf(s.pt.tables).get(slot) ?? null
}

/** The handles of user page tables that share the top level of kernel page table `kernel`. */
export function sharersOf(s: Snapshot, kernel: number): number[] {
  const out: number[] = []
  tableForEach(s.pt.tables, (h, id) => {
    if (h.sharesKernel === kernel) out.push(id)
  })
  return out
}

/**
 * Whether entry `idx` of the node at `slot` is a shared kernel entry of a user root: the node is
 * the root of a live user `PageTable` made by `create_user_page_table` and `idx` lies outside
 * `UserPtConfig::TOP_LEVEL_INDEX_RANGE`. Such an entry's word is the kernel's, its ghost owner is
 * absent (see the module comment).
 */
export function isSharedKernelEntry(s: Snapshot, slot: number, idx: number): boolean {
  const [start, end] = USER_PT_CONFIG.topLevelIndexRange
  if (idx >= start && idx < end) return false
  const id = handleOfRoot(s, slot)
  if (id === null) return false
  const h = tableGet(s.pt.tables, id)!
  return h.config === 'user' && h.sharesKernel !== null
}
