/**
 * The benchmark's page-table workloads (test/bench/workloads.ts): every generated event is valid
 * (the model replays them checked, with no violation), and the mutable baseline does the same
 * work — the cross-check passes, and fails when the baseline's table differs.
 */
import { describe, expect, it } from 'vitest'
import { crossCheck, runBaseline, runModel, setUp, workloadEvents } from '../bench/workloads.js'

describe('the page-table workloads and their mutable baseline', () => {
  for (const name of ['random', 'sequential'] as const) {
    it(`${name}: valid events, model and baseline agree`, () => {
      const { s, cursor, pageTable } = setUp()
      const events = workloadEvents(name, 150, 7, cursor)
      expect(events).toHaveLength(300)
      const types = new Set(events.map((e) => e.type))
      expect([...types].sort()).toEqual(['cursor.jump', 'cursor.query', 'cursor_mut.map', 'cursor_mut.protect_next', 'cursor_mut.unmap'])
      const model = runModel(events, 'incremental', s)
      expect(model.violations).toBe(0)
      const baseline = runBaseline(events)
      expect(() => crossCheck(events, model, baseline, pageTable)).not.toThrow()
      // a baseline that maps one page elsewhere is caught
      let va = 0
      while (baseline.table.walk(va) === null) va += 4096
      baseline.table.walk(va)!.pa += 4096
      expect(() => crossCheck(events, model, baseline, pageTable)).toThrow(/the model maps/)
    })
  }
})
