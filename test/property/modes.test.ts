/**
 * Random valid histories over every operation of the generator (`ALL_OPS`, and `ALL_OPS` with the
 * TLB operations of src/log/gen_vm_tlb.ts) replay with every dispatch succeeding and zero
 * violations, and full and incremental checking report the same (empty) list. Faulty reducers: test/property/faults.test.ts.
 *
 * `MODES_RUNS` sets the number of histories (default 40); `MODES_SEED` the fast-check seed
 * (default fixed, so that a run is reproducible; a soak run varies it).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ModelEvent } from '../../reducers/index.js'
import { ALL_OPS, generateHistory, prefixed } from '../../src/log/gen.js'
import { VM_TLB_OPS } from '../../src/log/gen_vm_tlb.js'
import { History } from '../../src/log/history.js'
import { focus, MMIO_RANGES, PHYSICAL_MEMORY, replay, RUNS, SEED } from './run.js'

/** Events of `events` dispatched while the TLB caches a translation. */
function cachedTranslationEvents(events: readonly ModelEvent[]): number {
  const h = new History({ check: 'off', physicalMemory: PHYSICAL_MEMORY })
  let n = 0
  for (const e of events) {
    if (h.state.vm.tlb.mappings.length > 0) n++
    h.dispatch(e)
  }
  return n
}

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

  it(`VmSpaces with user accesses that cache translations, and flushes (${Math.ceil(RUNS / 8)} histories of 1..150 events over ALL_OPS + the TLB operations)`, () => {
    const ops = focus({ ...ALL_OPS, ...prefixed('tlb', VM_TLB_OPS) }, ['vm', 'tlb'], 4)
    let cachedEvents = 0
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 150 }), (seed, n) => {
        const events = generateHistory({ seed, ops: n, physicalMemory: PHYSICAL_MEMORY, operations: ops })
        const full = replay(events, 'full')
        expect(full.stopped).toBeNull()
        expect(full.violations).toBe('[]')
        expect(replay(events, 'incremental')).toEqual(full)
        cachedEvents += cachedTranslationEvents(events)
      }),
      { numRuns: Math.ceil(RUNS / 8), seed: SEED },
    )
    // the point of the mix: events meet a TLB that caches something
    expect(cachedEvents).toBeGreaterThan(0)
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
