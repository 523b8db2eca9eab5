/** `Frame` and the allocator through the facade: what each call returns and changes. */
import { describe, expect, it } from 'vitest'
import { createModel, unwrap } from '../../src/index.js'
import { ownerOf, slotOf } from '../../src/model/slots.js'
import { tableGet } from '../../src/model/table.js'

describe('frames', () => {
  it('the allocator hands out the most recently freed frame first (LIFO), then never-used frames', () => {
    const m = createModel()
    const [a, b, c] = [0, 1, 2].map(() => unwrap(m.frames.allocFrame()))
    expect([a!.startPaddr(), b!.startPaddr(), c!.startPaddr()]).toEqual([0, 0x1000, 0x2000])
    a!.drop()
    c!.drop()
    expect(unwrap(m.frames.allocFrame()).startPaddr()).toBe(0x2000)
    expect(unwrap(m.frames.allocFrame()).startPaddr()).toBe(0)
    expect(unwrap(m.frames.allocFrame()).startPaddr()).toBe(0x3000)
    expect(m.history.violations()).toEqual([])
  })

  it('zeroes by default, and a non-zeroed allocation sees the old bytes', () => {
    const m = createModel()
    const f = unwrap(m.frames.allocFrame())
    unwrap(f.writeBytes(0, new Uint8Array([1, 2, 3])))
    f.drop()
    const stale = unwrap(m.frames.allocFrame({ zeroed: false }))
    expect(Array.from(unwrap(stale.readBytes(0, 3)))).toEqual([1, 2, 3])
    stale.drop()
    const fresh = unwrap(m.frames.allocFrame())
    expect(Array.from(unwrap(fresh.readBytes(0, 3)))).toEqual([0, 0, 0])
    expect(tableGet(m.state.memory, 0)).toBeNull() // a zeroed page has no storage
  })

  it('the last drop frees the slot (UNUSED) but keeps its usage', () => {
    const m = createModel()
    const f = unwrap(m.frames.allocFrame())
    const g = f.clone()
    expect(f.referenceCount()).toBe(2)
    f.drop()
    expect(slotOf(m.state, 0).refCount).toBe(1)
    g.drop()
    expect(slotOf(m.state, 0)).toEqual({ refCount: -1, storage: null, vtablePtr: null, inList: 0 })
    expect(ownerOf(m.state, 0).usage).toBe('Frame')
  })

  it('from_unused and from_in_use return the GetFrameError OSTD returns', () => {
    const m = createModel({ physicalMemory: 1 << 22, mmioRanges: [[0x10_0000, 0x10_2000]] })
    expect(m.frames.fromUnused(0x1001)).toEqual({ ok: false, error: 'NotAligned' })
    expect(m.frames.fromUnused(1 << 22)).toEqual({ ok: false, error: 'OutOfBound' }) // beyond RAM, below MAX_PADDR
    expect(m.frames.fromUnused(0x10_0000)).toEqual({ ok: false, error: 'InUse' }) // device memory
    expect(m.frames.fromInUse(0x5000)).toEqual({ ok: false, error: 'Unused' })
    const f = unwrap(m.frames.fromUnused(0x5000))
    expect(m.frames.fromUnused(0x5000)).toEqual({ ok: false, error: 'InUse' })
    expect(unwrap(m.frames.fromInUse(0x5000)).referenceCount()).toBe(2)
    expect(f.meta()).toEqual({ type: '()', untyped: true, value: null })
    expect(m.history.violations()).toEqual([])
  })

  it('into_raw keeps the reference; from_raw revives it', () => {
    const m = createModel()
    const paddr = unwrap(m.frames.allocFrame()).intoRaw()
    expect(slotOf(m.state, 0).refCount).toBe(1)
    expect(ownerOf(m.state, 0).rawCount).toBe(1)
    const back = m.frames.fromRaw(paddr)
    expect(ownerOf(m.state, 0).rawCount).toBe(0)
    back.drop()
    expect(slotOf(m.state, 0).refCount).toBe(-1)
    expect(m.history.violations()).toEqual([])
  })
})
