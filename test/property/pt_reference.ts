/**
 * A plain reference page table for the cursor model test: leaves by VA (PA, level, property), the
 * set of interior nodes by (level, VA), and one cursor (its address, level, guard level, range).
 * Written from behaviour.md §2.5 alone, with OSTD's cursor moves (`move_forward`, `pop_level`,
 * `jump` keeping the level when the target is in the current node), without any model code, so
 * that it is an independent oracle of what the page table and its cursor must do.
 *
 * Addresses are 48-bit view addresses (the user and untracked configurations have no leading bits).
 */
import { NR_ENTRIES, PAGE_SIZE, pageSize } from '../../src/arch/constants.js'
import type { PageProperty } from '../../src/arch/page_prop.js'

export interface RefLeaf {
  readonly pa: number
  readonly level: number
  readonly prop: PageProperty
}

export interface RefCursor {
  readonly start: number
  readonly end: number
  readonly guardLevel: number
  va: number
  level: number
}

export type RefFrag =
  | { readonly kind: 'Mapped'; readonly va: number; readonly leaf: RefLeaf }
  | { readonly kind: 'StrayPageTable'; readonly va: number; readonly len: number; readonly numFrames: number }

export type RefFound = { readonly kind: 'leaf'; readonly level: number; readonly slotStart: number } | { readonly kind: 'node'; readonly level: number; readonly slotStart: number }

const NR_LEVELS = 4
const alignDown = (va: number, size: number): number => va - (va % size)
const nodeKey = (level: number, va: number): string => `${level}:${va}`
const indexAt = (va: number, level: number): number => Math.floor(va / pageSize(level)) % NR_ENTRIES

export class RefPageTable {
  readonly leaves = new Map<number, RefLeaf>()
  /** Interior nodes below the root: `level:va`, `va` aligned to the node's span `pageSize(level + 1)`. */
  readonly nodes = new Set<string>()
  cursor: RefCursor | null = null

  constructor(
    readonly highestLevel: number,
    readonly topLevelCanUnmap: boolean,
  ) {}

  leafAt(level: number, va: number): RefLeaf | null {
    const l = this.leaves.get(va)
    return l !== undefined && l.level === level ? l : null
  }

  hasNode(level: number, va: number): boolean {
    return level === NR_LEVELS ? va === 0 : this.nodes.has(nodeKey(level, va))
  }

  /** Whether the level-`level` node at `va` has a present entry (`nr_children > 0`). */
  private hasChildren(level: number, va: number): boolean {
    const end = va + pageSize(level + 1)
    for (const k of this.leaves.keys()) if (k >= va && k < end) return true
    for (const n of this.nodes) {
      const [l, v] = n.split(':').map(Number) as [number, number]
      if (l < level && v >= va && v < end) return true
    }
    return false
  }

  /** `split_if_mapped_huge`: the level-`level` leaf at `va` becomes a node of 512 pieces. */
  private split(level: number, va: number): void {
    const leaf = this.leafAt(level, va)!
    this.leaves.delete(va)
    this.nodes.add(nodeKey(level - 1, va))
    const size = pageSize(level - 1)
    for (let i = 0; i < NR_ENTRIES; i++) this.leaves.set(va + i * size, { pa: leaf.pa + i * size, level: level - 1, prop: leaf.prop })
  }

  /** Removes the sub-tree of the level-`level` node at `va`; returns its 4 KiB frames (leaves of its level-1 nodes). */
  private removeSubtree(level: number, va: number): number {
    const end = va + pageSize(level + 1)
    let frames = 0
    for (const [k, l] of [...this.leaves]) {
      if (k < va || k >= end) continue
      if (l.level === 1) frames++
      this.leaves.delete(k)
    }
    for (const n of [...this.nodes]) {
      const [l, v] = n.split(':').map(Number) as [number, number]
      if (l <= level && v >= va && v < end) this.nodes.delete(n)
    }
    return frames
  }

  /** The guard level of a cursor over `[start, end)`, allocating the nodes on the way (behaviour.md §2.5.2). */
  open(start: number, end: number): RefCursor {
    let level = NR_LEVELS
    while (level > 1) {
      const size = pageSize(level)
      if (Math.floor(start / size) !== Math.floor((end - 1) / size)) break
      const s = alignDown(start, size)
      if (this.leafAt(level, s) !== null) break
      this.nodes.add(nodeKey(level - 1, s))
      level--
    }
    this.cursor = { start, end, guardLevel: level, va: start, level }
    return this.cursor
  }

  private c(): RefCursor {
    if (this.cursor === null) throw new Error('no cursor')
    return this.cursor
  }

  private moveForward(): void {
    const c = this.c()
    const next = alignDown(c.va, pageSize(c.level)) + pageSize(c.level)
    while (c.level < c.guardLevel && indexAt(next, c.level) === 0) c.level++
    c.va = next
  }

  /** `query()`: `[slot range, leaf | null]`, or null past the end (`Err(InvalidVaddr)`). The level may go down. */
  query(): { start: number; end: number; leaf: RefLeaf | null } | null {
    const c = this.c()
    if (c.va >= c.end) return null
    for (;;) {
      const size = pageSize(c.level)
      const s = alignDown(c.va, size)
      const leaf = this.leafAt(c.level, s)
      if (leaf === null && c.level > 1 && this.hasNode(c.level - 1, s)) {
        c.level--
        continue
      }
      return { start: s, end: s + size, leaf }
    }
  }

  /** `next()`: query, then past the slot. */
  next(): { start: number; end: number; leaf: RefLeaf | null } | null {
    const q = this.query()
    if (q !== null) this.moveForward()
    return q
  }

  /** Whether `find_next(len)` (and the window ops) panic: `len` unaligned or past the range end. */
  windowPanics(lenBytes: number): boolean {
    const c = this.c()
    return lenBytes % PAGE_SIZE !== 0 || c.va + lenBytes > c.end
  }

  /** `find_next_impl(len, take, split)` (behaviour.md §2.5.7/9/10); null leaves the cursor at or past the window end. */
  private search(lenBytes: number, mode: 'find' | 'take' | 'protect'): RefFound | null {
    const c = this.c()
    const end = c.va + lenBytes
    const skip = (slotEnd: number): void => {
      if (mode === 'take' && slotEnd > end) c.va = end
      else this.moveForward()
    }
    while (c.va < end) {
      const size = pageSize(c.level)
      const s = alignDown(c.va, size)
      const fits = c.va === s && s + size <= end
      if (this.leafAt(c.level, s) !== null) {
        if (fits || mode === 'find') return { kind: 'leaf', level: c.level, slotStart: s }
        this.split(c.level, s)
        c.level--
        continue
      }
      if (c.level > 1 && this.hasNode(c.level - 1, s)) {
        if (mode === 'take' && fits && (this.topLevelCanUnmap || c.level !== NR_LEVELS)) return { kind: 'node', level: c.level, slotStart: s }
        if (this.hasChildren(c.level - 1, s)) c.level--
        else skip(s + size)
        continue
      }
      skip(s + size)
    }
    return null
  }

  /** `find_next(len)`: the cursor's address at the first leaf, or null. */
  findNext(lenBytes: number): number | null {
    return this.search(lenBytes, 'find') === null ? null : this.c().va
  }

  /** `take_next(len)`. */
  takeNext(lenBytes: number): RefFrag | null {
    const f = this.search(lenBytes, 'take')
    if (f === null) return null
    this.moveForward()
    if (f.kind === 'leaf') {
      const leaf = this.leafAt(f.level, f.slotStart)!
      this.leaves.delete(f.slotStart)
      return { kind: 'Mapped', va: f.slotStart, leaf }
    }
    const numFrames = this.removeSubtree(f.level - 1, f.slotStart)
    return { kind: 'StrayPageTable', va: f.slotStart, len: pageSize(f.level), numFrames }
  }

  /** `protect_next(len, op)`: the protected slot's range, or null. */
  protectNext(lenBytes: number, op: (p: PageProperty) => PageProperty): { start: number; end: number } | null {
    const f = this.search(lenBytes, 'protect')
    if (f === null) return null
    const leaf = this.leafAt(f.level, f.slotStart)!
    this.leaves.set(f.slotStart, { ...leaf, prop: op(leaf.prop) })
    this.moveForward()
    return { start: f.slotStart, end: f.slotStart + pageSize(f.level) }
  }

  /** Whether `map` of a level-`level` item panics (behaviour.md §2.5.8, read for the guard level). */
  mapPanics(level: number): boolean {
    const c = this.c()
    const size = pageSize(level)
    return c.va >= c.end || level > this.highestLevel || level > c.guardLevel || c.va % size !== 0 || c.va + size > c.end
  }

  /** `map(item)`: the replaced fragment, or null for an empty slot. */
  map(leaf: RefLeaf): RefFrag | null {
    const c = this.c()
    while (c.level !== leaf.level) {
      if (c.level < leaf.level) {
        c.level++
        continue
      }
      const s = alignDown(c.va, pageSize(c.level))
      if (this.leafAt(c.level, s) !== null) this.split(c.level, s)
      else this.nodes.add(nodeKey(c.level - 1, s))
      c.level--
    }
    const va = c.va
    let frag: RefFrag | null = null
    const old = this.leafAt(leaf.level, va)
    if (old !== null) frag = { kind: 'Mapped', va, leaf: old }
    else if (leaf.level > 1 && this.hasNode(leaf.level - 1, va)) {
      frag = { kind: 'StrayPageTable', va, len: pageSize(leaf.level), numFrames: this.removeSubtree(leaf.level - 1, va) }
    }
    this.leaves.set(va, leaf)
    this.moveForward()
    return frag
  }

  /** `jump(va)`: false for `Err(InvalidVaddr)` (outside the range). The level is kept while the target is in the current node. */
  jump(va: number): boolean {
    const c = this.c()
    if (va < c.start || va >= c.end) return false
    // Up to the node that contains `va`; the guard node contains the whole range (also when the
    // cursor is at the end position, where `align_down(va)` would name the next node).
    while (c.level < c.guardLevel) {
      const span = pageSize(c.level + 1)
      const base = alignDown(c.va, span)
      if (va >= base && va < base + span) break
      c.level++
    }
    c.va = va
    return true
  }

  /** The leaves as sorted `[va, pa, size, prop]` rows (to compare with the model's view). */
  rows(): Array<[number, number, number, PageProperty]> {
    return [...this.leaves].sort((a, b) => a[0] - b[0]).map(([va, l]) => [va, l.pa, pageSize(l.level), l.prop])
  }
}
