/**
 * The checker's own readings of the allocator policy (src/check/rules/frame/allocator_policy.ts)
 * and of Entry handles (src/check/rules/page_table/entry_reads.ts) agree with the reducers'
 * helpers they replace, on every state of the mutation fixtures' histories (all layers, every
 * entry, guard and node they create), and with the policy on named cases. They are kept apart so
 * that a fault in either shows as a difference (issue 7, QUALITY.md).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { freedLast, policyFrame, policyRun } from '../../src/check/rules/frame/allocator_policy.js'
import { entryAt, lockedSlotOf, nodeLevelAt, vaArg } from '../../src/check/rules/page_table/entry_reads.js'
import { droppedChildren, freshNodeMeta } from '../../src/check/rules/page_table/node_reads.js'
import { History } from '../../src/log/history.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableForEach } from '../../src/model/table.js'
import { createModel } from '../../src/api/model.js'
import { freeStackTop, pickFrame, pickRun } from '../../reducers/frame/allocator.js'
import { entryContext, guardLevel, guardSlot } from '../../reducers/page_table/entry.js'
import { vaOf } from '../../reducers/page_table/page_table.js'
import { newNodeStorage, onDropChildren } from '../../reducers/page_table/node.js'
import { FIXTURES_FILE, type FixtureHistory } from '../mutation/histories.js'

const fixtures = JSON.parse(readFileSync(FIXTURES_FILE, 'utf8')) as { physicalMemory: number; histories: FixtureHistory[] }

/** Every state of every fixture history (unchecked: the fixtures are valid), with its history's seed. */
function* fixtureStates(): Generator<{ seed: number; at: number; s: Snapshot }> {
  for (const { seed, events, physicalMemory, mmioRanges } of fixtures.histories) {
    const h = new History({ check: 'off', physicalMemory: physicalMemory ?? fixtures.physicalMemory, mmioRanges: mmioRanges ?? [] })
    yield { seed, at: -1, s: h.state }
    for (let at = 0; at < events.length; at++) {
      h.dispatch(events[at]!)
      yield { seed, at, s: h.state }
    }
  }
}

describe("the checker's own readings agree with the reducers' helpers", () => {
  it('on every fixture state: the allocator pick, the freed-last frame, entries, guards and node levels', () => {
    let entries = 0
    let guards = 0
    let runs = 0
    let children = 0
    for (const { seed, at, s } of fixtureStates()) {
      const where = `seed ${seed}, after event ${at}`
      expect(policyFrame(s), where).toEqual(pickFrame(s))
      expect(freedLast(s), where).toBe(freeStackTop(s))
      // A run scan reads every frame: on every eighth state, for a few lengths.
      if (at % 8 === 0) {
        for (const n of [2, 3, 16, 513]) expect(policyRun(s, n), `${where}, ${n} frames`).toEqual(pickRun(s, n))
        runs++
      }
      let maxEntry = -1
      tableForEach(s.pt.entries, (_e, id) => {
        maxEntry = Math.max(maxEntry, id)
        expect(entryAt(s, id), `${where}, entry ${id}`).toEqual(entryContext(s, id))
        entries++
      })
      expect(entryAt(s, maxEntry + 1)).toBeNull()
      let maxGuard = -1
      tableForEach(s.pt.guards, (_g, id) => {
        maxGuard = Math.max(maxGuard, id)
        const slot = lockedSlotOf(s, id)
        expect(slot, `${where}, guard ${id}`).toBe(guardSlot(s, id))
        expect(nodeLevelAt(s, slot!), `${where}, node ${slot}`).toBe(guardLevel(s, slot!))
        guards++
      })
      expect(lockedSlotOf(s, maxGuard + 1)).toBeNull()
      // Reading a node's 512 PTEs: on every fourth state.
      if (at % 4 === 0) tableForEach(s.pt.owners, (_r, slot) => {
        const got = droppedChildren(s, slot)
        expect(got, `${where}, node ${slot}`).toEqual(onDropChildren(s, slot))
        children += got.length
      })
    }
    // The fixtures reach what the comparison is about.
    expect(entries).toBeGreaterThan(100)
    expect(guards).toBeGreaterThan(1000)
    expect(runs).toBeGreaterThan(500)
    expect(children).toBeGreaterThan(1000)
  })

  it("build a new node's metadata as newNodeStorage does", () => {
    for (const config of ['user', 'kernel', 'untracked'] as const) for (const level of [1, 2, 3, 4]) expect(freshNodeMeta(level, config)).toEqual(newNodeStorage(level, config))
  })

  it('read va arguments as vaOf does', () => {
    for (const va of [0, 0x1000, Number.MAX_SAFE_INTEGER, '0x0', '0xffff800000000000', '0xffffffffffffffff']) expect(vaArg(va)).toEqual(vaOf(va))
    expect(vaArg('0xffff800000001000')).toBe(0xffff_8000_0000_1000n)
  })
})

describe('the allocator policy, on named cases (behaviour.md §2.7)', () => {
  it('reuses the most recently freed frame, then the never-used ones', () => {
    const m = createModel({ check: 'off' })
    const alloc = () => m.call<{ ok: true; value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value
    const a = alloc()
    const b = alloc()
    expect(policyFrame(m.state)?.firstIndex).toBe(b.paddr / 0x1000 + 1)
    m.call({ type: 'frame.drop', frame: a.frame })
    expect(freedLast(m.state)).toBe(a.paddr / 0x1000)
    expect(policyFrame(m.state)).toMatchObject({ firstIndex: a.paddr / 0x1000, freeStackLen: 0 })
    // A run of two comes from the never-used frames after the mark, not from the freed one.
    expect(policyRun(m.state, 2)).toMatchObject({ firstIndex: b.paddr / 0x1000 + 1, bumpIndex: b.paddr / 0x1000 + 3 })
  })
})
