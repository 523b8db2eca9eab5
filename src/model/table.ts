/**
 * A persistent table indexed by small non-negative integers: a radix trie of plain 32-entry
 * arrays. Used for the frame-slot tables (indexed by slot) and the handle registries (indexed by
 * id). It is plain JSON-able data and never mutated once published: a write copies only the
 * arrays on its path (`TableEditor` copies each at most once per transaction), so a step copies
 * the chunks it touches and never the whole table, and unchanged chunks stay shared between
 * snapshots. `null` means "no entry" (for slot tables: the canonical fresh slot). Entries are
 * removed by writing `null` (never `delete`), so the arrays stay packed.
 */

export const TABLE_CHUNK_BITS = 5
export const TABLE_CHUNK = 1 << TABLE_CHUNK_BITS
const MASK = TABLE_CHUNK - 1

/** A trie node: at depth 1 its entries are values, above that they are child nodes. */
export type TableNode<T> = readonly (T | TableNode<T> | null)[]

export interface Table<T> {
  /** Number of trie levels; the table can hold indices below `TABLE_CHUNK ** depth`. */
  readonly depth: number
  /** Number of non-null entries. */
  readonly count: number
  readonly root: TableNode<T> | null
}

const CAPACITY: readonly number[] = Array.from({ length: 12 }, (_, d) => TABLE_CHUNK ** d)

function capacityOf(depth: number): number {
  return CAPACITY[depth] ?? TABLE_CHUNK ** depth
}

function depthFor(capacity: number): number {
  let depth = 1
  while (capacityOf(depth) < capacity) depth++
  return depth
}

function digit(i: number, level: number): number {
  // level 0 is the leaf level; indices may exceed 2^31, so no bit shifts
  return level === 0 ? i & MASK : Math.floor(i / capacityOf(level)) & MASK
}

/** An empty table sized for indices below `capacity` (it grows on demand). */
export function emptyTable<T>(capacity = TABLE_CHUNK): Table<T> {
  return { depth: depthFor(Math.max(1, capacity)), count: 0, root: null }
}

export function tableGet<T>(table: Table<T>, i: number): T | null {
  if (!(i >= 0 && i < capacityOf(table.depth)) || !Number.isInteger(i)) return null
  let node: TableNode<T> | null = table.root
  for (let level = table.depth - 1; level > 0 && node !== null; level--) {
    node = node[digit(i, level)] as TableNode<T> | null
  }
  return node === null ? null : ((node[i & MASK] as T | null) ?? null)
}

export function tableHas<T>(table: Table<T>, i: number): boolean {
  return tableGet(table, i) !== null
}

function emptyNode(): unknown[] {
  return new Array<null>(TABLE_CHUNK).fill(null)
}

/**
 * Writes into a table within one transaction: the first write below a node copies it, later
 * writes reuse the copy. `done()` gives the new table; the base table is never modified.
 */
export class TableEditor<T> {
  private depth: number
  private count: number
  private root: unknown[] | null
  /** Nodes this editor created (and may therefore mutate). */
  private readonly owned = new Set<unknown[]>()
  private changed = false

  /**
   * @param freezeValue when given (tests), every value written is passed to it and the new trie
   * nodes are frozen too. The `Table` object itself is always frozen by `done()`, which makes a
   * published table opaque to immer (it never walks into a frozen object); freezing the nodes
   * costs microseconds per array in V8, so the replay engine leaves them unfrozen by convention.
   */
  constructor(
    private readonly base: Table<T>,
    private readonly freezeValue: ((v: T) => void) | null = null,
  ) {
    this.depth = base.depth
    this.count = base.count
    this.root = base.root as unknown[] | null
  }

  get(i: number): T | null {
    return tableGet(this.snapshotView(), i)
  }

  private snapshotView(): Table<T> {
    return { depth: this.depth, count: this.count, root: this.root as TableNode<T> | null }
  }

  private own(node: unknown[] | null): unknown[] {
    if (node !== null && this.owned.has(node)) return node
    const copy = node === null ? emptyNode() : node.slice()
    this.owned.add(copy)
    return copy
  }

  /** Writes entry `i`; `null` removes it. The table grows by whole levels when `i` is beyond it. */
  set(i: number, value: T | null): void {
    if (!Number.isSafeInteger(i) || i < 0) throw new RangeError(`table index ${i} is not a non-negative integer`)
    if (i >= capacityOf(this.depth)) {
      if (value === null) return
      while (i >= capacityOf(this.depth)) {
        if (this.root !== null) {
          const grown = this.own(null)
          grown[0] = this.root
          this.root = grown
        }
        this.depth++
      }
    }
    if (this.root === null && value === null) return
    this.root = this.own(this.root)
    let node = this.root
    const path: unknown[][] = [node]
    for (let level = this.depth - 1; level > 0; level--) {
      const d = digit(i, level)
      const child = node[d] as unknown[] | null
      if (child === null && value === null) return
      const mine = this.own(child)
      node[d] = mine
      node = mine
      path.push(node)
    }
    const k = i & MASK
    const old = node[k] ?? null
    if (old === value) return
    if (old === null) this.count++
    else if (value === null) this.count--
    if (value !== null && this.freezeValue !== null) this.freezeValue(value)
    node[k] = value
    this.changed = true
    if (value === null) this.prune(i, path)
  }

  /**
   * After a removal, drops the nodes on `path` (root first) that became empty, so that a table
   * whose ids only grow (the handle registries) does not keep a chunk per 32 ids it ever used.
   */
  private prune(i: number, path: unknown[][]): void {
    for (let p = path.length - 1; p >= 0; p--) {
      if (!path[p]!.every((x) => x === null)) return
      if (p === 0) this.root = null
      else path[p - 1]![digit(i, this.depth - p)] = null
    }
  }

  /** The edited table (the base itself when nothing changed); its new nodes are frozen. */
  done(): Table<T> {
    if (!this.changed) return this.base
    if (this.freezeValue !== null) for (const node of this.owned) Object.freeze(node)
    this.owned.clear()
    return Object.freeze({ depth: this.depth, count: this.count, root: this.root as TableNode<T> | null })
  }
}

/** A copy of `table` with entry `i` set (one write; use a `TableEditor` for several). */
export function tableWith<T>(table: Table<T>, i: number, value: T | null): Table<T> {
  const ed = new TableEditor(table)
  ed.set(i, value)
  return ed.done()
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

/**
 * Calls `fn` for every leaf chunk (the arrays of up to `TABLE_CHUNK` entries, `null` for none), with
 * the index of its first entry. A published chunk is never mutated, so a caller may cache what it
 * derives from one (keyed by the array) for every snapshot that shares it.
 */
export function tableForEachLeaf<T>(table: Table<T>, fn: (leaf: readonly (T | null)[], base: number) => void): void {
  const walk = (node: TableNode<T>, level: number, base: number): void => {
    if (level === 0) {
      fn(node as readonly (T | null)[], base)
      return
    }
    const span = capacityOf(level)
    for (let k = 0; k < TABLE_CHUNK; k++) {
      const child = node[k]
      if (child !== null && child !== undefined) walk(child as TableNode<T>, level - 1, base + k * span)
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

/** Lifts a root to a greater depth (the shape a growing write gives). */
function liftRoot<T>(root: TableNode<T> | null, from: number, to: number): TableNode<T> | null {
  let node = root
  for (let d = from; d < to && node !== null; d++) {
    const grown = emptyNode()
    grown[0] = node
    node = grown as TableNode<T>
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

/** Builds a table from entries (for genesis states and tests). */
export function tableFrom<T>(entries: Iterable<[number, T]>, capacity = TABLE_CHUNK): Table<T> {
  const ed = new TableEditor<T>(emptyTable(capacity))
  for (const [i, v] of entries) ed.set(i, v)
  return ed.done()
}

/** Deep-freezes plain data (objects and arrays); typed arrays are left as they are. */
export function deepFreeze<V>(value: V): V {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value
  for (const v of Object.values(value)) deepFreeze(v)
  return Object.freeze(value)
}
