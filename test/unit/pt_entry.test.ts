/**
 * Entries and children (seed 001): what `PageTableGuard::entry`, `Entry::{is_none, is_node,
 * to_ref, protect, replace}` and the Child events return, and exactly what they change.
 */
import { describe, expect, it } from 'vitest'
import { REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { newPage, newPt, pteToHex, setProp } from '../../src/arch/pte.js'
import { computeChanges } from '../../src/check/changes.js'
import { Checker } from '../../src/check/checker.js'
import { defaultRegistry } from '../../src/check/rules/index.js'
import { createModel, type Model } from '../../src/api/model.js'
import { readPte } from '../../src/model/memory.js'
import { qualifiedPath } from '../../src/model/page_table.js'
import { obligationsOf, ownerOf, slotOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableGet } from '../../src/model/table.js'
import {
  allocNode,
  entry,
  frameChild,
  installNode,
  lockedRoot,
  mapFrame,
  noneChild,
  positionOf,
  record,
  replace,
  RW,
  RX,
  dropChild,
  dropEntry,
} from '../firing/cases/pt_util.js'
import { bothModes, panicRule } from '../util.js'

/** What a step changed, as sorted lists (the parts these operations touch). */
function changed(before: Snapshot, after: Snapshot): Record<string, number[]> {
  const c = computeChanges(before, after)
  const sorted = (s: ReadonlySet<number>): number[] => [...s].sort((a, b) => a - b)
  return {
    slots: sorted(c.slotCells),
    parking: sorted(c.parking),
    obligations: sorted(c.obligations),
    memory: sorted(c.memory),
    frames: sorted(c.frames),
    nodes: sorted(c.ptNodes),
    entries: sorted(c.ptEntries),
  }
}

function nrChildren(s: Snapshot, slot: number): number[] {
  const exec = slotOf(s, slot).storage
  const ghost = ownerOf(s, slot).innerPerms.storage
  return [exec?.kind === 'PTNode' ? exec.nrChildren : -1, ghost?.kind === 'PTNode' ? ghost.nrChildren : -1, record(s, slot).metaOwn.nrChildren]
}

function cachedPte(m: Model, e: number): string {
  return tableGet(m.state.pt.entries, e)!.pte
}

describe('PageTableGuard::entry and the Entry queries', () => {
  it('entry caches the stored word; is_none / is_node / to_ref answer from it and change nothing', () => {
    bothModes((m) => {
      const n = allocNode(m, 1)
      const pa = mapFrame(m, n, 3)
      const e = entry(m, n.guard!, 3)
      expect(cachedPte(m, e)).toBe(pteToHex(newPage(pa, 1, RW)))
      const before = m.state
      expect(m.call({ type: 'entry.is_none', entry: e })).toBe(false)
      expect(m.call({ type: 'entry.is_node', entry: e })).toBe(false)
      expect(m.call({ type: 'entry.to_ref', entry: e })).toEqual({ kind: 'Frame', paddr: pa, level: 1, prop: RW, config: 'user' })
      expect(m.state).toBe(before)
      dropEntry(m, e)
      const e2 = entry(m, n.guard!, 4)
      expect(m.call({ type: 'entry.is_none', entry: e2 })).toBe(true)
      expect(m.call({ type: 'entry.to_ref', entry: e2 })).toEqual({ kind: 'None' })
      dropEntry(m, e2)
      const root = lockedRoot(m)
      const sub = installNode(m, root, 7, false)
      const e3 = entry(m, root.guard!, 7)
      expect(m.call({ type: 'entry.is_node', entry: e3 })).toBe(true)
      expect(m.call({ type: 'entry.to_ref', entry: e3 })).toEqual({ kind: 'PageTable', paddr: sub.paddr })
    })
  })

  it('an index past 511 panics (REQ-GUARD-ENTRY-6); a second live Entry of a guard, or an Entry whose guard is gone, is refused', () => {
    const model = createModel({ check: 'incremental', physicalMemory: 1 << 22 })
    const n = allocNode(model, 1)
    const before = model.state
    expect(panicRule(() => model.dispatch({ type: 'page_table_guard.entry', guard: n.guard!, idx: 512 }))).toBe('REQ-GUARD-ENTRY-6')
    expect(model.state).toBe(before)
    const e = entry(model, n.guard!, 0)
    expect(panicRule(() => model.dispatch({ type: 'page_table_guard.entry', guard: n.guard!, idx: 1 }))).toBe('REQ-ENTRY-UNIQUE-1')
    model.call({ type: 'page_table_guard.drop', guard: n.guard! })
    expect(panicRule(() => model.dispatch({ type: 'entry.is_none', entry: e }))).toBe('REQ-ENTRY-BORROW-1')
    dropEntry(model, e) // dropping it is still fine
    expect(model.history.violations()).toEqual([])
  })
})

describe('Entry::replace', () => {
  it('absent -> frame: returns Child::None, writes new_page, nr_children + 1; rc, raw_count and paths_in_pt unchanged (the path moved in with the child)', () => {
    bothModes((m) => {
      const n = allocNode(m, 1)
      const { child, paddr } = frameChild(m, n, 5)
      const f = paddr / 0x1000
      const key = qualifiedPath(n.slot, '5')
      expect(ownerOf(m.state, f).pathsInPt).toEqual([key])
      expect(slotOf(m.state, f).refCount).toBe(1)
      const e = entry(m, n.guard!, 5)
      const before = m.state
      const old = replace(m, e, child)
      expect(tableGet(m.state.pt.children, old)).toEqual({ kind: 'None' })
      expect(tableGet(m.state.pt.childOwners, old)).toEqual({ kind: 'absent', tree: n.slot, path: '5', parentLevel: 1, inScope: true })
      expect(readPte(m.state, n.slot, 5)).toBe(newPage(paddr, 1, RW))
      expect(cachedPte(m, e)).toBe(pteToHex(newPage(paddr, 1, RW)))
      expect(nrChildren(m.state, n.slot)).toEqual([1, 1, 1])
      expect(slotOf(m.state, f).refCount).toBe(1)
      expect(ownerOf(m.state, f)).toEqual(ownerOf(before, f))
      expect(tableGet(record(m.state, n.slot).children, 5)).toEqual({ kind: 'frame', frame: { mappedPa: paddr, size: 0x1000, prop: RW, isTracked: true }, tree: n.slot, path: '5', parentLevel: 1, inScope: false })
      // exactly: the node's slot (nr_children) and page, the Entry
      expect(changed(before, m.state)).toEqual({ slots: [n.slot], parking: [], obligations: [], memory: [n.slot], frames: [], nodes: [], entries: [e] })
      dropChild(m, old)
    })
  })

  it('frame -> frame: returns the old Child::Frame, which still holds its path and reference until dropped', () => {
    bothModes((m) => {
      const n = allocNode(m, 1)
      const pa1 = mapFrame(m, n, 5)
      const { child, paddr: pa2 } = frameChild(m, n, 5, RX)
      const e = entry(m, n.guard!, 5)
      const old = replace(m, e, child)
      const key = qualifiedPath(n.slot, '5')
      expect(tableGet(m.state.pt.children, old)).toEqual({ kind: 'Frame', paddr: pa1, level: 1, prop: RW, config: 'user' })
      expect(nrChildren(m.state, n.slot)).toEqual([1, 1, 1])
      expect(readPte(m.state, n.slot, 5)).toBe(newPage(pa2, 1, RX))
      expect(ownerOf(m.state, pa1 / 0x1000).pathsInPt).toEqual([key])
      expect(ownerOf(m.state, pa2 / 0x1000).pathsInPt).toEqual([key])
      const before = m.state
      dropChild(m, old) // the last reference: the frame is freed
      expect(slotOf(m.state, pa1 / 0x1000).refCount).toBe(REF_COUNT_UNUSED)
      expect(ownerOf(m.state, pa1 / 0x1000).pathsInPt).toEqual([])
      expect(changed(before, m.state).slots).toEqual([pa1 / 0x1000])
      dropEntry(m, e)
    })
  })

  it('frame -> absent: nr_children - 1; the old frame keeps its reference in the returned child (and a clone keeps the frame alive)', () => {
    bothModes((m) => {
      const n = allocNode(m, 1)
      const pa = mapFrame(m, n, 9)
      const f = pa / 0x1000
      const clone = m.call<{ ok: true; value: { frame: number } }>({ type: 'frame.from_in_use', paddr: pa }).value.frame
      expect(slotOf(m.state, f).refCount).toBe(2)
      const e = entry(m, n.guard!, 9)
      const old = replace(m, e, noneChild(m, n, 9))
      expect(nrChildren(m.state, n.slot)).toEqual([0, 0, 0])
      expect(readPte(m.state, n.slot, 9)).toBe(0n)
      expect(tableGet(record(m.state, n.slot).children, 9)).toBeNull() // the canonical absent entry
      expect(slotOf(m.state, f).refCount).toBe(2)
      dropChild(m, old)
      expect(slotOf(m.state, f).refCount).toBe(1)
      expect(ownerOf(m.state, f).pathsInPt).toEqual([])
      expect(obligationsOf(m.state, f)).toBe(1)
      m.call({ type: 'frame.drop', frame: clone })
      dropEntry(m, e)
    })
  })

  it('absent -> node: the node is positioned at the entry (record rebased, paths_in_pt {path}), forgotten into the PTE (raw_count 1, obligation redeemed)', () => {
    bothModes((m) => {
      const root = lockedRoot(m)
      const sub = allocNode(m, 3, 'user', false)
      expect(obligationsOf(m.state, sub.slot)).toBe(1)
      const { child } = m.call<{ child: number }>({ type: 'child.from_node', node: sub.node! })
      expect(tableGet(m.state.pt.nodes, sub.node!)).toBeNull()
      expect(obligationsOf(m.state, sub.slot)).toBe(1) // the Child holds it now
      const e = entry(m, root.guard!, 2)
      const before = m.state
      const old = replace(m, e, child)
      expect(tableGet(m.state.pt.children, old)).toEqual({ kind: 'None' })
      expect(readPte(m.state, root.slot, 2)).toBe(newPt(sub.paddr))
      expect(nrChildren(m.state, root.slot)).toEqual([1, 1, 1])
      const r = record(m.state, sub.slot)
      expect([r.tree, r.path, r.parentLevel, r.inScope]).toEqual([root.slot, '2', 4, false])
      expect(tableGet(record(m.state, root.slot).children, 2)).toEqual({ kind: 'node', slot: sub.slot })
      expect(ownerOf(m.state, sub.slot).pathsInPt).toEqual([qualifiedPath(root.slot, '2')])
      expect(ownerOf(m.state, sub.slot).rawCount).toBe(1)
      expect(slotOf(m.state, sub.slot).refCount).toBe(1)
      expect(obligationsOf(m.state, sub.slot)).toBe(0)
      expect(changed(before, m.state)).toEqual({ slots: [root.slot, sub.slot], parking: [], obligations: [sub.slot], memory: [root.slot], frames: [], nodes: [], entries: [e] })
      dropChild(m, old)
      dropEntry(m, e)
    })
  })

  it('node -> absent: the node comes back as Child::PageTable (in scope, raw_count 0, one obligation minted, its path kept); dropping it frees the sub-tree', () => {
    bothModes((m) => {
      const root = lockedRoot(m)
      const l3 = installNode(m, root, 2)
      const l2 = installNode(m, l3, 0)
      const l1 = installNode(m, l2, 0)
      const pa = mapFrame(m, l1, 1)
      for (const g of [l1.guard!, l2.guard!, l3.guard!]) m.call({ type: 'page_table_guard.drop', guard: g })
      const e = entry(m, root.guard!, 2)
      const old = replace(m, e, noneChild(m, root, 2))
      expect(tableGet(m.state.pt.children, old)).toEqual({ kind: 'PageTable', paddr: l3.paddr })
      const r = record(m.state, l3.slot)
      expect([r.tree, r.path, r.inScope]).toEqual([root.slot, '2', true])
      expect(ownerOf(m.state, l3.slot).rawCount).toBe(0)
      expect(ownerOf(m.state, l3.slot).pathsInPt).toEqual([qualifiedPath(root.slot, '2')])
      expect(obligationsOf(m.state, l3.slot)).toBe(1)
      expect(nrChildren(m.state, root.slot)).toEqual([0, 0, 0])
      expect(readPte(m.state, root.slot, 2)).toBe(0n)
      dropChild(m, old)
      for (const n of [l3, l2, l1]) {
        expect(slotOf(m.state, n.slot).refCount).toBe(REF_COUNT_UNUSED)
        expect(tableGet(m.state.pt.owners, n.slot)).toBeNull()
      }
      expect(slotOf(m.state, pa / 0x1000).refCount).toBe(REF_COUNT_UNUSED)
      dropEntry(m, e)
    })
  })

  it('installing a filled detached node rebases its sub-tree: records and the paths its frames record', () => {
    bothModes((m) => {
      const root = lockedRoot(m)
      const l3 = installNode(m, root, 1)
      const l2 = installNode(m, l3, 4)
      const l1 = allocNode(m, 1)
      const pa = mapFrame(m, l1, 6)
      expect(ownerOf(m.state, pa / 0x1000).pathsInPt).toEqual([qualifiedPath(l1.slot, '6')])
      m.call({ type: 'page_table_guard.drop', guard: l1.guard! })
      const { child } = m.call<{ child: number }>({ type: 'child.from_node', node: l1.node! })
      const e = entry(m, l2.guard!, 8)
      dropChild(m, replace(m, e, child))
      expect(ownerOf(m.state, pa / 0x1000).pathsInPt).toEqual([qualifiedPath(root.slot, '1.4.8.6')])
      expect(tableGet(record(m.state, l1.slot).children, 6)).toMatchObject({ tree: root.slot, path: '1.4.8.6' })
      expect(ownerOf(m.state, l1.slot).pathsInPt).toEqual([qualifiedPath(root.slot, '1.4.8')])
      dropEntry(m, e)
    })
  })

  it('bad children are refused with the state unchanged: wrong level (REQ-ENTRY-REPLACE-6), positioned for another entry (REQ-ENTRY-REPLACE-4), unknown (REQ-HANDLE-1)', () => {
    bothModes((m) => {
      const root = lockedRoot(m)
      const wrong = allocNode(m, 2, 'user', false)
      const { child: node2 } = m.call<{ child: number }>({ type: 'child.from_node', node: wrong.node! })
      const e = entry(m, root.guard!, 0)
      const before = m.state
      expect(panicRule(() => m.dispatch({ type: 'entry.replace', entry: e, child: node2 }))).toBe('REQ-ENTRY-REPLACE-6')
      const elsewhere = noneChild(m, root, 1)
      expect(panicRule(() => m.dispatch({ type: 'entry.replace', entry: e, child: elsewhere }))).toBe('REQ-ENTRY-REPLACE-4')
      expect(panicRule(() => m.dispatch({ type: 'entry.replace', entry: e, child: 99 }))).toBe('REQ-HANDLE-1')
      expect(m.state.pt.entries).toBe(before.pt.entries)
      expect(m.state.memory).toBe(before.memory)
      dropChild(m, elsewhere)
      dropChild(m, node2)
      dropEntry(m, e)
    })
  })
})

describe('Entry::protect', () => {
  it('rewrites the property bits of the leaf (PTE, cached word, owner) and nothing else; an absent entry is refused', () => {
    bothModes((m) => {
      const n = allocNode(m, 1)
      const pa = mapFrame(m, n, 3)
      const e = entry(m, n.guard!, 3)
      const before = m.state
      m.call({ type: 'entry.protect', entry: e, prop: RX })
      const want = setProp(newPage(pa, 1, RW), RX)
      expect(readPte(m.state, n.slot, 3)).toBe(want)
      expect(cachedPte(m, e)).toBe(pteToHex(want))
      expect(tableGet(record(m.state, n.slot).children, 3)).toMatchObject({ kind: 'frame', frame: { mappedPa: pa, prop: RX } })
      expect(changed(before, m.state)).toEqual({ slots: [], parking: [], obligations: [], memory: [n.slot], frames: [], nodes: [], entries: [e] })
      m.call({ type: 'entry.protect', entry: e, mask: { clear: 0x04, set: 0x02 } }) // RX -> RW
      expect(readPte(m.state, n.slot, 3)).toBe(newPage(pa, 1, RW))
      dropEntry(m, e)
      // an absent entry is no frame: refused (REQ-ENTRY-PROTECT-3), state and history unchanged
      const e2 = entry(m, n.guard!, 4)
      const at = m.state
      const length = m.history.length
      expect(panicRule(() => m.dispatch({ type: 'entry.protect', entry: e2, prop: RX }))).toBe('REQ-ENTRY-PROTECT-3')
      expect(m.state).toBe(at)
      expect(m.history.length).toBe(length)
      dropEntry(m, e2)
    })
  })

  it('a node entry cannot be protected (REQ-ENTRY-PROTECT-3), nor given a property without R (REQ-ENTRY-PROTECT-2)', () => {
    bothModes((m) => {
      const root = lockedRoot(m)
      installNode(m, root, 2, false)
      const e = entry(m, root.guard!, 2)
      expect(panicRule(() => m.dispatch({ type: 'entry.protect', entry: e, prop: RW }))).toBe('REQ-ENTRY-PROTECT-3')
      dropEntry(m, e)
      const n = allocNode(m, 1)
      mapFrame(m, n, 0)
      const e2 = entry(m, n.guard!, 0)
      expect(panicRule(() => m.dispatch({ type: 'entry.protect', entry: e2, mask: { clear: 0x01, set: 0 } }))).toBe('REQ-ENTRY-PROTECT-2')
      dropEntry(m, e2)
    })
  })
})

describe('children', () => {
  it('child.from_frame moves the handle into the path; child.untracked and child.none hold nothing; dropping them releases what they hold', () => {
    bothModes((m) => {
      const n = allocNode(m, 1)
      const { frame, paddr } = m.call<{ ok: true; value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value
      const f = paddr / 0x1000
      const before = m.state
      const { child } = m.call<{ child: number }>({ type: 'child.from_frame', frame, prop: RW, ...positionOf(m, n, 0) })
      expect(changed(before, m.state)).toEqual({ slots: [f], parking: [], obligations: [f], memory: [], frames: [frame], nodes: [], entries: [] })
      expect([slotOf(m.state, f).refCount, obligationsOf(m.state, f), ownerOf(m.state, f).pathsInPt]).toEqual([1, 0, [qualifiedPath(n.slot, '0')]])
      dropChild(m, child)
      expect(slotOf(m.state, f).refCount).toBe(REF_COUNT_UNUSED)
      const none = noneChild(m, n, 1)
      const u = allocNode(m, 2, 'untracked', false)
      const raw = m.call<{ child: number }>({ type: 'child.untracked', paddr: 0x20_0000, level: 2, prop: RW, tree: u.slot, path: '2' }).child
      const at = m.state
      dropChild(m, none)
      dropChild(m, raw)
      expect(changed(at, m.state).slots).toEqual([])
    })
  })

  it('the states the builders make are clean', () => {
    bothModes((m) => {
      const root = lockedRoot(m)
      const l3 = installNode(m, root, 0)
      const l2 = installNode(m, l3, 0)
      const l1 = installNode(m, l2, 0)
      mapFrame(m, l1, 0)
      expect(new Checker(defaultRegistry(), 'full').violationsIn(m.state)).toEqual([])
    })
  })
})
