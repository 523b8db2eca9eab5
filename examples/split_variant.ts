/**
 * A changed split strategy, and the clauses it breaks. `Entry::split_if_mapped_huge` replaces a
 * huge leaf by a node one level down whose 512 entries map the same range. The variant here
 * fills the new node from its last entry down and gets the address arithmetic wrong: sub-page `i`
 * maps `pa + (511 - i) * 4 KiB` — the PTE words and the ghost entry owners agree with each other,
 * so the tree stays well-formed, but the range is mapped backwards.
 *
 * The scenario maps a 2 MiB page in an untracked page table and makes its second 4 KiB page
 * read-only with `protect_next`, which splits the huge page first; with the variant the checker
 * reports the split's postcondition (ENS-ENTRY-SPLIT-13: the new node maps the same range) and
 * the walk of the address shows the wrong physical page.
 *
 *   npx tsx examples/split_variant.ts
 */
import { pathToFileURL } from 'node:url'
import { entrySplitIfMappedHuge } from '../reducers/page_table/entry_composite.js'
import { setChild } from '../reducers/page_table/entry.js'
import { variantOf } from '../reducers/index.js'
import { newPage } from '../src/arch/pte.js'
import { PAGE_SIZE } from '../src/arch/constants.js'
import { createModel, PageFlags, PageProperty, unwrap, type Violation, type WalkResult } from '../src/index.js'
import { editSnapshot } from '../src/model/edit.js'
import { MemoryWriter, writePte } from '../src/model/memory.js'
import type { LeafEntryOwner } from '../src/model/page_table.js'
import { tableGet } from '../src/model/table.js'

/** `split_if_mapped_huge` laying the sub-pages out backwards (PTE words and ghost owners alike). */
export const backwardsSplit = variantOf(entrySplitIfMappedHuge, (s, e) => {
  const out = entrySplitIfMappedHuge.reduce(s, e)
  if (out.result === null) return out
  const slot = tableGet(out.snapshot.pt.guards, out.result.guard)!.paddr / PAGE_SIZE
  const node = tableGet(out.snapshot.pt.owners, slot)!
  const first = tableGet(node.children, 0) as Extract<LeafEntryOwner, { kind: 'frame' }>
  const size = first.frame.size
  return {
    ...out,
    snapshot: editSnapshot(out.snapshot, (_d, t) => {
      let record = node
      for (let i = 0; i < 512; i++) {
        const o = tableGet(node.children, i) as Extract<LeafEntryOwner, { kind: 'frame' }>
        const pa = first.frame.mappedPa + (511 - i) * size // the faulty arithmetic
        setChild(t, slot, record, i, { ...o, frame: { ...o.frame, mappedPa: pa } })
        record = t.ptOwners.get(slot)!
        writePte(new MemoryWriter(t), slot, i, newPage(pa, node.level, o.frame.prop))
      }
    }),
  }
})

export interface SplitVariantRun {
  readonly violations: readonly Violation[]
  /** The walk of VA 0x1234 after the split (the correct split maps it to 0x20_1234). */
  readonly walk: WalkResult | null
}

/** The scenario, with or without the variant. */
export function runSplit(variant: boolean): SplitVariantRun {
  const model = createModel({ check: 'incremental', variants: variant ? [backwardsSplit] : [] })
  const pt = model.pageTables.create('untracked')
  const c = unwrap(pt.cursorMut({ start: 0, end: 0x40_0000 }))
  c.map({ pa: 0x20_0000, level: 2, prop: PageProperty.newUser(PageFlags.RW) }) // one 2 MiB page
  unwrap(c.jump(0x1000))
  c.protectNext(0x1000, (p) => ({ ...p, flags: PageFlags.R })) // splits it, then protects 4 KiB
  c.drop()
  const walk = pt.pageWalk(0x1234)
  pt.drop()
  return { violations: model.history.violations(), walk }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const good = runSplit(false)
  console.log(`correct split: ${good.violations.length} violations; VA 0x1234 -> PA 0x${good.walk?.pa.toString(16)}`)
  const bad = runSplit(true)
  console.log(`backwards split: VA 0x1234 -> PA 0x${bad.walk?.pa.toString(16)}; the checker reports:`)
  for (const v of bad.violations) console.log(`  step ${v.step}${v.internal ? ` (internal ${v.internal.join('.')})` : ''} ${v.event}: ${v.rule} at ${v.path}: ${v.message}`)
}
