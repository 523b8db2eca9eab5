/**
 * A persistent table indexed by small non-negative integers: a radix trie of plain 64-entry
 * arrays. Used for the frame-slot tables (indexed by slot) and for the handle registries
 * (indexed by id). It is plain JSON-able data; inside an immer recipe, writing one entry copies
 * only the arrays on its path (immer's copy-on-write), so a step copies the chunks it touches
 * and never the whole table. `null` means "no entry" (for slot tables: the canonical fresh slot).
 *
 * Entries are removed by writing `null` (never `delete`), so the arrays stay packed.
 */
import type { Draft } from 'immer'

export const TABLE_CHUNK_BITS = 6
export const TABLE_CHUNK = 1 << TABLE_CHUNK_BITS

/** A trie node: at depth 1 its entries are values, above that they are child nodes. */
export type TableNode<T> = readonly (T | TableNode<T> | null)[]

export interface Table<T> {
  /** Number of trie levels; the table can hold indices below `TABLE_CHUNK ** depth`. */
  readonly depth: number
  /** Number of non-null entries. */
  readonly count: number
  readonly root: TableNode<T> | null
}

function capacityOf(depth: number): number {
  return TABLE_CHUNK ** depth
}

function depthFor(capacity: number): number {
  let depth = 1
  while (capacityOf(depth) < capacity) depth++
  return depth
}

function checkIndex(i: number): void {
  if (!Number.isSafeInteger(i) || i < 0) throw new RangeError(`table index ${i} is not a non-negative integer`)
}

/** An empty table sized for indices below `capacity` (it grows on demand). */
export function emptyTable<T>(capacity = TABLE_CHUNK): Table<T> {
  return { depth: depthFor(Math.max(1, capacity)), count: 0, root: null }
}

function digit(i: number, level: number): number {
  // level 0 is the leaf level
  return Math.floor(i / capacityOf(level)) % TABLE_CHUNK
}

export function tableGet<T>(table: Table<T>, i: number): T | null {
  if (i < 0 || i >= capacityOf(table.depth) || !Number.isInteger(i)) return null
  let node: TableNode<T> | null = table.root
  for (let level = table.depth - 1; level > 0 && node !== null; level--) {
    node = node[digit(i, level)] as TableNode<T> | null
  }
  return node === null ? null : ((node[i % TABLE_CHUNK] as T | null) ?? null)
}

export function tableHas<T>(table: Table<T>, i: number): boolean {
  return tableGet(table, i) !== null
}

function emptyNode(): (null)[] {
  return new Array<null>(TABLE_CHUNK).fill(null)
}

/**
 * Writes entry `i` of a table draft (inside an immer recipe). `null` removes the entry.
 * The table grows by whole levels when `i` is beyond its capacity.
 */
export function tableSet<T>(table: Draft<Table<T>>, i: number, value: Draft<T> | T | null): void {
  checkIndex(i)
  const t = table as { depth: number; count: number; root: unknown[] | null }
  if (i >= capacityOf(t.depth)) {
    if (value === null) return
    while (i >= capacityOf(t.depth)) {
      if (t.root !== null) {
        const grown: unknown[] = emptyNode()
        grown[0] = t.root
        t.root = grown
      }
      t.depth++
    }
  }
  if (t.root === null) {
    if (value === null) return
    t.root = emptyNode()
  }
  let node = t.root
  for (let level = t.depth - 1; level > 0; level--) {
    const d = digit(i, level)
    let child = node[d] as unknown[] | null
    if (child === null) {
      if (value === null) return
      child = emptyNode()
      node[d] = child
      child = node[d] as unknown[]
    }
    node = child
  }
  const k = i % TABLE_CHUNK
  const old = node[k] ?? null
  if (old === null && value !== null) t.count++
  else if (old !== null && value === null) t.count--
  node[k] = value
}

/** Calls `fn` for every non-null entry, in index order. */
export function tableForEach<T>(table: Table<T>, fn: (value: T, index: number) => void): void {
  const walk = (node: TableNode<T>, level: number, base: number): void => {
    const span = capacityOf(level)
    for (let k = 0; k < TABLE_CHUNK; k++) {
      const child = node[k]
      if (child === null || child === undefined) continue
      if (level === 0) fn(child as T, base + k)
      else walk(child as TableNode<T>, level - 1, base + k * span)
    }
  }
  if (table.root !== null) walk(table.root, table.depth - 1, 0)
}

export function tableEntries<T>(table: Table<T>): Array<[number, T]> {
  const out: Array<[number, T]> = []
  tableForEach(table, (v, i) => out.push([i, v]))
  return out
}

export function tableKeys<T>(table: Table<T>): number[] {
  const out: number[] = []
  tableForEach(table, (_v, i) => out.push(i))
  return out
}

/** Lifts a root to a greater depth (the shape `tableSet` gives when it grows a table). */
function liftRoot<T>(root: TableNode<T> | null, from: number, to: number): TableNode<T> | null {
  let node = root
  for (let d = from; d < to && node !== null; d++) {
    const grown: Array<TableNode<T> | null> = emptyNode()
    grown[0] = node
    node = grown
  }
  return node
}

/**
 * Calls `fn(index, before, after)` for every index whose entry differs by reference between two
 * versions of a table. Shared subtrees are skipped, so the cost follows the change, not the size.
 */
export function tableDiff<T>(
  before: Table<T>,
  after: Table<T>,
  fn: (index: number, before: T | null, after: T | null) => void,
): void {
  if (before === after) return
  const depth = Math.max(before.depth, after.depth)
  const a = liftRoot(before.root, before.depth, depth)
  const b = liftRoot(after.root, after.depth, depth)
  const walk = (x: TableNode<T> | null, y: TableNode<T> | null, level: number, base: number): void => {
    if (x === y) return
    const span = capacityOf(level)
    for (let k = 0; k < TABLE_CHUNK; k++) {
      const cx = x === null ? null : (x[k] ?? null)
      const cy = y === null ? null : (y[k] ?? null)
      if (cx === cy) continue
      if (level === 0) fn(base + k, cx as T | null, cy as T | null)
      else walk(cx as TableNode<T> | null, cy as TableNode<T> | null, level - 1, base + k * span)
    }
  }
  walk(a, b, depth - 1, 0)
}

/** Builds a table from entries outside any recipe (for genesis states and tests). */
export function tableFrom<T>(entries: Iterable<[number, T]>, capacity = TABLE_CHUNK): Table<T> {
  const t = { depth: depthFor(Math.max(1, capacity)), count: 0, root: null } as Table<T>
  for (const [i, v] of entries) tableSet(t as Draft<Table<T>>, i, v as Draft<T>)
  return t
}
