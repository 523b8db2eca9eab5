/**
 * Writes test/mutation/fixtures.json: the fixed histories of the mutation test, generated with the
 * unmutated reducers (`npm run mutation:fixtures`). Each history is replayed here with incremental
 * checking and must be clean; the set must map 4 KiB, 2 MiB and 1 GiB pages and split huge
 * leaves, else nothing is written.
 */
import { writeFileSync } from 'node:fs'
import type { ModelEvent } from '../../reducers/index.js'
import { generateHistory } from '../../src/log/gen.js'
import { History } from '../../src/log/history.js'
import {
  exercised,
  makeProbes,
  noPaths,
  EXTRA_FIXTURES,
  SCRIPTED_FIXTURES,
  scriptedEvents,
  FIXTURE_OPERATIONS,
  FIXTURE_OPS,
  FIXTURE_SEEDS,
  FIXTURES_FILE,
  PHYSICAL_MEMORY,
  type ExercisedPath,
  type FixtureHistory,
} from './histories.js'

const histories: FixtureHistory[] = []
const mapped: Record<string, number> = {}
let split = 0
const types = new Set<string>()
const paths = noPaths()
/** Replays `events` (must be clean), adds what they exercise to the totals, probes them and keeps the history. */
function addHistory(label: string, seed: number, events: ModelEvent[], memory?: number, mmioRanges?: ReadonlyArray<readonly [number, number]>): void {
  const physicalMemory = memory ?? PHYSICAL_MEMORY
  const started = performance.now()
  const h = new History({ check: 'incremental', physicalMemory, mmioRanges: mmioRanges ?? [] })
  for (const e of events) h.dispatch(e)
  const ms = performance.now() - started
  if (h.violations().length > 0) throw new Error(`${label}: the unmutated model reports ${h.violations().length} violations`)
  const x = exercised(events, physicalMemory, mmioRanges)
  for (const k of Object.keys(paths) as ExercisedPath[]) paths[k] += x.paths[k]
  for (const [k, v] of Object.entries(x.mapped)) mapped[k] = (mapped[k] ?? 0) + v
  split += x.split
  for (const t of x.types) types.add(t)
  console.log(`${label}${memory === undefined ? '' : ` (${memory / 1024} KiB)`}${mmioRanges === undefined ? '' : ' (MMIO)'}: ${events.length} events, ${x.types.size} types, incremental ${ms.toFixed(0)} ms, mapped ${JSON.stringify(x.mapped)}, splits ${x.split}, paths ${JSON.stringify(x.paths)}`)
  const crashes: string[] = []
  const probes = makeProbes(events, seed, crashes, 4, physicalMemory, mmioRanges)
  for (const c of crashes) console.log(`  MODEL CRASH on an invalid event (not an OstdPanic): ${c}`)
  const rules = new Set(probes.flatMap((p) => (p.rule === null ? [] : [p.rule])))
  console.log(`  ${probes.length} probes (${probes.filter((p) => p.rule === null).length} answered, checked), ${rules.size} rules: ${[...rules].sort().join(' ')}`)
  histories.push({ seed, ...(memory === undefined ? {} : { physicalMemory: memory }), ...(mmioRanges === undefined ? {} : { mmioRanges }), events, probes })
}

const specs = [...FIXTURE_SEEDS.map((seed) => ({ seed, physicalMemory: undefined, mmioRanges: undefined, operations: undefined })), ...EXTRA_FIXTURES]
for (const { seed, physicalMemory, mmioRanges, operations } of specs) {
  const events = generateHistory({ seed, ops: FIXTURE_OPS, physicalMemory: physicalMemory ?? PHYSICAL_MEMORY, mmioRanges, operations: FIXTURE_OPERATIONS[operations ?? 'mutation'] })
  addHistory(`seed ${seed}`, seed, events, physicalMemory, mmioRanges)
}
for (const f of SCRIPTED_FIXTURES) addHistory(`script ${f.seed}`, f.seed, scriptedEvents(f), f.physicalMemory, f.mmioRanges)
for (const k of ['4K', '2M', '1G']) if (!(mapped[k]! > 0)) throw new Error(`the fixed set maps no ${k} page: change the seeds or HUGE_OPS`)
if (split === 0) throw new Error('the fixed set splits no huge leaf: change the seeds or HUGE_OPS')
for (const [k, v] of Object.entries(paths)) if (v === 0) throw new Error(`the fixed set never takes the path ${k}: change EXTRA_FIXTURES`)
writeFileSync(FIXTURES_FILE, JSON.stringify({ physicalMemory: PHYSICAL_MEMORY, histories }) + '\n')
console.log(`wrote ${FIXTURES_FILE.pathname}: ${histories.length} histories, ${types.size} event types, mapped ${JSON.stringify(mapped)}, splits ${split}, paths ${JSON.stringify(paths)}`)
