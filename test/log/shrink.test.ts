/**
 * shrink: delta debugging over the events of a failing history, with handle ids rewritten when
 * the events that created them move, dependent events dropped with their creators; the result
 * still reports the same rule. Property: shrinking an injected bug's failing history (the faulty
 * reducers of test/property/faults.ts) yields ≤ 10 events in most runs.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ModelEvent } from '../../reducers/index.js'
import { ALL_OPS, generateHistory } from '../../src/log/gen.js'
import { History } from '../../src/log/history.js'
import { describeShrink, handleFields, shrink } from '../../src/log/shrink.js'
import { FAULTS } from '../property/faults.js'
import { focus, PHYSICAL_MEMORY } from '../property/run.js'

const cloneForgetsRc = FAULTS['cloneForgetsRc']!.spec

describe('shrink', () => {
  it('finds handle fields from the schemas (HandleId), not from names alone', () => {
    expect(handleFields('frame.clone')).toEqual(['frame'])
    expect(handleFields('entry.replace')).toEqual(['entry', 'child'])
    expect(handleFields('child.from_pte')).toEqual([]) // `node` there is a slot index
    expect(handleFields('child.from_node')).toEqual(['node'])
  })

  it('rewrites handle ids when their creators move, and drops the events that use removed ones', () => {
    const events: ModelEvent[] = [
      { type: 'frame_alloc.alloc_frame' }, // frame 0
      { type: 'frame_alloc.alloc_frame' }, // frame 1
      { type: 'frame.clone', frame: 0 }, // frame 2 (faulty, but it is not the one we ask for…)
      { type: 'frame.drop', frame: 2 },
      { type: 'frame_alloc.alloc_frame' }, // frame 3
      { type: 'frame.clone', frame: 3 }, // frame 4
      { type: 'frame.drop', frame: 0 },
    ]
    const h = new History({ variants: [cloneForgetsRc] })
    for (const e of events) h.dispatch(e)
    const rule = h.violations()[0]!.rule
    const r = shrink(h, rule)
    // one allocation and one clone of it suffice; the clone refers to the allocation's new id
    expect(r.events).toEqual([
      { type: 'frame_alloc.alloc_frame', zeroed: true, meta: { type: '()', untyped: true, value: null } },
      { type: 'frame.clone', frame: 0 },
    ])
    expect(r.violation.rule).toBe(rule)
    expect(r.stats).toMatchObject({ initial: 7, cut: 3, final: 2 })
    expect(r.stats.dependents).toBeGreaterThan(0) // candidates without the allocation lost the clone with it
    expect(describeShrink(r)).toMatch(/shrunk 7 events to 2 that still report/)
    // the result replays as it is and still fails the same way
    const again = new History({ variants: [cloneForgetsRc] })
    for (const e of r.events) again.dispatch(e)
    expect(again.violations().map((v) => v.rule)).toContain(rule)
  })

  it('refuses a history that does not report the rule', () => {
    const events: ModelEvent[] = [
      { type: 'frame_alloc.alloc_frame' },
      { type: 'frame_alloc.alloc_frame' },
      { type: 'frame.drop', frame: 0 },
      { type: 'segment.from_frame', frame: 1 },
    ]
    const h = new History()
    for (const e of events) h.dispatch(e)
    expect(() => shrink(h, 'ENS-FRAME-CLONE-1')).toThrow(/does not report/)
  })

  it("an injected bug's failing history shrinks to at most 10 events in most runs", () => {
    const names = ['cloneForgetsRc', 'dropDoesNothing', 'getFromUnusedKeepsUsage', 'uniqueDropLeavesOwner', 'intoSharedKeepsUnique', 'replaceForgetsNrChildren', 'fromFrameForgetsPath']
    const sizes: number[] = []
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (name, seed) => {
        const fault = FAULTS[name]!
        const events = generateHistory({ seed, ops: 80, physicalMemory: PHYSICAL_MEMORY, operations: focus(ALL_OPS, fault.focus ?? [fault.module], 20) })
        const h = new History({ physicalMemory: PHYSICAL_MEMORY, variants: [fault.spec] })
        for (const e of events) {
          try {
            h.dispatch(e)
          } catch {
            break
          }
        }
        const first = h.violations()[0]
        if (first === undefined) return // the faulty event did not occur
        const r = shrink(h, first.rule, { seed })
        expect(r.violation.rule === first.rule || (r.violation.also ?? []).includes(first.rule)).toBe(true)
        expect(r.events.length).toBeLessThanOrEqual(r.stats.cut)
        sizes.push(r.events.length)
      }),
      { numRuns: 14, seed: 20261122 },
    )
    if (process.env['SHRINK_SIZES']) console.log('shrunk sizes', sizes)
    expect(sizes.length).toBeGreaterThan(5)
    expect(sizes.filter((n) => n <= 10).length / sizes.length).toBeGreaterThanOrEqual(0.8)
  })
})
