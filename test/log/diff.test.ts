/**
 * `diff(a, b)` (src/log/diff.ts) and its text form (src/log/diff_render.ts) on real histories:
 * frames allocated / cloned / dropped, readers and writers, a page-table map through a cursor, a
 * split of a huge page, take_next, a stray page table — semantic lists checked item by item, the
 * text checked with the diff snapshot serializer (test/log/__snapshots__/diff.test.ts.snap), the
 * windowed mapping diff checked against a brute-force comparison of the whole views over random
 * histories, and the structural walk checked to find value changes only.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { createModel, type Model } from '../../src/api/model.js'
import { unwrap } from '../../src/api/result.js'
import { frameToIndex, PAGE_SIZE, pageSize, REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { History } from '../../src/log/history.js'
import { generateHistory } from '../../src/log/gen.js'
import { CURSOR_OPS, PAGE_TABLE_OPS } from '../../src/log/gen_pt.js'
import { diff, isEmptyDiff, type MappingItem, type SnapshotDiff } from '../../src/log/diff.js'
import { foldRuns, hex, propName, renderDiff } from '../../src/log/diff_render.js'
import { setSnapshotFreezing, snapshotFreezing } from '../../src/model/immer.js'
import { viewOf } from '../../src/model/pt_view.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableForEach, tableGet } from '../../src/model/table.js'
import { setupOstdTesting } from '../../src/testing/index.js'

beforeAll(() => setupOstdTesting())

const RW = newUser(PageFlags.RW)
const RX = newUser(PageFlags.RX)
const K4 = PAGE_SIZE
const M2 = pageSize(2)

function newPt(m: Model, config: 'user' | 'untracked' = 'user'): number {
  return m.call<{ pageTable: number }>({ type: 'page_table.new', config }).pageTable
}

function openCursor(m: Model, pageTable: number, vaStart: number, vaEnd: number): number {
  return m.call<{ value: { cursor: number } }>({ type: 'page_table.cursor_mut', pageTable, vaStart, vaEnd }).value.cursor
}

function allocFrame(m: Model): { frame: number; paddr: number } {
  return m.call<{ value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value
}

/** The diff of the last dispatched event. */
function lastDiff(m: Model): SnapshotDiff {
  const step = m.history.at(m.history.length - 1)
  return diff(step.before, step.after)
}

describe('identical and unchanged snapshots', () => {
  it('the same snapshot: identical, nothing listed, rendered as such', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const d = diff(m.state, m.state)
    expect(d.identical).toBe(true)
    expect(isEmptyDiff(d)).toBe(true)
    expect(renderDiff(d)).toBe('(identical snapshots)')
  })

  it('a deep copy (new objects, same values) has no structural and no semantic change', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const f = allocFrame(m)
    const pt = newPt(m)
    const c = openCursor(m, pt, 0, 4 * K4)
    m.call({ type: 'cursor_mut.map', cursor: c, item: { frame: f.frame, prop: RW } })
    const copy = structuredClone(m.state) as Snapshot
    const d = diff(m.state, copy)
    expect(d.identical).toBe(false)
    expect(isEmptyDiff(d)).toBe(true)
    expect(renderDiff(d)).toBe('(no change)')
  })
})

describe('structural sharing', () => {
  it('parts shared by the two snapshots are skipped by reference: a cursor jump never reads the slot tables or memory', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = newPt(m)
    const c = openCursor(m, pt, 0, 4 * K4)
    const f = allocFrame(m)
    m.call({ type: 'cursor_mut.map', cursor: c, item: { frame: f.frame, prop: RW } })
    const step = m.dispatch({ type: 'cursor.jump', cursor: c, va: 0 })
    const reads: string[] = []
    const trap = <T extends object>(name: string, target: T): T =>
      new Proxy(target, {
        get(t, key, receiver) {
          reads.push(`${name}.${String(key)}`)
          return Reflect.get(t, key, receiver) as unknown
        },
      })
    const shared = { metaSlots: trap('metaSlots', step.before.metaSlots), memory: trap('memory', step.before.memory), regions: trap('regions', step.before.regions), frames: trap('frames', step.before.frames) }
    expect(step.after.metaSlots).toBe(step.before.metaSlots)
    const d = diff({ ...step.before, ...shared }, { ...step.after, ...shared })
    expect(reads).toEqual([])
    expect(d.structural.map((x) => x.path)).toEqual(['pt.cursors[0].va', 'pt.cursors[0].owner.va', 'pt.cursors[0].owner.continuations[0].idx'])
  })
})

describe('frames', () => {
  it('alloc_frame: one frame allocated (rc 1, usage Frame), a handle, an obligation; the structural paths of exactly that', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const { paddr } = allocFrame(m)
    const d = lastDiff(m)
    const slot = frameToIndex(paddr)
    expect(d.semantic.framesAllocated).toEqual([{ slot, paddr, refCount: 1, usage: 'Frame', storage: 'Frame' }])
    expect(d.semantic.handles).toEqual([{ registry: 'frames', id: 0, change: 'created', before: null, after: { paddr } }])
    expect(d.semantic.slotOwners).toEqual([{ slot, paddr, pathsAdded: [], pathsRemoved: [], usage: { before: 'Unused', after: 'Frame' }, obligations: { before: 0, after: 1 } }])
    for (const k of ['framesFreed', 'refCounts', 'mappingsAdded', 'ptesWritten', 'nodesAllocated', 'treeRecords', 'cursors', 'vmIos'] as const) expect(d.semantic[k]).toEqual([])
    expect(d.structural.map((c) => c.path)).toEqual(['counters.frame', `metaSlots[${slot}]`, 'allocator.bumpIndex', `regions.slotOwners[${slot}]`, `regions.frameObligations[${slot}]`, 'frames[0]'])
    expect(d).toMatchSnapshot()
  })

  it('clone then drops: ref count 1 → 2 → 1, then the frame is freed (was rc 1)', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const f = unwrap(m.frames.allocFrame())
    const slot = frameToIndex(f.startPaddr())
    const g = f.clone()
    expect(lastDiff(m).semantic.refCounts).toEqual([{ slot, paddr: slot * K4, before: 1, after: 2 }])
    g.drop()
    expect(lastDiff(m).semantic.refCounts).toEqual([{ slot, paddr: slot * K4, before: 2, after: 1 }])
    expect(lastDiff(m).semantic.framesFreed).toEqual([])
    f.drop()
    const d = lastDiff(m)
    expect(d.semantic.refCounts).toEqual([])
    expect(d.semantic.framesFreed).toEqual([{ slot, paddr: slot * K4, refCount: 1, usage: 'Frame', storage: 'Frame' }])
    expect(d.semantic.handles).toMatchObject([{ registry: 'frames', id: 0, change: 'dropped' }])
    expect(d).toMatchSnapshot()
  })

  it('a segment of 4 frames: the allocation lines fold into one', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    unwrap(m.frames.allocSegment(4))
    const d = lastDiff(m)
    expect(d.semantic.framesAllocated.map((f) => f.paddr)).toEqual([0, K4, 2 * K4, 3 * K4])
    expect(renderDiff(d, { structural: false })).toContain('+ 0x0..0x3000 rc 1 Frame (Frame) (×4)')
  })

  it('writes to frame memory show as word runs, a long run as one digest line', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const f = unwrap(m.frames.allocFrame())
    f.writeBytes(0x10, new Uint8Array([1, 2, 3]))
    expect(lastDiff(m).structural).toEqual([{ path: 'memory[0]+0x010', before: '0x0000000000000000', after: '0x0000000000030201' }])
    f.writeBytes(0x100, new Uint8Array(64).fill(0xff))
    const [run] = lastDiff(m).structural
    expect(run!.path).toBe('memory[0]+0x100..0x140')
    expect(run!.before).toMatch(/^<64 bytes, fnv [0-9a-f]{8}>$/)
    expect(run!.after).not.toBe(run!.before)
    // PTE words are only reported for page-table nodes
    expect(lastDiff(m).semantic.ptesWritten).toEqual([])
  })
})

describe('readers and writers', () => {
  it('created, advanced by a copy, dropped', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const a = unwrap(m.frames.allocFrame())
    const b = unwrap(m.frames.allocFrame())
    const r = a.reader()
    expect(lastDiff(m).semantic.vmIos).toEqual([{ id: 0, change: 'created', kind: 'Reader', cursor: a.startPaddr(), end: a.startPaddr() + K4 }])
    const w = b.writer()
    r.limit(16)
    expect(r.read(w)).toBe(16)
    const d = lastDiff(m)
    expect(d.semantic.vmIos).toEqual([
      { id: 0, change: 'advanced', kind: 'Reader', cursor: a.startPaddr() + 16, end: a.startPaddr() + 16, from: { cursor: a.startPaddr(), end: a.startPaddr() + 16 } },
      { id: 1, change: 'advanced', kind: 'Writer', cursor: b.startPaddr() + 16, end: b.startPaddr() + K4, from: { cursor: b.startPaddr(), end: b.startPaddr() + K4 } },
    ])
    expect(renderDiff(d, { structural: false })).toMatchInlineSnapshot(`
      "readers / writers (2):
        ~ #0 Reader [0x0, 0x10) → [0x10, 0x10)
        ~ #1 Writer [0x1000, 0x2000) → [0x1010, 0x2000)"
    `)
    r.drop()
    expect(lastDiff(m).semantic.vmIos).toMatchObject([{ id: 0, change: 'dropped', kind: 'Reader' }])
  })
})

describe('page tables', () => {
  it('creating a cursor allocates the missing nodes on its way down: nodes, PTE words, tree records, paths, the cursor', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = newPt(m)
    const root = tableGet(m.state.pt.tables, pt)!.rootPaddr
    openCursor(m, pt, 0, 4 * K4)
    const d = lastDiff(m)
    expect(d.semantic.nodesAllocated.map((n) => [n.level, n.config])).toEqual([
      [3, 'user'],
      [2, 'user'],
      [1, 'user'],
    ])
    const [l3, l2, l1] = d.semantic.nodesAllocated.map((n) => n.paddr)
    expect(d.semantic.ptesWritten.map((p) => [p.paddr, p.idx, p.level])).toEqual([
      [root, 0, 4],
      [l3, 0, 3],
      [l2, 0, 2],
    ])
    expect(BigInt(d.semantic.ptesWritten[0]!.after) & ~0xfffn).toBe(BigInt(l3!))
    expect(d.semantic.treeRecords.map((r) => [r.change, r.path])).toEqual([
      ['changed', ''],
      ['added', '0'],
      ['added', '0.0'],
      ['added', '0.0.0'],
    ])
    expect(d.semantic.slotOwners.map((o) => o.pathsAdded)).toEqual([[`${root / K4}:0`], [`${root / K4}:0.0`], [`${root / K4}:0.0.0`]])
    expect(d.semantic.cursors).toEqual([{ id: 0, change: 'created', kind: 'CursorMut', pageTable: pt, range: { start: 0, end: 4 * K4 }, va: 0, level: 1 }])
    expect(d.semantic.mappingsAdded).toEqual([])
    expect(l1).toBeDefined()
  })

  it('map through a cursor: one mapping added, one PTE written, the path recorded, the handle consumed, the cursor moved', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = newPt(m)
    const c = openCursor(m, pt, 0, 4 * K4)
    const f = allocFrame(m)
    const root = tableGet(m.state.pt.tables, pt)!.rootPaddr / K4
    m.call({ type: 'cursor_mut.map', cursor: c, item: { frame: f.frame, prop: RW } })
    const d = lastDiff(m)
    expect(d.semantic.mappingsAdded).toEqual([{ pageTable: pt, root, config: 'user', va: 0, pageSize: K4, pa: f.paddr, prop: RW }])
    expect(d.semantic.mappingsRemoved).toEqual([])
    expect(d.semantic.ptesWritten).toHaveLength(1)
    expect(d.semantic.ptesWritten[0]).toMatchObject({ idx: 0, level: 1, before: '0x0000000000000000' })
    expect(d.semantic.slotOwners).toEqual([{ slot: frameToIndex(f.paddr), paddr: f.paddr, pathsAdded: [`${root}:0.0.0.0`], pathsRemoved: [], obligations: { before: 1, after: 0 } }])
    expect(d.semantic.refCounts).toEqual([]) // the reference moved from the handle into the PTE
    expect(d.semantic.handles).toEqual([{ registry: 'frames', id: f.frame, change: 'dropped', before: { paddr: f.paddr }, after: null }])
    expect(d.semantic.cursors).toMatchObject([{ id: c, change: 'moved', va: K4, level: 1, from: { va: 0, level: 1 } }])
    expect(d.semantic.treeRecords).toMatchObject([{ change: 'changed', level: 1, fields: ['metaOwn'], entries: [{ idx: 0, before: null, after: { kind: 'frame' } }] }])
    expect(d).toMatchSnapshot()
    // the PTE view agrees on a clean history
    const step = m.history.at(m.history.length - 1)
    expect(diff(step.before, step.after, { view: 'pte' }).semantic.mappingsAdded).toEqual(d.semantic.mappingsAdded)
  })

  it('replacing a mapping: a changed mapping (same VA and size) with its old and new target and property', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = newPt(m)
    const c = openCursor(m, pt, 0, 4 * K4)
    const a = allocFrame(m)
    const b = allocFrame(m)
    m.call({ type: 'cursor_mut.map', cursor: c, item: { frame: a.frame, prop: RW } })
    m.call({ type: 'cursor.jump', cursor: c, va: 0 })
    m.call({ type: 'cursor_mut.map', cursor: c, item: { frame: b.frame, prop: RX } })
    const d = lastDiff(m)
    expect(d.semantic.mappingsAdded).toEqual([])
    expect(d.semantic.mappingsRemoved).toEqual([])
    expect(d.semantic.mappingsChanged).toMatchObject([{ pageTable: pt, va: 0, pageSize: K4, before: { pa: a.paddr, prop: RW }, after: { pa: b.paddr, prop: RX } }])
    expect(renderDiff(d, { structural: false })).toContain(`~ pt#${pt} 0x0 4K: ${hex(a.paddr)} RW- U WB → ${hex(b.paddr)} R-X U WB`)
  })

  it('a split: the 2 MiB mapping removed, 512 4 KiB mappings added (one replaced), a level-1 node allocated with 512 PTE words', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = newPt(m, 'untracked')
    const c = openCursor(m, pt, 0, 2 * M2)
    m.call({ type: 'cursor_mut.map', cursor: c, item: { pa: 2 * M2, level: 2, prop: RW } })
    m.call({ type: 'cursor.jump', cursor: c, va: 0x5000 })
    m.call({ type: 'cursor_mut.map', cursor: c, item: { pa: 0x7000, level: 1, prop: RX } })
    const d = lastDiff(m)
    expect(d.semantic.mappingsRemoved).toMatchObject([{ va: 0, pageSize: M2, pa: 2 * M2 }])
    expect(d.semantic.mappingsAdded).toHaveLength(512)
    expect(d.semantic.mappingsAdded[5]).toMatchObject({ va: 0x5000, pageSize: K4, pa: 0x7000, prop: RX })
    expect(d.semantic.mappingsAdded.filter((x) => x.va !== 0x5000).every((x) => x.pa === 2 * M2 + x.va && x.pageSize === K4)).toBe(true)
    expect(d.semantic.nodesAllocated).toMatchObject([{ level: 1, config: 'untracked' }])
    expect(d.semantic.ptesWritten).toHaveLength(513)
    expect(d.semantic.treeRecords.map((r) => r.change)).toEqual(['changed', 'added'])
    // plain data: JSON round-trips it exactly
    expect(JSON.parse(JSON.stringify(d))).toEqual(d)
    expect(d).toMatchSnapshot()
  })

  it('take_next: the mapping removed, its path dropped from the slot owner, a new Frame handle', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = newPt(m)
    const c = openCursor(m, pt, 0, 4 * K4)
    const f = allocFrame(m)
    m.call({ type: 'cursor_mut.map', cursor: c, item: { frame: f.frame, prop: RW } })
    m.call({ type: 'cursor.jump', cursor: c, va: 0 })
    m.call({ type: 'cursor_mut.take_next', cursor: c, len: 4 * K4 })
    const d = lastDiff(m)
    expect(d.semantic.mappingsRemoved).toMatchObject([{ va: 0, pa: f.paddr, pageSize: K4 }])
    expect(d.semantic.slotOwners).toMatchObject([{ paddr: f.paddr, pathsAdded: [], pathsRemoved: [expect.stringMatching(/:0\.0\.0\.0$/)] }])
    expect(d.semantic.handles).toMatchObject([{ registry: 'frames', change: 'created', after: { paddr: f.paddr } }])
    expect(d.semantic.framesFreed).toEqual([])
    expect(d).toMatchSnapshot()
  })

  it('a 2 MiB map over a level-1 node: the node is made stray, its mappings removed; dropping its handle frees it', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = newPt(m, 'untracked')
    const c = openCursor(m, pt, 0, 2 * M2)
    for (const pa of [0x1000, 0x2000, 0x3000]) m.call({ type: 'cursor_mut.map', cursor: c, item: { pa, level: 1, prop: RW } })
    m.call({ type: 'cursor.jump', cursor: c, va: 0 })
    const r = m.call<{ error: { pt: number } }>({ type: 'cursor_mut.map', cursor: c, item: { pa: 4 * M2, level: 2, prop: RW } })
    const d = lastDiff(m)
    expect(d.semantic.nodesStray).toMatchObject([{ before: false, after: true }])
    const node = d.semantic.nodesStray[0]!.paddr
    expect(d.semantic.mappingsRemoved.map((x) => x.va)).toEqual([0, K4, 2 * K4])
    expect(d.semantic.mappingsAdded).toMatchObject([{ va: 0, pageSize: M2, pa: 4 * M2 }])
    m.call({ type: 'page_table_node.drop', node: r.error.pt })
    const freed = lastDiff(m)
    expect(freed.semantic.nodesFreed).toMatchObject([{ paddr: node, level: 1 }])
    expect(freed.semantic.framesFreed).toMatchObject([{ paddr: node, usage: 'PageTable', storage: 'PTNode' }])
    expect(freed.semantic.treeRecords).toMatchObject([{ change: 'removed', slot: node / K4 }])
    expect(freed.semantic.mappingsRemoved).toEqual([]) // a stray sub-tree is no longer in any view
  })

  it('a new page table and its drop: every mapping of its view appears and disappears', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const pt = newPt(m, 'untracked')
    const c = openCursor(m, pt, 0, 2 * M2)
    m.call({ type: 'cursor_mut.map', cursor: c, item: { pa: 0x1000, level: 1, prop: RW } })
    m.call({ type: 'cursor.drop', cursor: c })
    const before = m.state
    m.call({ type: 'page_table.drop', pageTable: pt })
    const d = diff(before, m.state)
    expect(d.semantic.mappingsRemoved).toMatchObject([{ pageTable: pt, va: 0, pa: 0x1000 }])
    expect(d.semantic.nodesFreed).toHaveLength(4)
    expect(d.semantic.handles).toMatchObject([{ registry: 'pageTables', id: pt, change: 'dropped' }, { registry: 'ptNodes', change: 'dropped' }])
    // and the other way round
    expect(diff(m.state, before).semantic.mappingsAdded).toMatchObject([{ pageTable: pt, va: 0, pa: 0x1000 }])
  })
})

// ---- against a brute-force view comparison -------------------------------------------------------

const viewCache = new WeakMap<Snapshot, Map<string, MappingItem>>()

/** Every mapping of every page table (handles' roots), as `MappingItem`s, keyed by table and VA (cached per snapshot). */
function allMappings(s: Snapshot): Map<string, MappingItem> {
  const cached = viewCache.get(s)
  if (cached !== undefined) return cached
  const out = new Map<string, MappingItem>()
  viewCache.set(s, out)
  tableForEach(s.pt.tables, (h, id) => {
    const root = h.rootPaddr / K4
    if (tableGet(s.pt.owners, root) === null) return
    for (const mp of viewOf(s, root, { config: h.config })) {
      out.set(`${root}:${mp.vaRange.start}:${mp.pageSize}`, { pageTable: id, root, config: h.config, va: mp.vaRange.start, pageSize: mp.pageSize, pa: mp.paRange.start, prop: mp.property })
    }
  })
  return out
}

function bruteForce(a: Snapshot, b: Snapshot): { added: string[]; removed: string[]; changed: string[] } {
  const x = allMappings(a)
  const y = allMappings(b)
  const key = (m: MappingItem): string => `${m.root}:${m.va}:${m.pageSize}`
  const added = [...y.values()].filter((m) => !x.has(key(m))).map(key)
  const removed = [...x.values()].filter((m) => !y.has(key(m))).map(key)
  const changed = [...x.values()].filter((m) => y.has(key(m)) && JSON.stringify(y.get(key(m))) !== JSON.stringify(m)).map(key)
  return { added: added.sort(), removed: removed.sort(), changed: changed.sort() }
}

/** A small deterministic PRNG (xorshift32) for the random cursor workload. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1
  return (n) => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x % n
  }
}

/**
 * Random cursor work on an untracked page table over [0, 2 GiB) (4 KiB / 2 MiB / 1 GiB maps,
 * splits, take_next, protect_next, unmap) and a user one (tracked frames): the events that
 * change mappings most. Panicking calls are skipped (they change nothing).
 */
function cursorWorkload(seed: number, ops: number): History {
  const h = new History({ check: 'off', physicalMemory: 1 << 24 })
  const call = <R>(e: object): R | null => {
    try {
      return h.dispatch(e as never).result as R
    } catch (err) {
      if (err instanceof Error && err.name === 'OstdPanic') return null
      throw err
    }
  }
  const G1 = pageSize(3)
  const span = 2 * G1
  const untracked = call<{ pageTable: number }>({ type: 'page_table.new', config: 'untracked' })!.pageTable
  const user = call<{ pageTable: number }>({ type: 'page_table.new', config: 'user' })!.pageTable
  const cu = call<{ value: { cursor: number } }>({ type: 'page_table.cursor_mut', pageTable: untracked, vaStart: 0, vaEnd: span })!.value.cursor
  const cf = call<{ value: { cursor: number } }>({ type: 'page_table.cursor_mut', pageTable: user, vaStart: 0, vaEnd: 16 * K4 })!.value.cursor
  const r = rng(seed)
  const sizes = [K4, K4, K4, M2, M2, M2, G1]
  for (let i = 0; i < ops; i++) {
    const op = r(10)
    if (op < 4) {
      const level = [1, 1, 1, 1, 2, 2, 2, 2, 2, 3][r(10)]!
      const size = pageSize(level)
      call({ type: 'cursor.jump', cursor: cu, va: r(span / size) * size })
      call({ type: 'cursor_mut.map', cursor: cu, item: { pa: level === 3 ? r(2) * G1 : r(256) * size, level, prop: r(2) === 0 ? RW : RX } })
    } else if (op < 6) {
      const size = sizes[r(sizes.length)]!
      const at = r(span / size) * size
      call({ type: 'cursor.jump', cursor: cu, va: at })
      call({ type: r(2) === 0 ? 'cursor_mut.take_next' : 'cursor_mut.unmap', cursor: cu, len: Math.min(span - at, (1 + r(3)) * size) })
    } else if (op < 7) {
      const size = sizes[r(sizes.length)]!
      const at = r(span / size) * size
      call({ type: 'cursor.jump', cursor: cu, va: at })
      call({ type: 'cursor_mut.protect_next', cursor: cu, len: Math.min(span - at, size), prop: r(2) === 0 ? RW : RX })
    } else if (op < 9) {
      const f = call<{ value: { frame: number } }>({ type: 'frame_alloc.alloc_frame' })!.value.frame
      call({ type: 'cursor.jump', cursor: cf, va: r(16) * K4 })
      const res = call<{ ok: boolean; error?: { item?: { frame?: number } } }>({ type: 'cursor_mut.map', cursor: cf, item: { frame: f, prop: RW } })
      if (res !== null && !res.ok && res.error?.item?.frame !== undefined) call({ type: 'frame.drop', frame: res.error.item.frame })
    } else {
      const at = r(16) * K4
      call({ type: 'cursor.jump', cursor: cf, va: at })
      const frag = call<{ kind: string; item?: { frame: number } } | null>({ type: 'cursor_mut.take_next', cursor: cf, len: 16 * K4 - at })
      if (frag?.item?.frame !== undefined) call({ type: 'frame.drop', frame: frag.item.frame })
    }
  }
  return h
}

/** Runs `fn` without freezing snapshots (building big split trees frozen is slow; nothing here mutates them). */
function unfrozen<T>(fn: () => T): T {
  const was = snapshotFreezing()
  setSnapshotFreezing(false)
  try {
    return fn()
  } finally {
    setSnapshotFreezing(was)
  }
}

function compareEveryStep(h: History, minChanged: number): void {
  let changedSteps = 0
  const key = (m: { root: number; va: number; pageSize: number }): string => `${m.root}:${m.va}:${m.pageSize}`
  for (let i = 0; i < h.length; i++) {
    const step = h.at(i)
    const want = bruteForce(step.before, step.after)
    for (const view of ['ghost', 'pte'] as const) {
      const d = diff(step.before, step.after, { view, structural: false }).semantic
      expect({ i, view, type: step.event.type, added: d.mappingsAdded.map(key).sort(), removed: d.mappingsRemoved.map(key).sort(), changed: d.mappingsChanged.map(key).sort() }).toEqual({ i, view, type: step.event.type, ...want })
    }
    if (want.added.length + want.removed.length + want.changed.length > 0) changedSteps++
  }
  // the comparison is not vacuous
  expect(changedSteps).toBeGreaterThanOrEqual(minChanged)
}

describe('the windowed mapping diff equals a comparison of the whole views', () => {
  it.each([1, 3])('random cursor work (maps, splits, take_next, protect_next, unmap), seed %i: every step, ghost and PTE views', (seed) => {
    compareEveryStep(unfrozen(() => cursorWorkload(seed, 80)), 25)
  })

  it('a generated page-table history (cursor and page-table operations of the generator)', () => {
    const events = generateHistory({ seed: 3, ops: 400, physicalMemory: 1 << 24, operations: { ...PAGE_TABLE_OPS, ...CURSOR_OPS } })
    const h = new History({ check: 'off', physicalMemory: 1 << 24 })
    for (const e of events) h.dispatch(e)
    compareEveryStep(h, 10)
  })
})

// ---- rendering --------------------------------------------------------------------------------------

describe('rendering', () => {
  it('folds runs of lines whose numbers move in constant steps, and only runs of at least the minimum', () => {
    const lines = Array.from({ length: 5 }, (_, i) => `+ pt#0 0x${(i * 0x1000).toString(16)} 4K → 0x${(0x200000 + i * 0x1000).toString(16)} RW- U WB`)
    expect(foldRuns(lines)).toEqual(['+ pt#0 0x0..0x4000 4K → 0x200000..0x204000 RW- U WB (×5)'])
    expect(foldRuns(lines.slice(0, 3))).toEqual(lines.slice(0, 3))
    expect(foldRuns(['a 1', 'a 2', 'a 4', 'a 5'], 2)).toEqual(['a 1..2 (×2)', 'a 4..5 (×2)'])
    expect(foldRuns(['x 0x0000000000000007 y', 'x 0x0000000000001007 y'], 2)).toEqual(['x 0x0000000000000007..0x0000000000001007 y (×2)'])
    expect(foldRuns(['same 1', 'same 1', 'same 1', 'same 1'])).toEqual(['same 1', 'same 1', 'same 1', 'same 1'])
  })

  it('page properties and addresses', () => {
    expect(propName(RW)).toBe('RW- U WB')
    expect(propName({ flags: PageFlags.RX | PageFlags.ACCESSED | PageFlags.DIRTY | PageFlags.AVAIL1, cache: 'Uncacheable', privFlags: 2 })).toBe('R-XAD+av1 G UC')
    expect(propName({ flags: 0, cache: 'Writethrough', privFlags: 0 })).toBe('--- K WT')
    expect(hex(0x1000)).toBe('0x1000')
    expect(hex(REF_COUNT_UNUSED)).toBe('-1')
    expect(hex(0xffff_8000_0000_0000n)).toBe('0xffff800000000000')
  })

  it('maxLines cuts the text and says how much is left', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    unwrap(m.frames.allocFrame())
    const text = renderDiff(lastDiff(m), { maxLines: 2 })
    expect(text.split('\n')).toHaveLength(3)
    expect(text).toMatch(/… \d+ more lines$/)
  })

  it('kernel page tables print full addresses (leading bits)', () => {
    const m = createModel({ physicalMemory: 1 << 22, check: 'off' })
    const kpt = m.pageTables.kernel()
    const va = 0xffff_8000_0010_0000n
    const c = unwrap(kpt.cursorMut({ start: va, end: va + 0x1000n }))
    const f = unwrap(m.frames.allocFrame())
    const pa = f.startPaddr()
    const before = m.state
    c.map({ frame: f, prop: RW })
    const d = diff(before, m.state)
    expect(d.semantic.mappingsAdded).toMatchObject([{ config: 'kernel', va: 0x8000_0010_0000, pa }])
    expect(renderDiff(d, { structural: false })).toContain(`0xffff800000100000 4K → ${hex(pa)}`)
  })
})
