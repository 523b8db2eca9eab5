/**
 * The mutation test (`npm run mutation`, Stryker over reducers/): the CHECKER ALONE judges the
 * reducers. It replays the fixed valid histories of test/mutation/fixtures.json (generated once by
 * the unmutated model: test/mutation/make_fixtures.ts) and fails on any violation the checker
 * reports or any error a dispatch throws (a mutant that makes a valid event panic, or crashes).
 * There is no hand-written assertion about results or states: a mutant survives iff every step
 * of every history satisfies every implemented rule.
 *
 * Probes (`MUTATION_PROBES`, on unless `0`): invalid events recorded with the precondition rule the
 * unmutated model refuses them with (histories.ts `Probe`), offered at their position: each must be
 * refused with that rule and leave the state untouched. They give the REQ rules (the reducers'
 * `requires` predicates) the negative cases valid histories lack. Targeted probes the model
 * answers (an `Err` for a bad address) are dispatched on the side, checked, and undone.
 * QUALITY.md reports both scores.
 *
 * Checking mode: `MUTATION_CHECK` (`incremental` by default, `full` allowed). Full checking costs
 * ~50 ms per event on these histories (every invariant over the whole snapshot after every
 * internal step), too slow for one run per mutant; incremental reports exactly what full reports
 * (test/property/modes.test.ts, and `npm run soak` over 10^4 histories). Measured in QUALITY.md.
 *
 * Excluded from `npm test` (test/vitest.config.ts); run by Stryker through
 * test/mutation/vitest.config.ts.
 */
import { readFileSync } from 'node:fs'
import { describe, it } from 'vitest'
import type { ModelEvent } from '../../reducers/index.js'
import type { CheckMode } from '../../src/check/rule.js'
import { History } from '../../src/log/history.js'
import { isOstdPanic } from '../../src/arch/errors.js'
import { FIXTURES_FILE, type FixtureHistory, type Probe } from './histories.js'

const MODE = (process.env['MUTATION_CHECK'] ?? 'incremental') as CheckMode
const fixtures = JSON.parse(readFileSync(FIXTURES_FILE, 'utf8')) as { physicalMemory: number; histories: FixtureHistory[] }

const PROBES = process.env['MUTATION_PROBES'] !== '0'

function replayClean(events: readonly ModelEvent[], probes: readonly Probe[], physicalMemory: number, mmioRanges: ReadonlyArray<readonly [number, number]>): void {
  const h = new History({ check: MODE, physicalMemory, mmioRanges })
  let next = 0
  for (let i = 0; i < events.length; i++) {
    for (; next < probes.length && probes[next]!.at === i; next++) refused(h, probes[next]!)
    const step = h.dispatch(events[i]!)
    if (step.violations.length > 0) {
      const v = step.violations.slice(0, 3).map((x) => `${x.rule} at ${x.path}: ${x.message}`)
      throw new Error(`event ${i} (${events[i]!.type}): ${step.violations.length} violation(s): ${v.join('; ')}`)
    }
  }
}

/**
 * The probe's event must be refused with its rule, the history untouched (REQ rules: see `Probe`);
 * an answered probe (`rule: null`) is dispatched, must draw no violation, and is undone.
 */
function refused(h: History, p: Probe): void {
  const before = h.state
  if (p.rule === null) {
    const step = h.dispatch(p.event)
    if (step.violations.length > 0) {
      const v = step.violations.slice(0, 3).map((x) => `${x.rule} at ${x.path}: ${x.message}`)
      throw new Error(`probe before event ${p.at} (${JSON.stringify(p.event)}): ${step.violations.length} violation(s): ${v.join('; ')}`)
    }
    h.undo()
    if (h.state !== before) throw new Error(`probe before event ${p.at}: undo did not restore the state`)
    return
  }
  try {
    h.dispatch(p.event)
  } catch (e) {
    if (isOstdPanic(e) && e.rule === p.rule && h.state === before) return
    throw new Error(`probe before event ${p.at} (${p.event.type}): expected ${p.rule}, got ${isOstdPanic(e) ? e.rule : String(e)}${h.state === before ? '' : ' and the state changed'}`)
  }
  throw new Error(`probe before event ${p.at} (${JSON.stringify(p.event)}) was accepted; the model refuses it with ${p.rule}`)
}

/** A failure of the unmutated model means the fixtures are stale (the model changed): `npm run mutation:fixtures`. */
describe(`checker alone (${MODE}) over the fixed valid histories`, () => {
  for (const { seed, events, probes, physicalMemory, mmioRanges } of fixtures.histories) {
    const memory = physicalMemory ?? fixtures.physicalMemory
    it(`seed ${seed}${physicalMemory === undefined ? '' : ` (${physicalMemory / 1024} KiB)`}${mmioRanges === undefined ? '' : ' (MMIO)'} (${events.length} events${PROBES ? `, ${probes?.length ?? 0} probes` : ''})`, () =>
      replayClean(events, PROBES ? (probes ?? []) : [], memory, mmioRanges ?? []))
  }
})
