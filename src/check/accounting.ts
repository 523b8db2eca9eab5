/**
 * The embedding's per-slot counts (state.md §15): `H(idx)` outstanding `Frame` handles,
 * `cover(idx)` covering segments, and the number of `UniqueEntry`s at the slot. They are derived
 * from the handle registries for checking only (the snapshot does not store them). Full mode
 * rebuilds the index from scratch; incremental mode updates it from the registry diffs of a step.
 */
import { frameToIndex } from '../arch/constants.js'
import type { Snapshot } from '../model/snapshot.js'
import { tableDiff, tableForEach } from '../model/table.js'
import { segmentPages } from './changes.js'

export class AccountingIndex {
  private readonly handles = new Map<number, number>()
  private readonly covers = new Map<number, number>()
  private readonly uniques = new Map<number, number>()

  /** `H(idx)`. */
  handleCount(idx: number): number {
    return this.handles.get(idx) ?? 0
  }

  /** `cover(idx)`. */
  coverCount(idx: number): number {
    return this.covers.get(idx) ?? 0
  }

  /** Number of `UniqueEntry` handles at `idx`. */
  uniqueCount(idx: number): number {
    return this.uniques.get(idx) ?? 0
  }

  /** Slots with any count (the units a full check must visit beyond the materialised slots). */
  slots(): Iterable<number> {
    return new Set([...this.handles.keys(), ...this.covers.keys(), ...this.uniques.keys()])
  }

  static build(s: Snapshot): AccountingIndex {
    const index = new AccountingIndex()
    tableForEach(s.frames, (e) => bump(index.handles, frameToIndex(e.paddr), +1))
    tableForEach(s.segments, (e) => {
      for (const i of segmentPages(e)) bump(index.covers, i, +1)
    })
    tableForEach(s.uniqueFrames, (e) => bump(index.uniques, frameToIndex(e.paddr), +1))
    return index
  }

  /** Moves the index from `before` to `after` (it must currently describe `before`). */
  apply(before: Snapshot, after: Snapshot): void {
    tableDiff(before.frames, after.frames, (_i, b, a) => {
      if (b !== null) bump(this.handles, frameToIndex(b.paddr), -1)
      if (a !== null) bump(this.handles, frameToIndex(a.paddr), +1)
    })
    tableDiff(before.segments, after.segments, (_i, b, a) => {
      if (b !== null) for (const i of segmentPages(b)) bump(this.covers, i, -1)
      if (a !== null) for (const i of segmentPages(a)) bump(this.covers, i, +1)
    })
    tableDiff(before.uniqueFrames, after.uniqueFrames, (_i, b, a) => {
      if (b !== null) bump(this.uniques, frameToIndex(b.paddr), -1)
      if (a !== null) bump(this.uniques, frameToIndex(a.paddr), +1)
    })
  }
}

function bump(map: Map<number, number>, key: number, delta: number): void {
  const next = (map.get(key) ?? 0) + delta
  if (next === 0) map.delete(key)
  else map.set(key, next)
}
