/**
 * Random sequences of entry operations over a small page table (issue 3): map a leaf (a tracked
 * frame, a clone of a shared frame, or an untracked item), install a node, clear an entry (its
 * old child dropped: a sub-tree torn down), protect a leaf — through `page_table_guard.entry`,
 * `child.*`, `entry.replace` / `protect`, `child.drop`. Every step is checked (incremental) and
 * must be clean; at the end every guard is released and the root dropped, which must return every
 * slot the run touched to its starting state: ref count, usage, paths_in_pt, raw_count, no
 * obligation, no owner record.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { frameToIndex, PageUsage } from '../../src/arch/constants.js'
import { newUser, PageFlags, type PageProperty } from '../../src/arch/page_prop.js'
import type { PtConfigName } from '../../src/arch/pt_config.js'
import { createModel, type Model } from '../../src/api/model.js'
import { freshOwner, FRESH_SLOT, isParked, obligationsOf, ownerOf, slotOf } from '../../src/model/slots.js'
import { childPath } from '../../src/model/spec/page_table.js'
import { tableGet } from '../../src/model/table.js'
import { dropEntry, entry, installNode, lockedRoot, newFrame, positionOf, put, record, type PtNode } from '../firing/cases/pt_util.js'
import { RUNS, SEED } from './run.js'

const MEMORY = 1 << 24
const PROPS: readonly PageProperty[] = [newUser(PageFlags.RW), newUser(PageFlags.RX), newUser(PageFlags.R, 'Uncacheable')]

type TreeOp =
  | { readonly op: 'map'; readonly node: number; readonly idx: number; readonly prop: number; readonly shared: boolean }
  | { readonly op: 'install'; readonly node: number; readonly idx: number }
  | { readonly op: 'clear'; readonly node: number; readonly idx: number }
  | { readonly op: 'protect'; readonly node: number; readonly idx: number; readonly prop: number }

const nodeSel = fc.nat(31)
const idx = fc.nat(3)
const treeOp: fc.Arbitrary<TreeOp> = fc.oneof(
  fc.record({ op: fc.constant('map' as const), node: nodeSel, idx, prop: fc.nat(PROPS.length - 1), shared: fc.boolean() }),
  fc.record({ op: fc.constant('install' as const), node: nodeSel, idx }),
  fc.record({ op: fc.constant('clear' as const), node: nodeSel, idx }),
  fc.record({ op: fc.constant('protect' as const), node: nodeSel, idx, prop: fc.nat(PROPS.length - 1) }),
)

/** The run: a locked root, every installed node locked, and one frame handle whose clones get mapped. */
class Tree {
  readonly m: Model
  readonly root: PtNode
  readonly nodes: PtNode[]
  readonly touched = new Set<number>()
  private shared: number | null = null

  constructor(readonly config: PtConfigName) {
    this.m = createModel({ check: 'incremental', physicalMemory: MEMORY })
    this.root = lockedRoot(this.m, config)
    this.nodes = [this.root]
    this.touched.add(this.root.slot)
  }

  private levelOf(n: PtNode): number {
    return record(this.m.state, n.slot).level
  }

  /** The owner entry at `idx` of `n`: node, frame, absent (none recorded). */
  private kindAt(n: PtNode, i: number): string {
    return tableGet(record(this.m.state, n.slot).children, i)?.kind ?? 'absent'
  }

  apply(o: TreeOp): void {
    const n = this.nodes[o.node % this.nodes.length]!
    const level = this.levelOf(n)
    if (o.op === 'map') {
      const prop = PROPS[o.prop]!
      if (this.config === 'untracked') {
        if (level > 3) return
        const size = 0x1000 * 512 ** (level - 1)
        const pa = size * (o.idx % 2) // 0 is a valid target; 1 GiB + 1 GiB = MAX_PADDR
        // child.untracked takes no parentLevel (its level is the item's): an unknown field is refused
        const { parentLevel: _unused, ...at } = this.position(n, o.idx)
        const { child } = this.m.call<{ child: number }>({ type: 'child.untracked', paddr: pa, level, prop, ...at })
        this.putAndDrop(n, o.idx, child)
        return
      }
      if (level !== 1) return
      const frame = o.shared ? this.sharedClone() : newFrame(this.m)
      this.touched.add(frameToIndex(frame.paddr))
      const pos = this.position(n, o.idx)
      // paths_in_pt is a set: the same frame at the same path twice is refused (REQ-CHILD-FROMFRAME-1).
      if (ownerOf(this.m.state, frameToIndex(frame.paddr)).pathsInPt.includes(`${pos.tree}:${pos.path}`)) {
        this.m.call({ type: 'frame.drop', frame: frame.frame })
        return
      }
      const { child } = this.m.call<{ child: number }>({ type: 'child.from_frame', frame: frame.frame, prop, ...pos, parentLevel: 1 })
      this.putAndDrop(n, o.idx, child)
    } else if (o.op === 'install') {
      if (level < 2 || this.kindAt(n, o.idx) === 'node') return
      const sub = installNode(this.m, n, o.idx)
      this.nodes.push(sub)
      this.touched.add(sub.slot)
    } else if (o.op === 'clear') {
      if (this.kindAt(n, o.idx) === 'node') this.unlockSubtree(n, o.idx)
      const { child } = this.m.call<{ child: number }>({ type: 'child.none', ...this.position(n, o.idx) })
      this.putAndDrop(n, o.idx, child)
    } else {
      if (this.kindAt(n, o.idx) !== 'frame') return
      const e = entry(this.m, n.guard!, o.idx)
      this.m.call({ type: 'entry.protect', entry: e, prop: PROPS[o.prop]! })
      dropEntry(this.m, e)
    }
  }

  private position(n: PtNode, i: number): { tree: number; path: string; parentLevel: number } {
    return positionOf(this.m, n, i)
  }

  /** `put`, whose old child is dropped — if it was a node, after its sub-tree's guards are released. */
  private putAndDrop(n: PtNode, i: number, child: number): void {
    if (this.kindAt(n, i) === 'node') this.unlockSubtree(n, i)
    put(this.m, n, i, child)
  }

  private sharedClone(): { frame: number; paddr: number } {
    if (this.shared === null) this.shared = newFrame(this.m).frame
    const { frame } = this.m.call<{ frame: number }>({ type: 'frame.clone', frame: this.shared })
    return { frame, paddr: tableGet(this.m.state.frames, frame)!.paddr }
  }

  /** Releases the guards of the nodes under entry `i` of `n` (on_drop requires no lock held). */
  private unlockSubtree(n: PtNode, i: number): void {
    const prefix = childPath(record(this.m.state, n.slot).path, i)
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const sub = this.nodes[k]!
      const path = record(this.m.state, sub.slot).path
      if (path === prefix || path.startsWith(`${prefix}.`)) {
        this.m.call({ type: 'page_table_guard.drop', guard: sub.guard! })
        this.nodes.splice(k, 1)
      }
    }
  }

  /** Releases every guard and the shared frame, then drops the root: the whole tree goes. */
  teardown(): void {
    for (const n of this.nodes) this.m.call({ type: 'page_table_guard.drop', guard: n.guard! })
    if (this.shared !== null) this.m.call({ type: 'frame.drop', frame: this.shared })
    this.m.call({ type: 'page_table_node.drop', node: this.root.node! })
  }
}

describe('random entry operations over a small page table', () => {
  it('keep every invariant, and dropping the root returns every slot to its starting state', () => {
    fc.assert(
      fc.property(fc.constantFrom<PtConfigName>('user', 'untracked'), fc.array(treeOp, { minLength: 1, maxLength: 40 }), (config, ops) => {
        const t = new Tree(config)
        for (const o of ops) t.apply(o)
        expect(t.m.history.violations()).toEqual([])
        t.teardown()
        expect(t.m.history.violations()).toEqual([])
        const s = t.m.state
        for (const i of t.touched) {
          expect(slotOf(s, i)).toEqual(FRESH_SLOT)
          // drop_last_in_place leaves the usage (ENS-META-DROPLAST-1)
          const usage = ownerOf(s, i).usage
          expect([PageUsage.PageTable, PageUsage.Frame]).toContain(usage)
          expect(ownerOf(s, i)).toEqual({ ...freshOwner(s.config, i), usage })
          expect(obligationsOf(s, i)).toBe(0)
          expect(isParked(s, i)).toBe(true)
          expect(tableGet(s.pt.owners, i)).toBeNull()
        }
        expect([s.pt.nodes.count, s.pt.guards.count, s.pt.entries.count, s.pt.children.count, s.pt.owners.count, s.pt.childOwners.count, s.pt.locks.count]).toEqual([0, 0, 0, 0, 0, 0, 0])
        expect(s.frames.count).toBe(0)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })

  it('a run that maps, shares, nests and clears reaches every kind of entry', () => {
    const t = new Tree('user')
    const l3 = 1
    t.apply({ op: 'install', node: 0, idx: 0 })
    t.apply({ op: 'install', node: l3, idx: 1 })
    t.apply({ op: 'install', node: 2, idx: 2 })
    t.apply({ op: 'map', node: 3, idx: 0, prop: 0, shared: true })
    t.apply({ op: 'map', node: 3, idx: 1, prop: 1, shared: true })
    t.apply({ op: 'map', node: 3, idx: 2, prop: 2, shared: false })
    t.apply({ op: 'protect', node: 3, idx: 2, prop: 0 })
    const leaf = t.nodes[3]!
    const shared = tableGet(record(t.m.state, leaf.slot).children, 0)
    expect(shared).toMatchObject({ kind: 'frame' })
    const pa = shared?.kind === 'frame' ? shared.frame.mappedPa : -1
    expect(ownerOf(t.m.state, frameToIndex(pa)).pathsInPt).toHaveLength(2)
    t.apply({ op: 'clear', node: 0, idx: 0 })
    expect(t.nodes).toHaveLength(1)
    expect(ownerOf(t.m.state, frameToIndex(pa)).pathsInPt).toEqual([])
    expect(t.m.history.violations()).toEqual([])
    const e = entry(t.m, t.root.guard!, 0)
    expect(t.m.call({ type: 'entry.is_none', entry: e })).toBe(true)
    dropEntry(t.m, e)
    t.teardown()
    expect(t.m.history.violations()).toEqual([])
  })
})
