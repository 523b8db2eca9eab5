/**
 * Full and incremental checking agree on runs with violations: random histories (valid for the
 * correct model) replayed with a faulty reducer (test/property/faults.ts: faults in every module)
 * give byte-identical violation lists in both modes, stop (when a later event becomes invalid) at
 * the same event with the same error, and most runs report violations.
 *
 * Each fault gets `RUNS_PER_FAULT` histories of 120 events, with the operations of its module
 * weighted up to 80% of the mix so that the faulty event occurs (VmSpace faults: over `ALL_OPS`
 * and the TLB operations, so that flushes meet cached translations).
 */
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { ALL_OPS, generateHistory, prefixed, type Op } from '../../src/log/gen.js'
import { VM_TLB_OPS } from '../../src/log/gen_vm_tlb.js'
import { FAULTS } from './faults.js'
import { focus, PHYSICAL_MEMORY, replay, RUNS_PER_FAULT, SEED } from './run.js'

const OPS = 120
/** The fault's operation groups carry this share of the total weight (whatever the number of groups). */
const FOCUS_SHARE = 0.8

/** `ALL_OPS` and the TLB operations (prefix `tlb`). */
const WITH_TLB: Record<string, Op> = { ...ALL_OPS, ...prefixed('tlb', VM_TLB_OPS) }

/** The weight factor that gives the groups `prefixes` `FOCUS_SHARE` of the weight of `ops`. */
function focusFactor(ops: Record<string, Op>, prefixes: readonly string[]): number {
  let inside = 0
  let outside = 0
  for (const [k, op] of Object.entries(ops)) {
    if (prefixes.some((p) => k.startsWith(`${p}.`))) inside += op.weight
    else outside += op.weight
  }
  return Math.max(1, (FOCUS_SHARE / (1 - FOCUS_SHARE)) * (outside / inside))
}

const tally = { runs: 0, withViolations: 0 }

describe('full and incremental checking agree with faulty reducers', () => {
  for (const [name, fault] of Object.entries(FAULTS)) {
    it(`${fault.module}: ${name} — ${fault.doc}`, () => {
      let withViolations = 0
      let detected = 0
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const base = fault.tlb === true ? WITH_TLB : ALL_OPS
          const groups = fault.focus ?? [fault.module]
          const events = generateHistory({ seed, ops: fault.ops ?? OPS, physicalMemory: PHYSICAL_MEMORY, operations: focus(base, groups, focusFactor(base, groups)) })
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
