/** The persistent radix table (src/model/table.ts): copy-on-write, growth, and pruning of emptied chunks. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { emptyTable, tableDiff, tableEntries, tableForEachLeaf, tableGet, tableWith, TableEditor, type Table } from '../../src/model/table.js'

describe('Table', () => {
  it('behaves like a Map under random writes and removals, and never changes a published table', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(5000), fc.option(fc.integer(), { nil: null })), { maxLength: 300 }), (writes) => {
        let t: Table<number> = emptyTable()
        const ref = new Map<number, number>()
        for (const [i, v] of writes) {
          const before = t
          const beforeEntries = tableEntries(before)
          t = tableWith(t, i, v)
          expect(tableEntries(before)).toEqual(beforeEntries)
          if (v === null) ref.delete(i)
          else ref.set(i, v)
        }
        expect(tableEntries(t)).toEqual([...ref].sort((a, b) => a[0] - b[0]))
        expect(t.count).toBe(ref.size)
        for (const [i] of writes) expect(tableGet(t, i)).toBe(ref.get(i) ?? null)
      }),
      { numRuns: 200 },
    )
  })

  it('visits every leaf chunk once, with its first index; a write leaves the other chunks the same arrays', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(5000), fc.integer()), { maxLength: 200 }), fc.nat(5000), (writes, extra) => {
        let t: Table<number> = emptyTable()
        for (const [i, v] of writes) t = tableWith(t, i, v)
        const seen: Array<[number, number]> = []
        const leaves = new Map<number, readonly (number | null)[]>()
        tableForEachLeaf(t, (leaf, base) => {
          leaves.set(base, leaf)
          leaf.forEach((v, k) => {
            if (v !== null && v !== undefined) seen.push([base + k, v])
          })
        })
        expect(seen).toEqual(tableEntries(t))
        const next = tableWith(t, extra, -1)
        tableForEachLeaf(next, (leaf, base) => {
          const same = Math.floor(extra / 32) * 32 !== base
          if (same && leaves.has(base)) expect(leaf).toBe(leaves.get(base))
        })
      }),
      { numRuns: 100 },
    )
  })

  it('drops chunks that become empty: a registry whose ids only grow keeps no chunk per id it used', () => {
    let t: Table<string> = emptyTable()
    for (let id = 0; id < 100_000; id++) {
      t = tableWith(t, id, 'live')
      if (id > 0) t = tableWith(t, id - 1, null)
    }
    expect(t.count).toBe(1)
    // only the path to the one live entry remains: one node per level
    let nodes = 0
    const walk = (n: unknown, level: number): void => {
      if (!Array.isArray(n)) return
      nodes++
      if (level > 0) for (const c of n) walk(c, level - 1)
    }
    walk(t.root, t.depth - 1)
    expect(nodes).toBe(t.depth)
    const ed = new TableEditor(t)
    ed.set(99_999, null)
    expect(ed.done().root).toBeNull()
  })

  it('tableDiff sees a removal whose chunk was pruned', () => {
    const a = tableWith(tableWith(emptyTable<number>(), 40, 1), 3, 2)
    const b = tableWith(a, 40, null)
    const seen: Array<[number, number | null, number | null]> = []
    tableDiff(a, b, (i, x, y) => void seen.push([i, x, y]))
    expect(seen).toEqual([[40, 1, null]])
  })
})
