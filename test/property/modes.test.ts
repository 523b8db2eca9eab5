/**
 * Random valid histories over every operation of the generator (`ALL_OPS`) replay with every
 * dispatch succeeding and zero violations, and full and incremental checking report the same
 * (empty) list. Faulty reducers: test/property/faults.test.ts.
 *
 * `MODES_RUNS` sets the number of histories (default 40); `MODES_SEED` the fast-check seed
 * (default fixed, so that a run is reproducible; a soak run varies it).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { generateHistory } from '../../src/log/gen.js'
import { MMIO_RANGES, PHYSICAL_MEMORY, replay, RUNS, SEED } from './run.js'

describe('random valid histories over ALL_OPS', () => {
  it(`replay cleanly in full and incremental mode, and the two agree (${RUNS} histories of 1..150 events)`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 150 }), (seed, ops) => {
        const events = generateHistory({ seed, ops, physicalMemory: PHYSICAL_MEMORY })
        expect(events).toHaveLength(ops)
        const full = replay(events, 'full')
        expect(full.stopped).toBeNull()
        expect(full.applied).toBe(ops)
        expect(full.violations).toBe('[]')
        expect(replay(events, 'incremental')).toEqual(full)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })

  it(`with MMIO ranges configured too (${Math.ceil(RUNS / 4)} histories of 1..150 events)`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 150 }), (seed, ops) => {
        const events = generateHistory({ seed, ops, physicalMemory: PHYSICAL_MEMORY, mmioRanges: MMIO_RANGES })
        const full = replay(events, 'full', [], MMIO_RANGES)
        expect(full.stopped).toBeNull()
        expect(full.violations).toBe('[]')
        expect(replay(events, 'incremental', [], MMIO_RANGES)).toEqual(full)
      }),
      { numRuns: Math.ceil(RUNS / 4), seed: SEED },
    )
  })

  it(`longer histories replay cleanly in incremental mode (${Math.ceil(RUNS / 10)} histories of 1,500 events, half with MMIO)`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const mmio = seed % 2 === 0 ? MMIO_RANGES : []
        const events = generateHistory({ seed, ops: 1500, physicalMemory: PHYSICAL_MEMORY, mmioRanges: mmio })
        const inc = replay(events, 'incremental', [], mmio)
        expect(inc.stopped).toBeNull()
        expect(inc.violations).toBe('[]')
      }),
      { numRuns: Math.ceil(RUNS / 10), seed: SEED },
    )
  })
})
