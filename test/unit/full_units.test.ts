/**
 * A full check visits only the materialised PTE slots (`materialisedEntryUnits`): every
 * `ptEntry` rule must hold on the others. Checked on every snapshot (internal steps included) of
 * random histories over all operations, by evaluating each `ptEntry` rule on every entry of every
 * node the full check skips; and the converse on a corrupted state: a stale Entry handle over an
 * empty slot, or a node with a malformed path, makes its slots materialised.
 */
import { describe, expect, it } from 'vitest'
import { produce } from 'immer'
import { indexToFrame, NR_ENTRIES } from '../../src/arch/constants.js'
import { materialisedEntryUnits } from '../../src/check/pt_changes.js'
import { defaultRegistry } from '../../src/check/rules/index.js'
import type { InvRule } from '../../src/check/rule.js'
import { AccountingIndex } from '../../src/check/accounting.js'
import { History, internalSteps } from '../../src/log/history.js'
import { generateHistory } from '../../src/log/gen.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableGet, tableKeys, tableWith } from '../../src/model/table.js'
import { Checker } from '../../src/check/checker.js'

const entryRules = defaultRegistry()
  .invariants()
  .filter((r: InvRule) => r.scope === 'ptEntry')

function skippedFindings(s: Snapshot): string[] {
  const visited = new Set(materialisedEntryUnits(s))
  const ctx = { accounting: AccountingIndex.build(s) }
  const out: string[] = []
  for (const node of tableKeys(s.pt.owners)) {
    for (let i = 0; i < NR_ENTRIES; i++) {
      const unit = node * NR_ENTRIES + i
      if (visited.has(unit)) continue
      for (const rule of entryRules) for (const f of rule.checkUnit(s, unit, ctx)) out.push(`${f.rule} ${f.path}`)
    }
  }
  return out
}

describe('the PTE slots a full check skips', () => {
  it('are ones every ptEntry rule holds on, in every snapshot of random histories', () => {
    expect(entryRules.length).toBeGreaterThanOrEqual(20)
    let snapshots = 0
    let skipped = 0
    for (const seed of [3, 11]) {
      const h = new History({ check: 'off', validate: false })
      for (const e of generateHistory({ seed, ops: 50 })) {
        const step = h.dispatch(e)
        for (const s of [...internalSteps(step).map((x) => x.step.after), step.after]) {
          snapshots++
          const nodes = tableKeys(s.pt.owners).length
          skipped += nodes * NR_ENTRIES - materialisedEntryUnits(s).length
          expect(skippedFindings(s)).toEqual([])
        }
      }
    }
    // the histories do build page tables, so entries were skipped
    expect(skipped).toBeGreaterThan(snapshots * NR_ENTRIES)
  })

  it('include an empty slot an Entry handle caches, and every slot of a node with a malformed path', () => {
    const h = new History({ check: 'off', validate: false })
    for (const e of generateHistory({ seed: 5, ops: 400 })) h.dispatch(e)
    const s = h.state
    const node = tableKeys(s.pt.owners)[0]
    expect(node).toBeDefined()
    const before = new Set(materialisedEntryUnits(s))
    const empty = Array.from({ length: NR_ENTRIES }, (_, i) => node! * NR_ENTRIES + i).filter((u) => !before.has(u))
    expect(empty.length).toBeGreaterThan(0)
    // a stale Entry handle over an empty slot: INV-TREE-9 at a slot that holds nothing else
    const stale = produce(s, (d) => {
      d.pt.guards = tableWith(s.pt.guards, 10_000, { paddr: indexToFrame(node!) }) as never
      d.pt.entries = tableWith(s.pt.entries, 10_000, { guard: 10_000, idx: empty[0]! - node! * NR_ENTRIES, pte: '0x0000000000000001' }) as never
    })
    expect(materialisedEntryUnits(stale)).toContain(empty[0])
    expect(new Checker(defaultRegistry(), 'full').violationsIn(stale).map((v) => v.rule)).toContain('INV-TREE-9')
    // a malformed path: INV-ENTRY-4 on the canonical absent entries too
    const malformed = produce(s, (d) => {
      d.pt.owners = tableWith(s.pt.owners, node!, { ...tableGet(s.pt.owners, node!)!, path: '0.0.0.0.0.0' }) as never
    })
    const units = new Set(materialisedEntryUnits(malformed))
    expect(empty.every((u) => units.has(u))).toBe(true)
    const paths = new Checker(defaultRegistry(), 'full')
      .violationsIn(malformed)
      .filter((v) => v.rule === 'INV-ENTRY-4')
      .map((v) => v.path)
    expect(paths).toContain(`pt.owners[${node}].children[${empty[0]! - node! * NR_ENTRIES}].path`)
  })
})
