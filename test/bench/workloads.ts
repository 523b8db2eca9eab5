/**
 * Issue #7's page-table workloads, run through the model and through a mutable, unchecked page
 * table written for the benchmark only (`MutablePageTable`: what the same work costs in this
 * language without immutability, ghost state or checking), on the same events in the same process:
 *
 *   (1) `random`: map 4 KiB / map 2 MiB / unmap 4 KiB / unmap 2 MiB / protect / query at random
 *       places of a 1 GiB VA window, physical addresses drawn from 65,536 frames;
 *   (2) `sequential`: the same mix, each operation at or just after the previous one's place.
 *
 * Every operation is two API events on one `CursorMut` over `[0, 1 GiB)` of an untracked page
 * table: `cursor.jump` to the place, then `cursor_mut.map` / `cursor_mut.unmap` /
 * `cursor_mut.protect_next` / `cursor.query`. The generator tracks what is mapped (per 2 MiB
 * region: nothing, a huge leaf, or a level-1 node with its 4 KiB pages) so that every event is
 * valid. After a run the baseline and the model must agree — every unmap count, every query, and
 * a page walk of every 4 KiB page of the window — so the baseline does the same work.
 */
import { applyCall, eventSpec, type InternalStep, type ModelEvent } from '../../reducers/index.js'
import { pageSize } from '../../src/arch/constants.js'
import { newUser, PageFlags, type PageProperty } from '../../src/arch/page_prop.js'
import { Checker } from '../../src/check/checker.js'
import { defaultRegistry } from '../../src/check/rules/index.js'
import type { CheckMode } from '../../src/check/rule.js'
import { Rng } from '../../src/log/gen.js'
import { genesis } from '../../src/model/genesis.js'
import { setSnapshotFreezing } from '../../src/model/immer.js'
import { pageTableHandle } from '../../src/model/pt_tables.js'
import { pageWalk } from '../../src/model/pt_walk.js'
import type { Snapshot } from '../../src/model/snapshot.js'

const K4 = pageSize(1)
const M2 = pageSize(2)
const REGIONS = 512 // 2 MiB regions of the 1 GiB window
const FRAMES = 65_536
const PROP_RW = newUser(PageFlags.RW)
const PROP_R = newUser(PageFlags.R)

export type WorkloadName = 'random' | 'sequential'

// ---- the generator -----------------------------------------------------------------------------

/** Maps `pages` 4 KiB pages in order from `vaStart` (one jump, then one map per page: a map moves the cursor on). */
export function fillEvents(pages: number, cursor: number, vaStart: number): ModelEvent[] {
  const out: ModelEvent[] = [{ type: 'cursor.jump', cursor, va: vaStart } as ModelEvent]
  for (let p = 0; p < pages; p++) out.push({ type: 'cursor_mut.map', cursor, item: { pa: (p % FRAMES) * K4, level: 1, prop: PROP_RW } } as ModelEvent)
  return out
}

/** `count` operations (2 events each) of a workload in `[0, 1 GiB)`, valid in order while nothing else maps there. */
export function workloadEvents(name: WorkloadName, count: number, seed: number, cursor: number): ModelEvent[] {
  const rng = new Rng(seed)
  // per region: 0 = nothing, 1 = a huge leaf, 2 = a level-1 node (with `pages[r]` mapped)
  const kind = new Uint8Array(REGIONS)
  const pages: Array<Set<number>> = Array.from({ length: REGIONS }, () => new Set())
  const out: ModelEvent[] = []
  let place = 0 // sequential: the current 4 KiB page of the window
  const region = (): number => (name === 'random' ? rng.int(REGIONS) : Math.floor(place / 512))
  const page = (r: number): number => (name === 'random' ? rng.int(512) : r === Math.floor(place / 512) ? place % 512 : 0)
  const advance = (to: number): void => {
    place = to % (REGIONS * 512)
  }
  const op = (va: number, e: ModelEvent): void => {
    out.push({ type: 'cursor.jump', cursor, va } as ModelEvent, e)
  }
  let attempts = 0
  while (out.length < 2 * count && attempts++ < 50 * count) {
    const roll = rng.int(100)
    const r = region()
    if (roll < 40) {
      // map 4 KiB: not inside a huge leaf, at a page not mapped yet
      if (kind[r] === 1) {
        advance((r + 1) * 512)
        continue
      }
      let p = page(r)
      for (let k = 0; k < 512 && pages[r]!.has(p); k++) p = (p + 1) % 512
      if (pages[r]!.has(p)) {
        advance((r + 1) * 512)
        continue
      }
      op((r * 512 + p) * K4, { type: 'cursor_mut.map', cursor, item: { pa: rng.int(FRAMES) * K4, level: 1, prop: PROP_RW } } as ModelEvent)
      kind[r] = 2
      pages[r]!.add(p)
      advance(r * 512 + p + 1)
    } else if (roll < 45) {
      // map 2 MiB: a region that has never held a node
      if (kind[r] !== 0) {
        advance((r + 1) * 512)
        continue
      }
      op(r * M2, { type: 'cursor_mut.map', cursor, item: { pa: rng.int(FRAMES / 512) * M2, level: 2, prop: PROP_RW } } as ModelEvent)
      kind[r] = 1
      advance((r + 1) * 512)
    } else if (roll < 65) {
      // unmap 4 KiB: a mapped page of a node
      if (kind[r] !== 2 || pages[r]!.size === 0) {
        advance((r + 1) * 512)
        continue
      }
      const mapped = [...pages[r]!]
      const p = name === 'random' ? mapped[rng.int(mapped.length)]! : Math.min(...mapped)
      op((r * 512 + p) * K4, { type: 'cursor_mut.unmap', cursor, len: K4 } as ModelEvent)
      pages[r]!.delete(p)
      advance(r * 512 + p + 1)
    } else if (roll < 70) {
      // unmap 2 MiB: a whole region (its node or huge leaf goes)
      if (kind[r] === 0) {
        advance((r + 1) * 512)
        continue
      }
      op(r * M2, { type: 'cursor_mut.unmap', cursor, len: M2 } as ModelEvent)
      kind[r] = 0
      pages[r]!.clear()
      advance((r + 1) * 512)
    } else if (roll < 85) {
      // protect the first mapping of a region's window
      op(r * M2, { type: 'cursor_mut.protect_next', cursor, len: M2, prop: rng.chance(0.5) ? PROP_R : PROP_RW } as ModelEvent)
      advance((r + 1) * 512)
    } else {
      const p = page(r)
      op((r * 512 + p) * K4, { type: 'cursor.query', cursor } as ModelEvent)
      advance(r * 512 + p + 1)
    }
  }
  return out
}

// ---- the baseline --------------------------------------------------------------------------------

/** A leaf entry of the baseline: a physical address, its level (1 = 4 KiB) and its property. */
export interface Leaf {
  pa: number
  level: number
  prop: PageProperty
}
type Slot = Leaf | PtNode | undefined
interface PtNode {
  readonly entries: Slot[]
}

const isNode = (x: Slot): x is PtNode => x !== undefined && 'entries' in x
const newNode = (): PtNode => ({ entries: new Array<Slot>(512).fill(undefined) })
const indexAt = (va: number, level: number): number => Math.floor(va / pageSize(level)) % 512

/** A 4-level page table in mutable arrays, with a cursor: the events' semantics, nothing else. */
export class MutablePageTable {
  readonly root = newNode()
  va = 0

  apply(e: ModelEvent): unknown {
    const ev = e as ModelEvent & { va?: number; len?: number; item?: Leaf; prop?: PageProperty }
    switch (e.type) {
      case 'cursor.jump':
        this.va = ev.va!
        return null
      case 'cursor_mut.map':
        this.map(ev.item!)
        return null
      case 'cursor_mut.unmap':
        return this.unmapNext(ev.len!)
      case 'cursor_mut.protect_next':
        return this.protectNext(ev.len!, ev.prop!)?.va ?? null
      case 'cursor.query': {
        const l = this.walk(this.va)
        return l === null ? null : l.pa + (this.va % pageSize(l.level))
      }
      default:
        throw new Error(`the baseline has no ${e.type}`)
    }
  }

  /** Maps `item` at the cursor (making the nodes on the way) and moves the cursor past it. */
  map(item: Leaf): void {
    let node = this.root
    for (let level = 4; level > item.level; level--) {
      const i = indexAt(this.va, level)
      let next = node.entries[i]
      if (!isNode(next)) node.entries[i] = next = newNode()
      node = next
    }
    node.entries[indexAt(this.va, item.level)] = { pa: item.pa, level: item.level, prop: item.prop }
    this.va += pageSize(item.level)
  }

  /** Clears `[va, va + len)` at the cursor and moves past it; OSTD's count of frames unmapped. `onLeaf` sees every leaf taken out. */
  unmapNext(len: number, onLeaf?: (leaf: Leaf) => void): number {
    const n = this.unmap(this.root, 4, this.va, this.va + len, onLeaf)
    this.va += len
    return n
  }

  /** Gives the first leaf of `[va, va + len)` the property `prop`; the cursor moves past it (or past the window when there is none). */
  protectNext(len: number, prop: PageProperty): { leaf: Leaf; va: number } | null {
    const found = this.nextLeaf(this.root, 4, this.va, this.va + len)
    if (found === null) {
      this.va += len
      return null
    }
    found.leaf.prop = prop
    this.va = found.va + pageSize(found.leaf.level)
    return found
  }

  /**
   * Makes the nodes down the path of `[vaStart, vaEnd)` while one entry covers all of it: OSTD's
   * cursor creation locks (and so creates) the lowest node covering its range.
   */
  makePath(vaStart: number, vaEnd: number): void {
    let node = this.root
    for (let level = 4; level > 1 && Math.floor(vaStart / pageSize(level)) === Math.floor((vaEnd - 1) / pageSize(level)); level--) {
      const i = indexAt(vaStart, level)
      let next = node.entries[i]
      if (next === undefined) node.entries[i] = next = newNode()
      if (!isNode(next)) return
      node = next
    }
  }

  /** The leaf mapping `va`, or null. */
  walk(va: number): Leaf | null {
    let node = this.root
    for (let level = 4; level >= 1; level--) {
      const x = node.entries[indexAt(va, level)]
      if (x === undefined) return null
      if (!isNode(x)) return x
      node = x
    }
    return null
  }

  /** The slot `va` falls in: its leaf (null when absent) and the level of the entry the walk ended at. */
  slot(va: number): { leaf: Leaf | null; level: number } {
    let node = this.root
    for (let level = 4; level >= 1; level--) {
      const x = node.entries[indexAt(va, level)]
      if (x === undefined) return { leaf: null, level }
      if (!isNode(x)) return { leaf: x, level }
      node = x
    }
    return { leaf: null, level: 1 }
  }

  /** Clears `[from, to)` under `node` (at `level`); the number of 4 KiB frames unmapped. */
  private unmap(node: PtNode, level: number, from: number, to: number, onLeaf?: (leaf: Leaf) => void): number {
    const size = pageSize(level)
    const base = from - (from % (size * 512))
    let n = 0
    for (let i = indexAt(from, level); i < 512; i++) {
      const start = base + i * size
      if (start >= to) break
      const x = node.entries[i]
      if (x === undefined) continue
      if (start >= from && start + size <= to) {
        // OSTD's count: a leaf taken whole is one Mapped fragment, huge or not; a sub-tree
        // counts the present entries of its level-1 nodes (behaviour.md §2.5.9, `num_frames`)
        if (isNode(x)) n += this.count(x, level - 1, onLeaf)
        else {
          n += 1
          onLeaf?.(x)
        }
        node.entries[i] = undefined
      } else if (isNode(x)) n += this.unmap(x, level - 1, Math.max(from, start), Math.min(to, start + size), onLeaf)
      else throw new Error('the workloads never unmap part of a huge leaf')
    }
    return n
  }

  /** Present entries of the level-1 nodes under `node` (at `level`); `onLeaf` sees every leaf under it. */
  private count(node: PtNode, level: number, onLeaf?: (leaf: Leaf) => void): number {
    let n = 0
    for (const x of node.entries) {
      if (x === undefined) continue
      if (isNode(x)) n += this.count(x, level - 1, onLeaf)
      else {
        if (level === 1) n += 1
        onLeaf?.(x)
      }
    }
    return n
  }

  /** The first leaf under `node` (at `level`) in `[from, to)`, with its address: what `protect_next` changes. */
  private nextLeaf(node: PtNode, level: number, from: number, to: number): { leaf: Leaf; va: number } | null {
    const size = pageSize(level)
    const base = from - (from % (size * 512))
    for (let i = indexAt(from, level); i < 512; i++) {
      const start = base + i * size
      if (start >= to) break
      const x = node.entries[i]
      if (x === undefined) continue
      if (!isNode(x)) return { leaf: x, va: start }
      const r = this.nextLeaf(x, level - 1, Math.max(from, start), Math.min(to, start + size))
      if (r !== null) return r
    }
    return null
  }
}

// ---- running -------------------------------------------------------------------------------------

/** Internal steps under `steps`, recursively (the primitive events of an API event). */
function countPrimitive(steps: readonly InternalStep[]): number {
  let n = 0
  for (const s of steps) n += 1 + countPrimitive(s.steps)
  return n
}

export interface WorkloadRun {
  readonly mode: CheckMode
  readonly events: number
  readonly primitive: number
  readonly ms: number
  /** Time in `Checker.check` per API event (µs), sorted ascending. */
  readonly checkUs: readonly number[]
  readonly violations: number
  readonly final: Snapshot
  readonly results: readonly unknown[]
}

/**
 * The model's set-up: an untracked page table and a CursorMut over `[0, vaEnd)` (not timed). The
 * workloads' operations stay in `[0, 1 GiB)`; a wider window lets `flat` map pages beyond it.
 */
export function setUp(vaEnd = REGIONS * M2): { s: Snapshot; cursor: number; pageTable: number } {
  let s = genesis({ physicalMemory: 1 << 24 })
  const call = (e: ModelEvent): unknown => {
    const out = applyCall(eventSpec(e.type)!, s, e)
    s = out.snapshot
    return out.result
  }
  const pageTable = (call({ type: 'page_table.new', config: 'untracked' } as ModelEvent) as { pageTable: number }).pageTable
  const cursor = (call({ type: 'page_table.cursor_mut', pageTable, vaStart: 0, vaEnd } as ModelEvent) as { value: { cursor: number } }).value.cursor
  return { s, cursor, pageTable }
}

/** Replays `events` from `start` through the model, checking each in `mode` (timed: the reductions and the checks). */
export function runModel(events: readonly ModelEvent[], mode: CheckMode, start: Snapshot): WorkloadRun {
  setSnapshotFreezing(false)
  const checker = new Checker(defaultRegistry(), mode)
  let s = start
  let primitive = 0
  let violations = 0
  const checkUs: number[] = []
  const results: unknown[] = []
  const t0 = performance.now()
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!
    const out = applyCall(eventSpec(e.type)!, s, e)
    const step: InternalStep = { event: e, before: s, after: out.snapshot, result: out.result, steps: out.steps ?? [] }
    primitive += 1 + countPrimitive(step.steps)
    if (mode !== 'off') {
      const c0 = performance.now()
      violations += checker.check(step, i).length
      checkUs.push((performance.now() - c0) * 1000)
    }
    results.push(out.result)
    s = out.snapshot
  }
  const ms = performance.now() - t0
  return { mode, events: events.length, primitive, ms, checkUs: checkUs.sort((a, b) => a - b), violations, final: s, results }
}

/** Applies `events` to a baseline (made before the clock starts): its results and the time taken. */
export function timeBaseline(events: readonly ModelEvent[], baseline: { apply(e: ModelEvent): unknown }): { ms: number; results: unknown[] } {
  const results: unknown[] = []
  const t0 = performance.now()
  for (const e of events) results.push(baseline.apply(e))
  return { ms: performance.now() - t0, results }
}

/** The events on a fresh `MutablePageTable`. */
export function runBaseline(events: readonly ModelEvent[]): { ms: number; table: MutablePageTable; results: unknown[] } {
  const table = new MutablePageTable()
  return { ...timeBaseline(events, table), table }
}

/** Throws unless the model and the baseline agree on every unmap count, every query and every page of the window. */
export function crossCheck(events: readonly ModelEvent[], model: WorkloadRun, baseline: { table: MutablePageTable; results: unknown[] }, pageTable: number): void {
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!
    const m = model.results[i] as { ok?: boolean; value?: unknown } | number | null
    const b = baseline.results[i]
    if (e.type === 'cursor_mut.unmap' && m !== b) throw new Error(`event ${i}: the model unmapped ${JSON.stringify(m)} frames, the baseline ${String(b)}`)
    if (e.type === 'cursor.query') {
      // the item at the place (the model: a leaf with its physical address; the baseline: the address at va)
      const item = (m as { value: readonly [unknown, { pa: number; level: number } | null] }).value[1]
      const jump = events[i - 1] as ModelEvent & { va: number }
      const pa = item === null ? null : item.pa + (jump.va % pageSize(item.level))
      if (pa !== b) throw new Error(`event ${i}: query at ${jump.va}: the model finds ${JSON.stringify(item)}, the baseline ${String(b)}`)
    }
  }
  const root = pageTableHandle(model.final, pageTable)!.rootPaddr
  for (let va = 0; va < REGIONS * M2; va += K4) {
    const w = pageWalk(model.final, root, va)
    const leaf = baseline.table.walk(va)
    const pa = leaf === null ? null : leaf.pa + (va % pageSize(leaf.level))
    if ((w?.pa ?? null) !== pa) throw new Error(`page ${va}: the model maps ${JSON.stringify(w)}, the baseline ${String(pa)}`)
  }
}
