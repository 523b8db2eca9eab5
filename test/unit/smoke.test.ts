import { describe, expect, it } from 'vitest'
import { History } from '../../src/log/history.js'
import { slotOf } from '../../src/model/slots.js'

describe('frame life cycle through the log', () => {
  it('allocates, clones and drops a frame without violations', () => {
    for (const check of ['full', 'incremental'] as const) {
      const h = new History({ check })
      const a = h.dispatch({ type: 'frame_alloc.alloc_frame' })
      expect(a.result).toEqual({ ok: true, value: { frame: 0, paddr: 0 } })
      const c = h.dispatch({ type: 'frame.clone', frame: 0 })
      expect(c.result).toEqual({ frame: 1 })
      expect(slotOf(h.state, 0).refCount).toBe(2)
      h.dispatch({ type: 'frame.drop', frame: 0 })
      h.dispatch({ type: 'frame.drop', frame: 1 })
      expect(slotOf(h.state, 0).refCount).toBe(-1)
      expect(h.violations()).toEqual([])
    }
  })
})
