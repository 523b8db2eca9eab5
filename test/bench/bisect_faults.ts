/**
 * Persistent bisection (`firstViolation(h, { persistent: true })`) with the planted fault at two
 * places of a long unchecked history: `late` is the history bench's (the leaky `Frame::drop` of
 * examples/faulty_variant.ts once frame ids pass 90% of those the history makes; the leak makes a
 * later event invalid, and the history ends there — a history cut short by its fault), `midway`
 * starts it at 50% and lets the history go on (the events it makes invalid are left out), so the
 * search has to come back from the end across the broken stretch.
 *
 *   node --max-old-space-size=16384 --import tsx test/bench/bisect_faults.ts [--events 1000000] [--seed 1]
 *
 * Prints, per placement, the faulty history's length, the step found and the time of a first
 * (cold) search and two more in the same process (caches warm). BENCH.md has the figures.
 */
import { parseArgs } from 'node:util'
import { variantOf } from '../../reducers/index.js'
import { frameDrop } from '../../reducers/frame/frame.js'
import { leakyDrop } from '../../examples/faulty_variant.js'
import { firstViolation } from '../../src/log/bisect.js'
import { ALL_OPS, generateHistory, type Op } from '../../src/log/gen.js'
import { History } from '../../src/log/history.js'
import { setSnapshotFreezing } from '../../src/model/immer.js'

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '1' } } })
const n = Number(values.events)
const seed = Number(values.seed)
const PHYSICAL_MEMORY = 1 << 28

setSnapshotFreezing(false)
// the history bench's frame-layer mix (test/bench/run.ts, workload `frame`)
const FRAME_LAYER = ['meta', 'frame', 'unique', 'segment', 'list', 'io']
const operations: Record<string, Op> = Object.fromEntries(Object.entries(ALL_OPS).filter(([k]) => FRAME_LAYER.includes(k.slice(0, k.indexOf('.')))))
const events = generateHistory({ seed, ops: n, operations })
const clean = new History({ check: 'off', validate: false, physicalMemory: PHYSICAL_MEMORY })
for (const e of events) clean.dispatch(e)
const frames = clean.state.counters.frame

for (const [name, fraction, goOn] of [['late', 0.9, false], ['midway', 0.5, true]] as const) {
  const from = Math.floor(fraction * frames)
  const fault = variantOf(frameDrop, (st, e) => (st.counters.frame >= from ? leakyDrop.reduce(st, e) : frameDrop.reduce(st, e)))
  const faulty = new History({ check: 'off', validate: false, physicalMemory: PHYSICAL_MEMORY, variants: [fault] })
  let skipped = 0
  for (const e of events) {
    try {
      faulty.dispatch(e)
    } catch {
      if (!goOn) break
      skipped++
    }
  }
  const times: string[] = []
  let found: number | undefined
  for (let rep = 0; rep < 3; rep++) {
    const t = performance.now()
    found = firstViolation(faulty, { persistent: true })?.index
    times.push(((performance.now() - t) / 1000).toFixed(2))
  }
  console.log(`${name}: ${faulty.length.toLocaleString('en-US')} events (${skipped.toLocaleString('en-US')} left out), ${faulty.checkpoints().length} checkpoints; first violation at step ${found?.toLocaleString('en-US')}; persistent bisect ${times.join(' / ')} s (cold / warm / warm)`)
}
