/**
 * A/B of two checkouts by CPU time (user + system of this process), not wall time: on a shared
 * machine the wall-clock rates of `npm run bench` swing ±50 % with the other processes, while a
 * process's own CPU time moves far less. Replays the frame workload of test/bench/run.ts (5,000
 * events, seed 1) unchecked and with incremental checking, 5 times each, in the tree at `root`.
 *
 *   node --import tsx test/bench/ab_cpu.mts /path/to/checkout-A
 *   node --import tsx test/bench/ab_cpu.mts /path/to/checkout-B      (interleave A and B runs)
 */
const root = process.argv[2] ?? new URL('../..', import.meta.url).pathname
const { generateHistory, ALL_OPS } = (await import(`${root}/src/log/gen.ts`)) as typeof import('../../src/log/gen.js')
const { History } = (await import(`${root}/src/log/history.ts`)) as typeof import('../../src/log/history.js')
const { setSnapshotFreezing } = (await import(`${root}/src/model/immer.ts`)) as typeof import('../../src/model/immer.js')
setSnapshotFreezing(false)
const layers = ['meta', 'frame', 'unique', 'segment', 'list', 'io']
const operations = Object.fromEntries(Object.entries(ALL_OPS).filter(([k]) => layers.includes(k.slice(0, k.indexOf('.')))))
const events = generateHistory({ seed: 1, ops: 5000, operations })

function cpuMs(check: 'off' | 'incremental'): number {
  const h = new History({ check })
  const started = process.cpuUsage()
  for (const e of events) h.dispatch(e)
  const d = process.cpuUsage(started)
  return (d.user + d.system) / 1000
}

cpuMs('incremental') // warm-up
cpuMs('off')
const off: number[] = []
const incremental: number[] = []
for (let i = 0; i < 5; i++) {
  off.push(cpuMs('off'))
  incremental.push(cpuMs('incremental'))
}
const sorted = (xs: number[]): string => [...xs].sort((a, b) => a - b).map((x) => Math.round(x)).join(' ')
console.log(`${root}: CPU ms for ${events.length} events — off ${sorted(off)} | incremental ${sorted(incremental)}`)
