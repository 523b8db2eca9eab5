/**
 * Checking in worker threads (`checkInWorkers`): the same violations as a sequential check, in
 * the same order, whatever the number of workers — on a valid history (none) and with a faulty
 * reducer variant that every worker imports (many, spread over the segments).
 */
import { describe, expect, it } from 'vitest'
import { checkInWorkers, evenBounds, segmentBounds } from '../../src/log/parallel.js'
import { SegmentRunner, checkSegment } from '../../src/log/check_segment.js'
import { generateHistory, ALL_OPS } from '../../src/log/gen.js'
import { History } from '../../src/log/history.js'
import { leakyDrop } from '../../examples/faulty_variant.js'

const frameOps = Object.fromEntries(Object.entries(ALL_OPS).filter(([k]) => k.startsWith('frame.') || k.startsWith('segment.')))

describe('segmentBounds', () => {
  it('cuts n events into w segments whose prefix replay plus check costs are equal', () => {
    const b = segmentBounds(10_000, 3, 0.25)
    expect(b[0]).toBe(0)
    expect(b[3]).toBe(10_000)
    const cost = (j: number): number => b[j]! * 0.25 + (b[j + 1]! - b[j]!)
    for (const j of [1, 2]) expect(Math.abs(cost(j) - cost(0))).toBeLessThan(3)
    // later segments are shorter: their workers replay a longer prefix first
    expect(b[1]! - b[0]!).toBeGreaterThan(b[3]! - b[2]!)
    expect(segmentBounds(5, 1, 0.25)).toEqual([0, 5])
  })
})

describe('evenBounds', () => {
  it('cuts n events into k segments of equal length', () => {
    expect(evenBounds(10, 4)).toEqual([0, 3, 5, 8, 10])
    expect(evenBounds(3, 1)).toEqual([0, 3])
  })
})

describe('SegmentRunner', () => {
  const events = generateHistory({ seed: 5, ops: 120, operations: frameOps })
  it('checks segments in order, replaying only the events between them, with the verdicts of one segment each from genesis', () => {
    const runner = new SegmentRunner({ events, check: 'incremental', config: {} })
    for (const [from, to] of [[0, 30], [50, 80], [80, 120]] as const) {
      expect(runner.run(from, to)).toMatchObject({ ...checkSegment({ events, from, to, check: 'incremental', config: {} }), prefixMs: expect.any(Number), checkMs: expect.any(Number) })
    }
    expect(() => runner.run(10, 20)).toThrow(RangeError)
  })
})

describe('checkInWorkers', () => {
  const events = generateHistory({ seed: 17, ops: 400, operations: frameOps })

  it('finds no violation in a valid history', async () => {
    const r = await checkInWorkers(events, { workers: 2 })
    expect(r.segments).toHaveLength(2)
    expect(r.segments[1]!.from).toBe(r.segments[0]!.to)
    expect(r.violations).toEqual([])
    expect(r.rejected).toBeNull()
  })

  it('reports what a sequential check reports, with a reducer variant imported by every worker', async () => {
    // the leak makes a later drop of the same slot invalid: the history is taken up to there
    const sequential = new History({ check: 'incremental', validate: false, variants: [leakyDrop] })
    let n = 0
    try {
      for (const e of events) {
        sequential.dispatch(e)
        n++
      }
    } catch {
      // the first event the leaky model rejects
    }
    const want = sequential.violations()
    const prefix = events.slice(0, n)
    const steps = new Set(want.map((v) => v.step))
    expect(steps.size).toBeGreaterThan(3)
    for (const workers of [2, 3]) {
      const r = await checkInWorkers(prefix, { workers, variantsModule: 'examples/faulty_variant.ts' })
      expect(r.rejected).toBeNull()
      expect(r.violations).toEqual(want)
      // with three workers the violations (steps 22..32 of 33) come from two segments
      if (workers === 3) expect(r.segments.filter((s) => s.violations.length > 0).length).toBeGreaterThan(1)
    }
    // Many segments from a queue (full checking's default): the same violations, every segment checked once.
    const r = await checkInWorkers(prefix, { workers: 2, segmentsPerWorker: 5, variantsModule: 'examples/faulty_variant.ts' })
    expect(r.violations).toEqual(want)
    expect(r.segments.map((s) => [s.from, s.to])).toEqual(evenBounds(prefix.length, 10).slice(0, -1).map((b, j) => [b, evenBounds(prefix.length, 10)[j + 1]]))
    expect(new Set(r.segments.map((s) => s.worker))).toEqual(new Set([0, 1]))
  })

  it('stops at the first event the model rejects, as a sequential check does', async () => {
    // frame.drop of a handle dropped before: rejected (REQ-HANDLE-…), nothing after it is checked
    const drop = events.findIndex((e) => e.type === 'frame.drop')
    const bad = [...events.slice(0, 200), events[drop]!, ...events.slice(200)]
    expect(drop).toBeLessThan(200)
    const r = await checkInWorkers(bad, { workers: 2, segmentsPerWorker: 4 })
    expect(r.rejected).toMatchObject({ index: 200, rule: expect.stringMatching(/^REQ-/) })
    expect(r.violations.every((v) => v.step <= r.rejected!.index)).toBe(true)
    expect(r.segments.every((s) => s.from <= r.rejected!.index)).toBe(true)
  })
})
