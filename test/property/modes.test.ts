/**
 * Full and incremental checking report identical violations, over random valid histories (clean
 * runs) and over histories run with faulty reducers (runs with violations).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { frameClone, frameDrop, frameIntoRaw } from '../../reducers/frame/frame.js'
import type { AnyEventSpec } from '../../reducers/index.js'
import { History } from '../../src/log/history.js'
import { generateHistory } from '../../src/log/gen.js'
import { editSnapshot } from '../../src/model/edit.js'
import { tableGet } from '../../src/model/table.js'
import { frameToIndex } from '../../src/arch/constants.js'
import { variant } from '../firing/harness.js'

/** Faulty variants that break different rules, to compare the modes on violations too. */
const FAULTS: Record<string, AnyEventSpec> = {
  // drop forgets to do anything: the handle stays, rc stays (ENS-FRAME-DROP-*, ENS-EMB-FRAMEDROP-*)
  dropDoesNothing: variant(frameDrop, (s) => ({ snapshot: s, result: null })),
  // clone registers the handle but does not count the reference (ENS-FRAME-CLONE-1, INV-ACCT-3)
  cloneForgetsRc: variant(frameClone, (s, e) => {
    const o = frameClone.reduce(s, e)
    return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => {
      const idx = frameToIndex(tableGet(s.frames, e.frame)!.paddr)
      t.metaSlots.set(idx, tableGet(s.metaSlots, idx))
      t.slotOwners.set(idx, tableGet(s.regions.slotOwners, idx))
    }) }
  }),
  // into_raw leaves a stray obligation on slot 1 (ENS-FRAME-FORGET-1, INV-OBLIG-1)
  intoRawStrayObligation: variant(frameIntoRaw, (s, e) => {
    const o = frameIntoRaw.reduce(s, e)
    return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => void t.frameObligations.set(1, 5)) }
  }),
}

function run(events: ReturnType<typeof generateHistory>, check: 'full' | 'incremental', variants: AnyEventSpec[]): string {
  const h = new History({ check, variants, physicalMemory: 1 << 22 })
  for (const e of events) {
    try {
      h.dispatch(e)
    } catch {
      // a faulty reducer can make a later event invalid; both modes stop at the same place
      break
    }
  }
  return JSON.stringify(h.violations())
}

const RUNS = Number(process.env.MODES_RUNS ?? 60)

describe('full and incremental checking agree', () => {
  it(`on ${RUNS} random valid histories (no violations)`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 120 }), (seed, ops) => {
        const events = generateHistory({ seed, ops, physicalMemory: 1 << 22 })
        const full = run(events, 'full', [])
        expect(full).toBe('[]')
        expect(run(events, 'incremental', [])).toBe(full)
      }),
      { numRuns: RUNS },
    )
  })

  it(`on ${RUNS} random histories run with faulty reducers (with violations)`, () => {
    let withViolations = 0
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(...Object.keys(FAULTS)), (seed, fault) => {
        const events = generateHistory({ seed, ops: 80, physicalMemory: 1 << 22 })
        const full = run(events, 'full', [FAULTS[fault]!])
        const inc = run(events, 'incremental', [FAULTS[fault]!])
        expect(inc).toBe(full)
        if (full !== '[]') withViolations++
      }),
      { numRuns: RUNS },
    )
    expect(withViolations).toBeGreaterThan(RUNS / 4)
  })
})
