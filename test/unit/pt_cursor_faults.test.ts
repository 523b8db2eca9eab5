/**
 * Fault injection in the page-table cursor (issue 4): faulty `CursorMut` reducers, each a slip the
 * Verus proof code guards against, are caught on their first faulty step by the rule that names
 * the slip, in full and in incremental mode alike (test/unit/pt_faults.test.ts does the same for
 * the entry layer):
 *
 * - a `map` that forgets to split: it meets a huge leaf above the item's level and drops it
 *   (`Child::None` in, the old leaf dropped) before allocating a node, instead of splitting it —
 *   the other 511 pages of the huge mapping vanish (ENS-CURSORMUT-MAP-2, `map_spec`);
 * - a `take_next` that forgets `num_frames` of a stray sub-tree, and one that forgets to mark the
 *   detached sub-tree stray (no `stray_mut` write) — ENS-PTCURSOR-TAKENEXT-3;
 * - a `protect_next` that changes a neighbour: it protects the slot after the one it reports too
 *   (ENS-CURSORMUT-PROTECTNEXT-2, `protect_spec`).
 *
 * The scenario (an untracked page table, a cursor over [0, 4 MiB)): two 4 KiB leaves in a level-1
 * node, a 2 MiB leaf, a 4 KiB map inside it (the split), a protect_next of the first 4 KiB leaf,
 * a take_next of the level-1 node as a stray page table and the drop of its handle.
 */
import { describe, expect, it } from 'vitest'
import { PAGE_SIZE, pageSize } from '../../src/arch/constants.js'
import { isOstdPanic } from '../../src/arch/errors.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { createModel, type Model } from '../../src/api/model.js'
import { editSnapshot } from '../../src/model/edit.js'
import { cursorAt, indexAt } from '../../src/model/pt_cursor.js'
import { childPath, nodeOwnerAt } from '../../src/model/spec/page_table.js'
import { slotOf } from '../../src/model/slots.js'
import { tableForEach } from '../../src/model/table.js'
import { StepRecorder, variantOf, type AnyEventSpec } from '../../reducers/index.js'
import { childDrop, childNone } from '../../reducers/page_table/child.js'
import { cursorOf, setVa } from '../../reducers/page_table/cursor.js'
import { adjustToLevel, cursorMutMap, cursorMutProtectNext, cursorMutTakeNext, itemIntoRaw } from '../../reducers/page_table/cursor_mut.js'
import { entryReplace } from '../../reducers/page_table/entry.js'
import { entryAllocIfNone } from '../../reducers/page_table/entry_composite.js'
import { editNodeStorage, patchRecord } from '../../reducers/page_table/node.js'

const RW = newUser(PageFlags.RW)
const RX = newUser(PageFlags.RX)
const K4 = PAGE_SIZE
const M2 = pageSize(2)

/**
 * `map`'s level adjustment with the slip: a huge leaf above the item's level is taken out and
 * dropped, and a fresh node allocated in its place, instead of `split_if_mapped_huge`.
 */
function adjustForgettingSplit(rec: StepRecorder, id: number, level: number): void {
  adjustToLevel(rec, id, level, (r, entry) => {
    const c = cursorOf(r.snapshot, id)
    const node = nodeOwnerAt(r.snapshot, c.owner.continuations[c.level - 1]!.slot)!
    const none = r.run(childNone, { type: 'child.none', tree: node.tree, path: childPath(node.path, indexAt(c.va, c.level)), parentLevel: c.level })
    const old = r.run(entryReplace, { type: 'entry.replace', entry, child: none.child }).child
    r.run(childDrop, { type: 'child.drop', child: old })
    return r.run(entryAllocIfNone, { type: 'entry.alloc_if_none', entry })
  })
}

interface CursorFault {
  readonly doc: string
  readonly spec: AnyEventSpec
}

const FAULTS: Record<string, CursorFault> = {
  mapForgetsSplit: {
    doc: 'CursorMut::map meets a huge leaf above the item level and drops it instead of splitting it',
    spec: variantOf(cursorMutMap, (s, e) => {
      const rec = new StepRecorder(s)
      adjustForgettingSplit(rec, e.cursor, itemIntoRaw(s, cursorOf(s, e.cursor).config, e.item).level)
      const out = cursorMutMap.reduce(rec.snapshot, e)
      return { snapshot: out.snapshot, result: out.result, steps: [...rec.steps, ...(out.steps ?? [])] }
    }),
  },
  takeNextForgetsNumFrames: {
    doc: 'CursorMut::take_next returns a stray page table with num_frames 0',
    spec: variantOf(cursorMutTakeNext, (s, e) => {
      const out = cursorMutTakeNext.reduce(s, e)
      return out.result?.kind === 'StrayPageTable' ? { ...out, result: { ...out.result, numFrames: 0 } } : out
    }),
  },
  takeNextForgetsStray: {
    doc: 'CursorMut::take_next detaches a sub-tree without marking it stray (no stray_mut write: exec flag and ghost cell stay false)',
    spec: variantOf(cursorMutTakeNext, (s, e) => {
      const out = cursorMutTakeNext.reduce(s, e)
      return {
        ...out,
        snapshot: editSnapshot(out.snapshot, (_d, t) => {
          tableForEach(out.snapshot.pt.owners, (r, slot) => {
            const st = slotOf(out.snapshot, slot).storage
            const was = slotOf(s, slot).storage
            if (st?.kind !== 'PTNode' || !st.stray || (was?.kind === 'PTNode' && was.stray)) return
            editNodeStorage(t, out.snapshot, slot, (m) => ({ ...m, stray: false }))
            patchRecord(t, slot, { metaOwn: { ...r.metaOwn, stray: false } })
          })
        }),
      }
    }),
  },
  protectNextChangesNeighbour: {
    doc: 'CursorMut::protect_next also applies op to the slot after the one it protects (and reports)',
    spec: variantOf(cursorMutProtectNext, (s, e) => {
      const first = cursorMutProtectNext.reduce(s, e)
      const c = cursorAt(first.snapshot, e.cursor)!
      if (first.result === null || c.va >= c.barrierVa.end) return first
      const second = cursorMutProtectNext.reduce(first.snapshot, { ...e, len: K4 })
      return { snapshot: setVa(second.snapshot, e.cursor, c.va), result: first.result, steps: [...(first.steps ?? []), ...(second.steps ?? [])] }
    }),
  },
}

/** Steps of the scenario where a fault first acts. */
interface Marks {
  splitMap: number
  protect: number
  takeStray: number
}

/** Runs the scenario under `fault`: the model, the marks, and the panic that stopped it, if any. */
function scenario(fault: AnyEventSpec | null, check: 'full' | 'incremental'): { m: Model; marks: Marks; panic: string | null } {
  const m = createModel({ check, physicalMemory: 1 << 24, variants: fault === null ? [] : [fault] })
  const marks: Marks = { splitMap: -1, protect: -1, takeStray: -1 }
  const jump = (c: number, va: number): void => void m.call({ type: 'cursor.jump', cursor: c, va })
  try {
    const pt = m.call<{ pageTable: number }>({ type: 'page_table.new', config: 'untracked' }).pageTable
    const c = m.call<{ value: { cursor: number } }>({ type: 'page_table.cursor_mut', pageTable: pt, vaStart: 0, vaEnd: 2 * M2 }).value.cursor
    jump(c, K4)
    m.call({ type: 'cursor_mut.map', cursor: c, item: { pa: 0x10_0000, level: 1, prop: RW } })
    m.call({ type: 'cursor_mut.map', cursor: c, item: { pa: 0x11_0000, level: 1, prop: RW } })
    jump(c, M2)
    m.call({ type: 'cursor_mut.map', cursor: c, item: { pa: 2 * M2, level: 2, prop: RW } })
    jump(c, M2 + 3 * K4)
    marks.splitMap = m.history.length
    m.call({ type: 'cursor_mut.map', cursor: c, item: { pa: 0x12_0000, level: 1, prop: RX } })
    jump(c, 0)
    marks.protect = m.history.length
    m.call({ type: 'cursor_mut.protect_next', cursor: c, len: 4 * K4, prop: RX })
    // back to the guard level (2): the level-1 node [0, 2 MiB) is then one entry of the window
    jump(c, M2)
    jump(c, 0)
    marks.takeStray = m.history.length
    const frag = m.call<{ kind: string; pt: number } | null>({ type: 'cursor_mut.take_next', cursor: c, len: M2 })
    if (frag?.kind === 'StrayPageTable') m.call({ type: 'page_table_node.drop', node: frag.pt })
    m.call({ type: 'cursor.drop', cursor: c })
    return { m, marks, panic: null }
  } catch (err) {
    if (!isOstdPanic(err)) throw err
    return { m, marks, panic: err.rule }
  }
}

const EXPECTED: Record<keyof typeof FAULTS, { at: keyof Marks; event: string; rules: string[] }> = {
  // The 511 other pages of the 2 MiB leaf are gone (map_spec), and map returns Ok where the split's
  // piece at the address should have come back as Err(Mapped).
  mapForgetsSplit: { at: 'splitMap', event: 'cursor_mut.map', rules: ['ENS-CURSORMUT-MAP-2', 'ENS-PTCURSOR-MAP-1'] },
  takeNextForgetsNumFrames: { at: 'takeStray', event: 'cursor_mut.take_next', rules: ['ENS-PTCURSOR-TAKENEXT-3'] },
  takeNextForgetsStray: { at: 'takeStray', event: 'cursor_mut.take_next', rules: ['ENS-PTCURSOR-TAKENEXT-3'] },
  protectNextChangesNeighbour: { at: 'protect', event: 'cursor_mut.protect_next', rules: ['ENS-CURSORMUT-PROTECTNEXT-2'] },
}

describe('faulty cursor reducers are caught on their first faulty step', () => {
  for (const [name, fault] of Object.entries(FAULTS)) {
    it(`${name}: ${fault.doc}`, () => {
      const want = EXPECTED[name as keyof typeof FAULTS]
      const full = scenario(fault.spec, 'full')
      const incremental = scenario(fault.spec, 'incremental')
      const v = full.m.history.violations()
      const step = v[0]!.step
      const caught = { step, event: full.m.history.events()[step]!.type, rules: [...new Set(v.filter((x) => x.step === step).map((x) => x.rule))].sort() }
      expect(caught).toEqual({ step: full.marks[want.at], event: want.event, rules: want.rules })
      expect(incremental.m.history.violations()).toEqual(v)
      expect(incremental.panic).toBe(full.panic)
    })
  }

  it('the correct reducers run the same scenario clean, in both modes', () => {
    for (const check of ['full', 'incremental'] as const) {
      const { m, panic } = scenario(null, check)
      expect(panic).toBe(null)
      expect(m.history.violations()).toEqual([])
    }
  })
})
