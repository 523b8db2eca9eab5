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

/** Faulty variants that break different rules, to compare the modes on violations too. */
const FAULTS: Record<string, AnyEventSpec> = {
  dropLeaksHandle: { ...frameDrop, reduce: (s, e) => ({ ...frameDrop.reduce(s, e), snapshot: s }) } as unknown as AnyEventSpec,
  cloneForgetsRc: {
    ...frameClone,
    reduce: (s, e) => {
      const o = frameClone.reduce(s, e as never)
      return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => t.metaSlots.set(0, s.metaSlots === o.snapshot.metaSlots ? null : t.metaSlots.get(0))) }
    },
  } as unknown as AnyEventSpec,
  intoRawNoRawCount: {
    ...frameIntoRaw,
    reduce: (s, e) => {
      const o = frameIntoRaw.reduce(s, e as never)
      return { ...o, snapshot: editSnapshot(o.snapshot, (_d, t) => void t.frameObligations.set(1, 5)) }
    },
  } as unknown as AnyEventSpec,
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
