/**
 * `npm run bench`: replay throughput and memory of the model on random valid histories.
 * Prints a Markdown table per workload (copy them into BENCH.md with the machine line it prints):
 * `frame` — the whole frame layer (ALL_OPS without the page-table operations); `pt` — random
 * entry-operation histories (the page-table node / entry operations and the frame operations
 * that supply their frames); `map1g` — 1 GiB mapped through a cursor with 4 KiB and 2 MiB pages and
 * unmapped again (test/bench/map1g.ts; `--map1g-prefix N` sets the 4 KiB maps of the checked runs);
 * `history` — time travel on a long frame-layer history (test/bench/history.ts; `--history-events N`);
 * `random` / `sequential` — issue #7's page-table workloads (1) and (2) against a mutable, unchecked
 * baseline page table on the same events (test/bench/workloads.ts; `--wl-ops N`, `--wl-full-ops N`);
 * `vmbase` — issue #7's workload (3): one VmSpace CursorMut mapping / unmapping / protecting tracked
 * frames in a 64 MiB user window, with user readers and writers over them, against a mutable, unchecked
 * baseline VmSpace on the same events (test/bench/vm_workload.ts; `--vm-ops N`, `--vm-full-ops N`);
 * `vm` — random valid VmSpace histories (VM_OPS: every VmSpace operation, generated like `frame` and `pt`; no baseline);
 * `flat` — incremental check time per event as the mapped set grows (test/bench/flat.ts; `--flat-sizes 1000,10000,1000000`: pages mapped beyond the operations' GiB, `--flat-ops N`);
 * `vmflat` — the same for a VmSpace: workload (3) checked with N more pages mapped in its space (test/bench/vm_flat.ts; `--vmflat-sizes 0,1000,10000`, `--vmflat-ops N`);
 * `workers` — one history checked on one thread and on worker threads (`--workers-events N`).
 *   node --expose-gc --import tsx test/bench/run.ts [--ops N] [--seed N] [--workload frame|pt|vm|vmbase|map1g|history|random|sequential|flat|vmflat|workers|all] (`--help` lists every option)
 */
import { Command, InvalidArgumentError, Option } from 'commander'
import { cpus, totalmem } from 'node:os'
import type { InternalStep, ModelEvent } from '../../reducers/index.js'
import type { CheckMode } from '../../src/check/rule.js'
import { History } from '../../src/log/history.js'
import { ALL_OPS, generateHistory, type Op } from '../../src/log/gen.js'
import { setSnapshotFreezing } from '../../src/model/immer.js'
import { runMap1g } from './map1g.js'
import { runHistoryBench } from './history.js'
import { crossCheck, runBaseline, runModel, setUp, workloadEvents, type WorkloadRun } from './workloads.js'
import { runVmBaseline, vmCrossCheck, vmStart, vmWorkloadEvents } from './vm_workload.js'
import { flatWindow, runFlat, type FlatRow } from './flat.js'
import { runVmFlat } from './vm_flat.js'
import { checkSegment } from '../../src/log/check_segment.js'
import { checkInWorkers } from '../../src/log/parallel.js'
import { leakyDrop } from '../../examples/faulty_variant.js'
import { variantOf } from '../../reducers/index.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { frameDrop } from '../../reducers/frame/frame.js'

const WORKLOAD_NAMES = ['frame', 'pt', 'vm', 'vmbase', 'map1g', 'history', 'random', 'sequential', 'flat', 'vmflat', 'workers', 'all'] as const

function count(value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('a non-negative integer')
  return n
}

function sizes(value: string): number[] {
  return value.split(',').map(count)
}

const options = new Command('bench')
  .description('replay throughput, check time and memory of the model (BENCH.md)')
  .addOption(new Option('--workload <name>', 'the workload to run').choices(WORKLOAD_NAMES).default('all'))
  .option('--ops <n>', 'events of the frame / pt / vm histories', count, 20_000)
  .option('--seed <n>', 'the generators\' seed', count, 1)
  .option('--map1g-prefix <n>', 'map1g: the 4 KiB maps of the checked runs', count, 1000)
  .option('--wl-ops <n>', 'random / sequential: operations', count, 2000)
  .option('--wl-full-ops <n>', 'random / sequential: operations checked in full', count, 100)
  .option('--vm-ops <n>', 'vmbase: operations', count, 1000)
  .option('--vm-full-ops <n>', 'vmbase: operations checked in full', count, 100)
  .addOption(new Option('--flat-sizes <list>', 'flat: mapped pages, comma-separated').argParser(sizes).default([1000, 10_000, 100_000], '1000,10000,100000'))
  .option('--flat-ops <n>', 'flat: checked operations', count, 300)
  .addOption(new Option('--vmflat-sizes <list>', 'vmflat: pages mapped in the space, comma-separated').argParser(sizes).default([0, 1000, 10_000], '0,1000,10000'))
  .option('--vmflat-ops <n>', 'vmflat: checked operations', count, 300)
  .option('--workers-events <n>', 'workers: events of each history', count, 5000)
  .option('--history-events <n>', 'history: events', count, 100_000)
  .parse(process.argv)
  .opts<{
    workload: (typeof WORKLOAD_NAMES)[number]
    ops: number
    seed: number
    map1gPrefix: number
    wlOps: number
    wlFullOps: number
    vmOps: number
    vmFullOps: number
    flatSizes: number[]
    flatOps: number
    vmflatSizes: number[]
    vmflatOps: number
    workersEvents: number
    historyEvents: number
  }>()
const OPS = options.ops
const SEED = options.seed
const WORKLOAD = options.workload

function gc(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

function countPrimitive(steps: readonly InternalStep[]): number {
  let n = 0
  for (const s of steps) n += 1 + countPrimitive(s.steps)
  return n
}

interface Row {
  mode: CheckMode
  events: number
  primitive: number
  ms: number
  retainedBytesPerEvent: number | null
}

function measure(events: readonly ModelEvent[], mode: CheckMode): Row {
  setSnapshotFreezing(false)
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  const h = new History({ check: mode, validate: false })
  const t0 = performance.now()
  let primitive = 0
  for (const e of events) {
    const step = h.dispatch(e)
    primitive += 1 + countPrimitive(step.steps)
  }
  const ms = performance.now() - t0
  gc()
  const heapAfter = process.memoryUsage().heapUsed
  const retained = (globalThis as { gc?: unknown }).gc ? (heapAfter - heapBefore) / events.length : null
  if (h.violations().length > 0) throw new Error(`a valid history produced ${h.violations().length} violations`)
  return { mode, events: events.length, primitive, ms, retainedBytesPerEvent: retained }
}

/** The operations of `ALL_OPS` whose group (key prefix) is in `groups`. */
function groups(...names: string[]): Record<string, Op> {
  return Object.fromEntries(Object.entries(ALL_OPS).filter(([k]) => names.includes(k.slice(0, k.indexOf('.')))))
}

const WORKLOADS: Record<string, { doc: string; operations: Record<string, Op>; fullEvents: number }> = {
  frame: {
    doc: 'the whole frame layer (frames, segments, unique frames, linked lists, frame/segment VmIo, readers and writers)',
    operations: groups('meta', 'frame', 'unique', 'segment', 'list', 'io'),
    fullEvents: 5000,
  },
  vm: {
    doc: 'VmSpace, its cursors, map / unmap / protect, the TLB flusher, user-space readers and writers over mapped frames, with the frame operations that supply the frames (VM_OPS)',
    operations: groups('vm', 'frame'),
    fullEvents: 500,
  },
  pt: {
    doc: 'entry operations: page tables and nodes, locks, entries, Child values, replace / protect, drops (PT_OPS) with the frame operations that supply frames',
    operations: groups('pt', 'frame'),
    // Full checking re-evaluates every invariant over the whole state after each internal step
    // (a split has ~520): it is measured on a shorter prefix.
    fullEvents: 1000,
  },
}

/** Counts of each event type, in order of first occurrence ("type n, …"). */
function typeCounts(events: readonly ModelEvent[]): string {
  const types = new Map<string, number>()
  for (const e of events) types.set(e.type, (types.get(e.type) ?? 0) + 1)
  return [...types].map(([t, n]) => `${t} ${n}`).join(', ')
}

/** The Markdown table of a workload run through the model in each check mode, against a baseline's rate (events/s). */
function printBaselineTable(rows: readonly WorkloadRun[], baseRate: number): void {
  console.log('')
  console.log('| check | events | events/s | primitive events/s | µs/event | check µs/event p50 / p99 | baseline ÷ model |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    const perS = (n: number): string => Math.round((n / r.ms) * 1000).toLocaleString('en-US')
    const pct = (q: number): string => (r.checkUs.length === 0 ? '—' : r.checkUs[Math.min(r.checkUs.length - 1, Math.floor(q * r.checkUs.length))]!.toFixed(0))
    console.log(`| ${r.mode} | ${r.events.toLocaleString('en-US')} | ${perS(r.events)} | ${perS(r.primitive)} | ${((r.ms * 1000) / r.events).toFixed(0)} | ${pct(0.5)} / ${pct(0.99)} | ${Math.round(baseRate / ((r.events / r.ms) * 1000)).toLocaleString('en-US')}× |`)
  }
}

const cpu = cpus()[0]
console.log(`machine: ${cpu?.model ?? 'unknown CPU'} (${cpus().length} cores), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`)
if (WORKLOAD === 'all' || WORKLOAD === 'map1g') {
  const prefix = options.map1gPrefix
  console.log('')
  console.log(`workload map1g: an untracked page table, one CursorMut over [0, 1 GiB); 131,072 × 4 KiB + 256 × 2 MiB maps; take_next until None (stray level-1 sub-trees dropped); drop. Checked runs map the first ${prefix.toLocaleString('en-US')} 4 KiB pages only.`)
  console.log('')
  console.log('| check | phase | events | events/s | primitive events/s | µs/event | heap after phase (MiB) |')
  console.log('|---|---|---:|---:|---:|---:|---:|')
  for (const mode of ['off', 'incremental', 'full'] as const) {
    const r = runMap1g(mode, mode === 'off' ? Infinity : mode === 'incremental' ? prefix : Math.min(prefix, 20))
    if (r.violations > 0) throw new Error(`map1g (${mode}): ${r.violations} violations`)
    for (const p of r.phases) {
      const perS = (n: number): string => Math.round((n / p.ms) * 1000).toLocaleString('en-US')
      console.log(`| ${mode} | ${p.name} | ${p.events.toLocaleString('en-US')} | ${perS(p.events)} | ${perS(p.primitive)} | ${((p.ms * 1000) / p.events).toFixed(0)} | ${p.heapBytes === null ? 'n/a' : (p.heapBytes / 2 ** 20).toFixed(1)} |`)
    }
  }
}
for (const name of ['random', 'sequential'] as const) {
  if (WORKLOAD !== 'all' && WORKLOAD !== name) continue
  const ops = options.wlOps
  const fullOps = options.wlFullOps
  const { s, cursor, pageTable } = setUp()
  const events = workloadEvents(name, ops, SEED, cursor)
  // warm-up, then the measured runs; the baseline runs on the same events, and must agree
  runModel(events.slice(0, 400), 'incremental', s)
  for (let k = 0; k < 5; k++) runBaseline(events)
  const baseline = runBaseline(events)
  const rows = (['off', 'incremental', 'full'] as const).map((mode) => runModel(mode === 'full' ? events.slice(0, 2 * fullOps) : events, mode, s))
  crossCheck(events, rows[0]!, baseline, pageTable)
  for (const r of rows) if (r.violations > 0) throw new Error(`workload ${name} (${r.mode}): ${r.violations} violations`)
  const baseRate = (events.length / baseline.ms) * 1000
  console.log('')
  console.log(`workload ${name}: ${ops.toLocaleString('en-US')} operations (${events.length.toLocaleString('en-US')} API events: ${typeCounts(events)}) on one CursorMut over a 1 GiB window, 65,536 frames, seed ${SEED}; full checking on the first ${fullOps} operations. Baseline: test/bench/workloads.ts MutablePageTable on the same events, ${Math.round(baseRate).toLocaleString('en-US')} events/s (${((baseline.ms * 1000) / events.length).toFixed(2)} µs/event); it agrees with the model on every unmap count, query and page.`)
  printBaselineTable(rows, baseRate)
}
if (WORKLOAD === 'all' || WORKLOAD === 'vmbase') {
  const ops = options.vmOps
  const fullOps = options.vmFullOps
  const events = vmWorkloadEvents(ops, SEED)
  // the generator is deterministic: the first `fullOps` operations are the same events
  const fullEvents = vmWorkloadEvents(Math.min(fullOps, ops), SEED)
  // warm-up, then the measured runs; the baseline runs on the same events, and must agree
  runModel(events.slice(0, 400), 'incremental', vmStart())
  for (let k = 0; k < 5; k++) runVmBaseline(events)
  const baseline = runVmBaseline(events)
  const rows = (['off', 'incremental', 'full'] as const).map((mode) => runModel(mode === 'full' ? fullEvents : events, mode, vmStart()))
  vmCrossCheck(events, rows[0]!, baseline)
  for (const r of rows) if (r.violations > 0) throw new Error(`workload vmbase (${r.mode}): ${r.violations} violations`)
  const baseRate = (events.length / baseline.ms) * 1000
  console.log('')
  console.log(`workload vmbase: ${ops.toLocaleString('en-US')} operations (${events.length.toLocaleString('en-US')} API events: ${typeCounts(events)}) on one activated VmSpace, one CursorMut over a 64 MiB user window, user readers and writers at mapped pages (sometimes unmapped or read-only ones: PageFault), seed ${SEED}; full checking on the first ${Math.min(fullOps, ops)} operations (${fullEvents.length} events). Baseline: test/bench/vm_workload.ts MutableVmSpace (mutable radix page table, frames in a Uint8Array) on the same events, ${Math.round(baseRate).toLocaleString('en-US')} events/s (${((baseline.ms * 1000) / events.length).toFixed(2)} µs/event); it agrees with the model on every result and on every page's mapping, property and bytes.`)
  printBaselineTable(rows, baseRate)
}
if (WORKLOAD === 'all' || WORKLOAD === 'flat') {
  const sizes = options.flatSizes
  const ops = options.flatOps
  const windowBytes = flatWindow(Math.max(...sizes))
  console.log('')
  console.log(`workload flat: N 4 KiB pages mapped unchecked from 1 GiB on (a ${windowBytes / 2 ** 30} GiB window), then ${ops} random operations (${2 * ops} API events) in its first GiB checked incrementally; the first checked event derives the state's violations in full (priming). Seed ${SEED}.`)
  printFlatRows('flat', sizes.map((n) => () => runFlat(n, ops, SEED, windowBytes)))
}
if (WORKLOAD === 'all' || WORKLOAD === 'vmflat') {
  const sizes = options.vmflatSizes
  const ops = options.vmflatOps
  console.log('')
  console.log(`workload vmflat: workload (3) (vmbase's events, ${ops} operations) checked incrementally in its 64 MiB window, after N tracked 4 KiB frames were mapped unchecked just above the window through the same VmSpace CursorMut (its views hold them too); the first checked event derives the state's violations in full (priming). Seed ${SEED}.`)
  printFlatRows('vmflat', sizes.map((n) => () => runVmFlat(n, ops, SEED)))
}

/** The table of a flatness run: one row per size, each run when its row is printed. */
function printFlatRows(name: string, runs: ReadonlyArray<() => FlatRow>): void {
  console.log('')
  console.log('| mapped pages | fill, unchecked (s) | priming (s) | checked events | check µs/event p50 / p99 / mean |')
  console.log('|---:|---:|---:|---:|---:|')
  for (const run of runs) {
    const r = run()
    if (r.violations > 0) throw new Error(`${name} ${r.pages}: ${r.violations} violations`)
    console.log(`| ${r.pages.toLocaleString('en-US')} | ${(r.fillMs / 1000).toFixed(1)} | ${(r.primeMs / 1000).toFixed(1)} | ${r.events.toLocaleString('en-US')} | ${r.checkUs.p50.toFixed(0)} / ${r.checkUs.p99.toFixed(0)} / ${r.checkUs.mean.toFixed(0)} |`)
  }
}

if (WORKLOAD === 'all' || WORKLOAD === 'workers') {
  // Checking one history sequentially (checkSegment over all of it, in this thread) and on worker
  // threads (checkInWorkers: each replays the events before its segment unchecked).
  const n = options.workersEvents
  console.log('')
  console.log(`workload workers: random valid histories checked on one thread and on worker threads (${cpus().length} cores); wall time including the workers' start-up (each loads the model); seed ${SEED}`)
  console.log('')
  console.log('| history | check | events | one thread (s) | workers | on workers (s) | speed-up | segments (from..to: prefix replay + check, s) |')
  console.log('|---|---|---:|---:|---:|---:|---:|---|')
  for (const [label, ops, mode, count] of [
    ['frame layer', WORKLOADS['frame']!.operations, 'incremental', n],
    ['all layers', ALL_OPS, 'incremental', n],
    ['all layers', ALL_OPS, 'full', Math.min(n, 2000)],
  ] as const) {
    const events = generateHistory({ seed: SEED, ops: count, operations: ops })
    const t0 = performance.now()
    const one = checkSegment({ events, from: 0, to: events.length, check: mode, config: {} })
    const oneMs = performance.now() - t0
    const workers = Math.max(2, cpus().length)
    const par = await checkInWorkers(events, { check: mode, workers })
    if (JSON.stringify(par.violations) !== JSON.stringify(one.violations)) throw new Error('the workers and the single thread disagree')
    const segs = par.segments.map((x) => `${x.from}..${x.to}: ${(x.prefixMs / 1000).toFixed(1)} + ${(x.checkMs / 1000).toFixed(1)}`).join('; ')
    console.log(`| ${label} | ${mode} | ${events.length.toLocaleString('en-US')} | ${(oneMs / 1000).toFixed(1)} | ${workers} | ${(par.elapsedMs / 1000).toFixed(1)} | ${(oneMs / par.elapsedMs).toFixed(2)}× | ${segs} |`)
  }
}
if (WORKLOAD === 'all' || WORKLOAD === 'history') {
  const n = options.historyEvents
  const events = generateHistory({ seed: SEED, ops: n, operations: WORKLOADS['frame']!.operations })
  // The planted fault for bisect: examples/faulty_variant.ts's leaky Frame::drop, active only once
  // frame ids pass 90% of those the history makes (so the first violation is late and the scan long).
  const lateLeak = (final: Snapshot) => {
    const lateFrom = Math.floor(0.9 * final.counters.frame)
    return variantOf(frameDrop, (st, e) => (st.counters.frame >= lateFrom ? leakyDrop.reduce(st, e) : frameDrop.reduce(st, e)))
  }
  const r = await runHistoryBench(events, lateLeak, 1 << 28)
  console.log('')
  console.log(`workload history: ${n.toLocaleString('en-US')} random valid frame-layer events (seed ${SEED}) in a History (check off); 200 random seeks, 1,000 undos, export + load (parse and replay) of the trace, first violation of a late planted fault`)
  console.log('')
  console.log('| events | build (s) | retained bytes/event | event log bytes/event | checkpoints (every N events) | seek p50 / p99 (ms) | undo p50 / p99 / max (µs) | export (s) | load: replay / lazy / deferred validation (s) | first seek to the end after a lazy / deferred load (s) | bisect first violation: scan / persistent (s) |')
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  const f = (x: number, d = 1): string => x.toFixed(d)
  console.log(
    `| ${r.events.toLocaleString('en-US')} | ${f(r.buildMs / 1000)} | ${r.retainedBytesPerEvent === null ? 'n/a' : Math.round(r.retainedBytesPerEvent)} | ${f(r.eventLogBytesPerEvent)} | ${r.checkpoints} (${r.checkpointIntervalEvents}) | ${f(r.seekMs.p50, 2)} / ${f(r.seekMs.p99, 1)} | ${f(r.undoUs.p50)} / ${f(r.undoUs.p99)} / ${f(r.undoUs.max, 0)} | ${f(r.exportMs / 1000, 2)} | ${f(r.loadMs / 1000)} / ${f(r.lazyLoadMs / 1000, 2)} / ${f(r.deferredLoadMs / 1000, 2)} | ${f(r.lazySeekEndMs / 1000)} / ${f(r.deferredSeekEndMs / 1000)} | ${f(r.bisectMs / 1000)} / ${f(r.bisectPersistentMs / 1000, 2)} (step ${r.bisectFound ?? 'none'} of ${r.bisectEvents}) |`,
  )
}
for (const [name, w] of Object.entries(WORKLOADS)) {
  if (WORKLOAD !== 'all' && WORKLOAD !== name) continue
  const events = generateHistory({ seed: SEED, ops: OPS, operations: w.operations })
  const types = new Map<string, number>()
  for (const e of events) types.set(e.type, (types.get(e.type) ?? 0) + 1)

  // Warm up the JIT on a shorter run of the same workload.
  for (const mode of ['off', 'incremental'] as const) measure(events.slice(0, Math.min(3000, OPS)), mode)

  const rows = (['off', 'incremental', 'full'] as const).map((mode) => measure(mode === 'full' ? events.slice(0, Math.min(OPS, w.fullEvents)) : events, mode))

  console.log('')
  console.log(`workload ${name}: ${OPS} random valid events — ${w.doc}; seed ${SEED}; ${types.size} event types (${[...types].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n}`).join(', ')})`)
  console.log('')
  console.log('| check | events | events/s | primitive events/s | µs/event | retained bytes/event |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    const perS = (n: number): string => Math.round((n / r.ms) * 1000).toLocaleString('en-US')
    const retained = r.retainedBytesPerEvent === null ? 'n/a (run with --expose-gc)' : Math.round(r.retainedBytesPerEvent).toLocaleString('en-US')
    console.log(`| ${r.mode} | ${r.events.toLocaleString('en-US')} | ${perS(r.events)} | ${perS(r.primitive)} | ${((r.ms * 1000) / r.events).toFixed(1)} | ${retained} |`)
  }
}
