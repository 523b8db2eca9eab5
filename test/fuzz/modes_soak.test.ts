/**
 * Full and incremental checking agree (issue 7, soak size): random valid histories over ALL_OPS
 * (every layer; half of them with an MMIO range; 1 MiB of physical memory) and, a quarter of them,
 * over frames, VmSpaces and the TLB operations, replayed in both modes must be accepted event for
 * event and report byte-identical violation lists (empty, for a correct model). The faulty-variant
 * side of the agreement is test/property/faults.test.ts.
 *
 * `SOAK_MODES_RUNS` histories (default 8 here: CI runs test/property/modes.test.ts;
 * `npm run soak` runs 10,000), `SOAK_MODES_MAX_OPS` events at most each (default 24: full
 * checking re-evaluates every invariant over the whole snapshot after every internal step, so the
 * histories stay short to make 10^4 of them affordable), `SOAK_MODES_SEED` the fast-check seed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ALL_OPS, generateHistory, prefixed, type Op } from '../../src/log/gen.js'
import { VM_TLB_OPS } from '../../src/log/gen_vm_tlb.js'
import { History } from '../../src/log/history.js'
import type { CheckMode } from '../../src/check/rule.js'
import type { ModelEvent } from '../../reducers/index.js'

/** 1 MiB (256 frames): a full check visits every slot after every internal step; small memory keeps 10^4 histories affordable. */
const PHYSICAL_MEMORY = 1 << 20
const MMIO_RANGES: ReadonlyArray<readonly [number, number]> = [[0x4_0000, 0x6_0000]]

/** Replays `events` in one mode: the index and error of the first dispatch that throws, and the violations as JSON. */
function replay(events: readonly ModelEvent[], check: CheckMode, mmioRanges: ReadonlyArray<readonly [number, number]>): { stopped: string | null; applied: number; violations: string; cachedEvents: number } {
  const h = new History({ check, physicalMemory: PHYSICAL_MEMORY, mmioRanges })
  let stopped: string | null = null
  let cachedEvents = 0
  for (let i = 0; i < events.length && stopped === null; i++) {
    try {
      h.dispatch(events[i]!)
      if (h.state.vm.tlb.mappings.length > 0) cachedEvents++
    } catch (e) {
      stopped = `event ${i}: ${String(e)}`
    }
  }
  return { stopped, applied: h.length, violations: JSON.stringify(h.violations()), cachedEvents }
}

const RUNS = Math.max(1, Number(process.env['SOAK_MODES_RUNS'] ?? 8))
const MAX_OPS = Math.max(1, Number(process.env['SOAK_MODES_MAX_OPS'] ?? 24))
const SEED = Number(process.env['SOAK_MODES_SEED'] ?? 20261123)

/**
 * A quarter of the histories: frames, VmSpaces and the TLB operations only, 2× to 4× longer. In
 * 24 events over ALL_OPS no user access ever meets a mapped page of the activated space, so the
 * TLB never caches a translation and no flush removes one (measured: 0 of 40 histories at 24
 * events, 8 of 40 at 48 with this table).
 */
const TLB_MIX: Record<string, Op> = Object.fromEntries(Object.entries({ ...ALL_OPS, ...prefixed('tlb', VM_TLB_OPS) }).filter(([k]) => /^(frame|vm|tlb)\./.test(k)))

describe('full == incremental (soak)', () => {
  it(`${RUNS} random valid histories of 1..${MAX_OPS} events (a quarter: VmSpaces and the TLB, ${2 * MAX_OPS}..${4 * MAX_OPS} events): both modes clean and identical`, () => {
    let tlbHistories = 0
    let cachedEvents = 0
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: MAX_OPS }), fc.boolean(), fc.integer({ min: 0, max: 3 }), (seed, ops, withMmio, mix) => {
        const tlb = mix === 0
        const mmio = withMmio && !tlb ? MMIO_RANGES : []
        const events = tlb
          ? generateHistory({ seed, ops: MAX_OPS + ops * 3, physicalMemory: PHYSICAL_MEMORY, operations: TLB_MIX })
          : generateHistory({ seed, ops, physicalMemory: PHYSICAL_MEMORY, mmioRanges: mmio })
        const full = replay(events, 'full', mmio)
        const inc = replay(events, 'incremental', mmio)
        expect(full.stopped).toBeNull()
        expect(full.applied).toBe(events.length)
        expect(inc).toEqual(full)
        expect(full.violations).toBe('[]')
        if (tlb) {
          tlbHistories++
          cachedEvents += full.cachedEvents
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: RUNS > 1000 },
    )
    // at soak size the TLB part must reach a TLB that caches something (a few histories in CI may not)
    if (tlbHistories >= 100) expect(cachedEvents).toBeGreaterThan(0)
    // a soak shard can run longer than the suite's 10-minute test timeout: ~1 s a history at most
  }, Math.max(600_000, RUNS * 1000))
})
