import equal from 'fast-deep-equal/es6/index.js'
import { describe, expect, it } from 'vitest'
import { createModel } from '../../src/api/model.js'
import { unwrap } from '../../src/api/result.js'
import { OstdPanic } from '../../src/arch/errors.js'
import { History, InvalidEventError } from '../../src/log/history.js'
import { generateHistory } from '../../src/log/gen.js'
import { parseTrace, TraceError } from '../../src/log/trace.js'
import { slotOf } from '../../src/model/slots.js'
import { lastValueFrom, take, toArray } from 'rxjs'

describe('event log', () => {
  it('undo restores the previous snapshot exactly and redo re-applies the event', () => {
    const m = createModel()
    const f = unwrap(m.frames.allocFrame())
    const before = m.state
    f.clone()
    const after = m.state
    expect(slotOf(after, 0).refCount).toBe(2)
    const undone = m.history.undo()
    expect(undone?.event).toEqual({ type: 'frame.clone', frame: 0 })
    expect(m.state).toBe(before)
    expect(m.history.canRedo).toBe(true)
    m.history.redo()
    expect(equal(m.state, after)).toBe(true)
    expect(slotOf(m.state, 0).refCount).toBe(2)
  })

  it('dispatching after an undo drops the redo stack', () => {
    const h = new History()
    h.dispatch({ type: 'frame_alloc.alloc_frame' })
    h.dispatch({ type: 'frame.clone', frame: 0 })
    h.undo()
    h.dispatch({ type: 'frame.drop', frame: 0 })
    expect(h.canRedo).toBe(false)
    expect(h.events().map((e) => e.type)).toEqual(['frame_alloc.alloc_frame', 'frame.drop'])
  })

  it('seek moves the head within applied and undone steps', () => {
    const h = new History()
    for (let i = 0; i < 5; i++) h.dispatch({ type: 'frame_alloc.alloc_frame' })
    const third = h.snapshotAt(3)
    h.seek(3)
    expect(h.state).toBe(third)
    h.seek(5)
    expect(h.length).toBe(5)
    expect(() => h.seek(6)).toThrow(RangeError)
  })

  it('a panicking event leaves the snapshot the identical object and the history unchanged', () => {
    const m = createModel()
    unwrap(m.frames.allocFrame())
    const before = m.state
    const length = m.history.length
    for (const bad of [
      { type: 'frame.drop', frame: 7 }, // unknown handle
      { type: 'frame.from_raw', paddr: 0x1000 }, // never forgotten
      { type: 'meta_slot.drop_last_in_place', paddr: 0 }, // rc 1, not 0 or UNIQUE
    ]) {
      expect(() => m.dispatch(bad)).toThrow(OstdPanic)
      expect(m.state).toBe(before)
      expect(m.history.length).toBe(length)
    }
  })

  it('a double drop names the live-handle rule', () => {
    const m = createModel()
    const f = unwrap(m.frames.allocFrame())
    m.dispatch({ type: 'frame.drop', frame: f.id })
    try {
      m.dispatch({ type: 'frame.drop', frame: f.id })
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(OstdPanic)
      expect((e as OstdPanic).rule).toBe('REQ-EMB-FRAMEDROP-1')
      expect((e as OstdPanic).message).toContain('Frame 0 is not a live handle')
    }
  })

  it('using a consumed handle panics (Rust move semantics)', () => {
    const m = createModel()
    const f = unwrap(m.frames.allocFrame())
    f.drop()
    expect(() => f.clone()).toThrow(/REQ-HANDLE-1/)
    expect(() => f.startPaddr()).toThrow(/REQ-HANDLE-1/)
  })

  it('an invalid event names the field and applies nothing', () => {
    const h = new History()
    expect(() => h.dispatch({ type: 'frame.drop', frame: -1 })).toThrow(InvalidEventError)
    try {
      h.dispatch({ type: 'frame.from_unused', paddr: 4096, meta: { type: 3 } })
    } catch (e) {
      expect((e as InvalidEventError).field).toBe('meta.type')
    }
    expect(() => h.dispatch({ type: 'no.such.event' })).toThrow(/unknown event type/)
    expect(h.length).toBe(0)
  })

  it('replaying an exported history gives identical snapshots', () => {
    const events = generateHistory({ seed: 7, ops: 300 })
    const h = new History()
    for (const e of events) h.dispatch(e)
    const copy = History.fromNDJSON(h.toNDJSON())
    expect(copy.length).toBe(h.length)
    for (let i = 0; i <= h.length; i++) expect(equal(copy.snapshotAt(i), h.snapshotAt(i))).toBe(true)
    expect(JSON.stringify(copy.state, replacer)).toBe(JSON.stringify(h.state, replacer))
    expect(h.verify()).toBeNull()
  })

  it('publishes steps and violations on RxJS subjects', async () => {
    const h = new History()
    const steps = lastValueFrom(h.steps$.pipe(take(2), toArray()))
    h.dispatch({ type: 'frame_alloc.alloc_frame' })
    h.dispatch({ type: 'frame.clone', frame: 0 })
    expect((await steps).map((s) => s.index)).toEqual([0, 1])
  })
})

describe('NDJSON import', () => {
  const header = '{"format":"ostd-model-trace","version":1,"config":{}}'

  it('names the line and field of the first bad line and applies nothing', () => {
    const text = [header, '{"type":"frame_alloc.alloc_frame"}', '{"type":"frame.clone","frame":"zero"}', '{"type":"frame.drop"}'].join('\n')
    try {
      History.fromNDJSON(text)
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(TraceError)
      expect((e as TraceError).line).toBe(3)
      expect((e as TraceError).field).toBe('frame')
    }
  })

  it('reports malformed JSON, a bad header and an unknown type with their line', () => {
    expect(() => parseTrace([header, '{"type": "frame.drop", frame: 1}'].join('\n'))).toThrow(/line 2: not valid JSON/)
    expect(() => parseTrace('{"format":"other","version":1}')).toThrow(/line 1, field format: bad trace header/)
    expect(() => parseTrace([header, '', '{"type":"frame.fly"}'].join('\n'))).toThrow(/line 3, field type: unknown event type "frame.fly"/)
    expect(() => parseTrace('')).toThrow(/empty trace/)
  })

  it('fills schema defaults (FrameAllocOptions zeroes by default)', () => {
    const t = parseTrace([header, '{"type":"frame_alloc.alloc_frame"}'].join('\n'))
    expect(t.events[0]).toMatchObject({ zeroed: true, meta: { type: '()', untyped: true } })
  })
})

function replacer(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? Array.from(v) : v
}
