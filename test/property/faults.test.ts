/**
 * Full and incremental checking agree on runs with violations: random histories (valid for the
 * correct model) replayed with a faulty reducer (test/property/faults.ts: faults in every module)
 * give byte-identical violation lists in both modes, stop (when a later event becomes invalid) at
 * the same event with the same error, and most runs report violations.
 *
 * Each fault gets `RUNS_PER_FAULT` histories of 120 events, with the operations of its module
 * weighted up so that the faulty event occurs.
 */
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { ALL_OPS, generateHistory } from '../../src/log/gen.js'
import { FAULTS } from './faults.js'
import { focus, PHYSICAL_MEMORY, replay, RUNS_PER_FAULT, SEED } from './run.js'

const OPS = 120
const FOCUS = 6

const tally = { runs: 0, withViolations: 0 }

describe('full and incremental checking agree with faulty reducers', () => {
  for (const [name, fault] of Object.entries(FAULTS)) {
    it(`${fault.module}: ${name} — ${fault.doc}`, () => {
      let withViolations = 0
      let detected = 0
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const events = generateHistory({ seed, ops: OPS, physicalMemory: PHYSICAL_MEMORY, operations: focus(ALL_OPS, fault.focus ?? [fault.module], FOCUS) })
          const full = replay(events, 'full', [fault.spec])
          expect(replay(events, 'incremental', [fault.spec])).toEqual(full)
          // The history is valid for the correct model: a stop is the fault's doing too.
          if (full.count > 0) withViolations++
          if (full.count > 0 || full.stopped !== null) detected++
        }),
        { numRuns: RUNS_PER_FAULT, seed: SEED },
      )
      tally.runs += RUNS_PER_FAULT
      tally.withViolations += withViolations
      expect(detected).toBeGreaterThan(0)
    })
  }

  afterAll(() => {
    // most runs report violations (over every fault that ran)
    if (tally.runs > 0) expect(tally.withViolations / tally.runs).toBeGreaterThan(0.6)
  })
})
