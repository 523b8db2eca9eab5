/**
 * The history tree: checkpoints within a byte budget, seek / undo / redo by events and by
 * internal steps, branches, verification of the record — with fast-check properties:
 * undo^k after k steps gives back the start snapshot exactly; export → import → replay gives
 * identical snapshot hashes; seek(i) equals replaying i steps from genesis.
 */
import equal from 'fast-deep-equal/es6/index.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ModelEvent } from '../../reducers/index.js'
import { REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import { OstdPanic } from '../../src/arch/errors.js'
import { retainedBytes, snapshotHash, type Checkpoint } from '../../src/log/checkpoints.js'
import { generateHistory } from '../../src/log/gen.js'
import { History, internalSteps, type HistoryOptions } from '../../src/log/history.js'
import { slotOf } from '../../src/model/slots.js'

const MEMORY = 1 << 22
const SEED = 20261122

/** Histories that force replay: few cached steps, dense checkpoints. */
const TIGHT: HistoryOptions = { physicalMemory: MEMORY, cacheSteps: 3, checkpointIntervalEvents: 8 }

const eventsCache = new Map<number, ModelEvent[]>()
function eventsFor(seed: number, ops = 150): ModelEvent[] {
  const key = seed * 10_000 + ops
  let e = eventsCache.get(key)
  if (e === undefined) {
    e = generateHistory({ seed, ops, physicalMemory: MEMORY })
    eventsCache.set(key, e)
  }
  return e
}

function build(events: readonly ModelEvent[], options: HistoryOptions = TIGHT): History {
  const h = new History(options)
  for (const e of events) h.dispatch(e)
  return h
}

describe('properties', () => {
  it('undo^k after k steps gives back the start snapshot exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 120 }), fc.integer({ min: 1, max: 30 }), (seed, startAt, k) => {
        const events = eventsFor(seed % 8)
        const h = build(events.slice(0, startAt))
        const start = h.state
        const startHash = snapshotHash(start)
        for (const e of events.slice(startAt, startAt + k)) h.dispatch(e)
        const applied = h.length - startAt
        for (let j = 0; j < applied; j++) h.undo()
        expect(h.length).toBe(startAt)
        expect(equal(h.state, start)).toBe(true)
        expect(snapshotHash(h.state)).toBe(startHash)
        // with the default cache the snapshot is the very same object
        const roomy = build(events.slice(0, startAt), { physicalMemory: MEMORY })
        const same = roomy.state
        for (const e of events.slice(startAt, startAt + k)) roomy.dispatch(e)
        for (let j = 0; j < applied; j++) roomy.undo()
        expect(roomy.state).toBe(same)
      }),
      { numRuns: 12, seed: SEED },
    )
  })

  it('export → import → replay gives identical snapshot hashes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.boolean(), (seed, withExpect) => {
        const h = build(eventsFor(seed))
        const copy = History.fromNDJSON(h.toNDJSON({ expect: withExpect, checkpoints: withExpect }), TIGHT)
        expect(copy.length).toBe(h.length)
        expect(copy.violations()).toEqual([])
        for (let i = 0; i <= h.length; i++) {
          expect(snapshotHash(copy.snapshotAt(i))).toBe(snapshotHash(h.snapshotAt(i)))
          expect(equal(copy.snapshotAt(i), h.snapshotAt(i))).toBe(true)
        }
      }),
      { numRuns: 6, seed: SEED },
    )
  })

  it('seek(i) equals replaying i steps from genesis', () => {
    const events = eventsFor(5)
    const h = build(events)
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: events.length }), { minLength: 1, maxLength: 6 }), (targets) => {
        for (const i of targets) {
          const s = h.seek(i)
          const fresh = build(events.slice(0, i), { physicalMemory: MEMORY, check: 'off' })
          expect(h.length).toBe(i)
          expect(equal(s, fresh.state)).toBe(true)
          expect(snapshotHash(s)).toBe(snapshotHash(fresh.state))
        }
      }),
      { numRuns: 10, seed: SEED },
    )
  })
})

describe('checkpoints', () => {
  it('stay within the byte budget by thinning (interval doubles), and verify by re-derivation', () => {
    const events = eventsFor(2, 400)
    const unbounded = build(events, { physicalMemory: MEMORY, checkpointIntervalEvents: 4 }).memoryEstimate()
    expect(unbounded.intervalEvents).toBe(4)
    const budget = Math.floor(unbounded.checkpointBytes / 3)
    const h = build(events, { physicalMemory: MEMORY, checkpointIntervalEvents: 4, checkpointBytes: budget })
    const m = h.memoryEstimate()
    expect(m.checkpointBytes).toBeLessThanOrEqual(budget)
    expect(m.intervalEvents).toBeGreaterThan(4)
    expect(h.checkpoints().length).toBeGreaterThanOrEqual(4)
    const cps = h.checkpoints()
    expect(cps[0]!.index).toBe(0)
    for (const c of cps.slice(1)) expect(c.index % m.intervalEvents).toBe(0)
    expect(h.verifyCheckpoints()).toEqual([])
    expect(h.verify()).toBeNull()
    // a corrupted checkpoint is found (and seek through it would be wrong: verify says where)
    const bad = cps[2]!
    const corrupted = { ...bad, snapshot: { ...bad.snapshot, counters: { ...bad.snapshot.counters, frame: 9999 } } }
    ;(cps as Checkpoint[])[2] = corrupted
    expect(h.verifyCheckpoints()).toEqual([bad.index])
    expect(h.verify()).toBe(bad.index - 1)
  })

  it('the estimate charges only what is not shared with the previous snapshot', () => {
    const h = build(eventsFor(1, 60), { physicalMemory: MEMORY })
    // the last event that changes the state (a read-only event shares everything)
    let i = 60
    while (i > 1 && h.snapshotAt(i) === h.snapshotAt(i - 1)) i--
    const a = h.snapshotAt(i - 1)
    const b = h.snapshotAt(i)
    expect(retainedBytes(b, b)).toBe(0)
    expect(retainedBytes(b, a)).toBeGreaterThan(0)
    expect(retainedBytes(b, a)).toBeLessThan(retainedBytes(b, undefined) / 4)
  })

  it('the event log costs at most 64 bytes per event', () => {
    const h = build(eventsFor(4, 2000), { physicalMemory: MEMORY, check: 'off' })
    expect(h.memoryEstimate().eventBytes / h.length).toBeLessThanOrEqual(64)
  })
})

describe('internal steps', () => {
  /** Event 0 is a composite: alloc_frame → frame.from_unused → meta_slot.get_from_unused. */
  function composite(): History {
    const h = new History({ physicalMemory: MEMORY })
    h.dispatch({ type: 'frame_alloc.alloc_frame' })
    h.dispatch({ type: 'frame.clone', frame: 0 })
    return h
  }

  it('seek(i, k) is the snapshot after internal step k of event i; undoStep / redoStep walk every position', () => {
    const h = composite()
    const inner = internalSteps(h.at(0))
    // depth first, in the order the snapshots were produced: the nested step comes first
    expect(inner.map((x) => [x.step.event.type, x.path])).toEqual([
      ['meta_slot.get_from_unused', [0, 0]],
      ['frame.from_unused', [0]],
    ])
    for (let k = 0; k < inner.length; k++) {
      expect(h.seek(0, k)).toBe(inner[k]!.step.after)
      expect(h.position).toEqual({ index: 0, internal: k })
    }
    expect(() => h.seek(0, inner.length)).toThrow(RangeError)
    expect(() => h.dispatch({ type: 'frame_alloc.alloc_frame' })).toThrow(/inside event 0/)
    // walk forward from genesis to the end, then back
    h.seek(0)
    const forward = [h.position]
    while (h.redoStep() !== null) forward.push(h.position)
    expect(forward).toEqual([
      { index: 0, internal: null },
      { index: 0, internal: 0 },
      { index: 0, internal: 1 },
      { index: 1, internal: null },
      { index: 2, internal: null },
    ])
    const backward = [h.position]
    while (h.undoStep() !== null) backward.push(h.position)
    expect(backward.reverse()).toEqual(forward)
    // undo from inside an event goes to its start; redo completes it
    h.seek(0, 1)
    expect(h.undo()?.index).toBe(0)
    expect(h.position).toEqual({ index: 0, internal: null })
    expect(h.state).toBe(h.genesis)
    h.seek(0, 0)
    expect(h.redo()?.index).toBe(0)
    expect(h.position).toEqual({ index: 1, internal: null })
    expect(slotOf(h.state, 0).refCount).toBe(1)
  })
})

describe('branches', () => {
  it('dispatching after an undo forks: the old branch stays reachable', () => {
    const h = new History()
    h.dispatch({ type: 'frame_alloc.alloc_frame' })
    h.dispatch({ type: 'frame.clone', frame: 0 })
    const old = h.state
    h.undo()
    h.dispatch({ type: 'frame.drop', frame: 0 })
    expect(h.branches()).toEqual([
      { id: 0, parent: null, forkAt: 0, length: 2 },
      { id: 1, parent: 0, forkAt: 1, length: 2 },
    ])
    h.checkout(0)
    expect(h.length).toBe(1)
    h.redo()
    expect(equal(h.state, old)).toBe(true)
    h.checkout(1)
    expect(h.events().map((e) => e.type)).toEqual(['frame_alloc.alloc_frame', 'frame.drop'])
  })

  it('a failed dispatch after an undo creates no branch and changes nothing', () => {
    const h = new History()
    h.dispatch({ type: 'frame_alloc.alloc_frame' })
    h.dispatch({ type: 'frame.clone', frame: 0 })
    h.undo()
    const before = h.state
    expect(() => h.dispatch({ type: 'frame.drop', frame: 5 })).toThrow(OstdPanic)
    expect(h.branches().length).toBe(1)
    expect(h.state).toBe(before)
    expect(h.canRedo).toBe(true)
    // an event that is not JSON data cannot be recorded: refused before anything changes
    const raw = new History({ validate: false })
    raw.dispatch({ type: 'frame_alloc.alloc_frame', zeroed: true, meta: { type: '()', untyped: true, value: null } })
    raw.undo()
    expect(() => raw.dispatch({ type: 'frame_alloc.alloc_frame', zeroed: true, meta: { type: '()', untyped: true, value: null }, note: 1n })).toThrow(/not JSON data/)
    expect(raw.branches().length).toBe(1)
    expect(raw.length).toBe(0)
  })

  it('branch(i) skips or replaces an event and recomputes the future, stopping at the first event it makes invalid', () => {
    const h = new History()
    const events: ModelEvent[] = [
      { type: 'frame_alloc.alloc_frame' },
      { type: 'frame_alloc.alloc_frame' },
      { type: 'frame.clone', frame: 1 },
      { type: 'frame.drop', frame: 0 },
      { type: 'frame.drop', frame: 2 },
    ]
    for (const e of events) h.dispatch(e)
    // skipping the clone: dropping frame 2 is now a drop of a handle that was never created
    const skipped = h.branch(2, { skip: true })
    expect(skipped).toMatchObject({ id: 1, parent: 0, forkAt: 2, length: 3, stopped: { oldIndex: 4, rule: 'REQ-EMB-FRAMEDROP-1' } })
    expect(h.events().map((e) => e.type)).toEqual(['frame_alloc.alloc_frame', 'frame_alloc.alloc_frame', 'frame.drop'])
    // replacing it by another clone: the future applies in full
    h.checkout(0)
    const replaced = h.branch(2, { replace: { type: 'frame.clone', frame: 0 } })
    expect(replaced.stopped).toBeNull()
    expect(replaced.length).toBe(5)
    // frame 0 and its two clones are gone; frame 1 is still held once
    expect(slotOf(h.state, 0).refCount).toBe(REF_COUNT_UNUSED)
    expect(slotOf(h.state, 1).refCount).toBe(1)
    // inserting an event keeps the old event too
    h.checkout(0)
    expect(h.branch(0, { insert: { type: 'frame_alloc.alloc_frame' } })).toMatchObject({ length: 6 })
    // a replacement that fails changes nothing
    h.checkout(0)
    const n = h.branches().length
    expect(() => h.branch(1, { replace: { type: 'frame.drop', frame: 8 } })).toThrow(OstdPanic)
    expect(h.branches().length).toBe(n)
    expect(h.branchId).toBe(0)
    expect(h.length).toBe(5)
    // the original branch is intact
    expect(h.events()).toEqual(events.map((e) => h.eventAt(events.indexOf(e))))
    expect(h.verify()).toBeNull()
  })
})
