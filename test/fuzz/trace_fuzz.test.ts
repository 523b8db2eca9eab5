/**
 * Fuzzing of every input path (issue 7): bad trace text — valid traces (examples/traces, random
 * valid histories) with one mutation, truncated files, garbage — through parseTrace,
 * History.fromNDJSON and replay. The oracle (oracle.ts): no crash (only TraceError), no hang, the
 * error names the line, nothing from the bad line on is applied.
 *
 * `FUZZ_RUNS` cases (default 300 in CI; `npm run soak` runs 10^6), `FUZZ_SEED` the fast-check seed
 * (fixed by default). A failure prints the case (base trace, mutation, text) fast-check shrank to.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { corpus } from './corpus.js'
import { fuzzCase } from './mutate.js'
import { checkInput } from './oracle.js'
import { setSnapshotFreezing } from '../../src/model/immer.js'

const RUNS = Math.max(1, Number(process.env['FUZZ_RUNS'] ?? 300))
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261122)

describe('input fuzzing: parseTrace, History.fromNDJSON, replay', () => {
  it(`${RUNS} bad traces: only TraceError, the line named, nothing applied from it on`, () => {
    // replay() turns freezing off while it runs; the other paths are as fast without it.
    setSnapshotFreezing(false)
    try {
      const bases = corpus()
      fc.assert(
        fc.property(fuzzCase(bases), (c) => {
          const problems = checkInput(c)
          if (problems.length > 0) throw new Error(`${c.base}, ${c.mutation} (changed from line ${c.fromLine}):\n  ${problems.join('\n  ')}\ntext:\n${c.text.slice(0, 2000)}`)
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: RUNS > 10_000 },
      )
    } finally {
      setSnapshotFreezing(true)
    }
    // a soak shard runs far longer than the suite's 10-minute test timeout: ~100 ms a case at most
  }, Math.max(600_000, RUNS * 100))

  it('the mutations reach every path: some cases fail validation, some are rejected by the model, some replay', () => {
    const bases = corpus()
    const kinds = new Set<string>()
    fc.assert(
      fc.property(fuzzCase(bases), (c) => {
        kinds.add(classify(c.text))
      }),
      { numRuns: 200, seed: SEED },
    )
    expect([...kinds].sort()).toEqual(['invalid', 'rejected', 'valid'])
  })

  // Found by this fuzzing (2026-11-22): the header schema accepted a physicalMemory that genesis
  // refuses (not a multiple of 4 KiB) and malformed mmioRanges, and genesis's RangeError escaped
  // replay / History.fromNDJSON. TraceConfig now runs genesis's checks; this pins it.
  it('header configurations the model refuses are TraceErrors of line 1', () => {
    setSnapshotFreezing(false)
    try {
      const config = fc.oneof(
        fc.integer({ min: 1, max: 2 ** 40 }).filter((n) => n % 4096 !== 0).map((physicalMemory) => ({ physicalMemory })),
        fc.tuple(fc.nat(1 << 24), fc.nat(1 << 24)).filter(([a, b]) => a % 4096 !== 0 || b % 4096 !== 0 || a >= b).map((r) => ({ mmioRanges: [r] })),
      )
      fc.assert(
        fc.property(config, (cfg) => {
          const text = `${JSON.stringify({ format: 'ostd-model-trace', version: 2, config: cfg })}\n{"type":"frame_alloc.alloc_frame"}\n`
          const problems = checkInput({ base: 'header', mutation: `config = ${JSON.stringify(cfg)}`, text, fromLine: 1 })
          if (problems.length > 0) throw new Error(problems.join('\n'))
        }),
        { numRuns: 50, seed: SEED },
      )
    } finally {
      setSnapshotFreezing(true)
    }
  })
})

import { replay } from '../../src/log/replay.js'
function classify(text: string): string {
  const r = replay(text, { check: 'off' })
  return r.error === null ? 'valid' : r.error.kind
}
