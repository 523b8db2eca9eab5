/**
 * The history workload (issue #6): a long random valid history (frame layer) dispatched into a
 * `History` with checking off, then the time-travel operations measured on it — retained heap and
 * event-log bytes per event, `seek` to random positions (p50 / p99), `undo`, exporting and loading
 * the trace (parse + replay; lazily, in a fresh process: test/bench/load_trace.ts), and bisecting
 * the first violation of a planted fault.
 */
import type { AnyEventSpec, ModelEvent } from '../../reducers/index.js'
import { firstViolation } from '../../src/log/bisect.js'
import { History } from '../../src/log/history.js'
import { snapshotHash } from '../../src/log/checkpoints.js'
import { setSnapshotFreezing } from '../../src/model/immer.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface HistoryBench {
  readonly events: number
  readonly buildMs: number
  readonly retainedBytesPerEvent: number | null
  readonly eventLogBytesPerEvent: number
  readonly checkpoints: number
  readonly checkpointIntervalEvents: number
  readonly seekMs: { readonly p50: number; readonly p99: number; readonly n: number }
  readonly undoUs: { readonly p50: number; readonly p99: number; readonly max: number; readonly n: number }
  readonly exportMs: number
  readonly loadMs: number
  readonly bisectMs: number
  /** Loading the trace file lazily (read and validated, nothing applied), and the first seek to its end then. */
  readonly lazyLoadMs: number
  readonly lazySeekEndMs: number
  /** Loading it lazily with deferred validation (lines framed, not parsed), and the first seek to its end then. */
  readonly deferredLoadMs: number
  readonly deferredSeekEndMs: number
  /** firstViolation with `persistent: true` (bisecting the checkpoints) on the same history. */
  readonly bisectPersistentMs: number
  readonly bisectFound: number | null
  /** Events of the faulty history (it ends where the fault makes an event invalid). */
  readonly bisectEvents: number
}

function gc(): number | null {
  const g = (globalThis as { gc?: () => void }).gc
  if (g === undefined) return null
  g()
  return process.memoryUsage().heapUsed
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

/** A deterministic PRNG for the seek targets (the benchmark, not the model). */
function lcg(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    return x / 2 ** 32
  }
}

export async function runHistoryBench(events: readonly ModelEvent[], makeFault: (final: Snapshot) => AnyEventSpec, physicalMemory: number): Promise<HistoryBench> {
  setSnapshotFreezing(false)
  const heap0 = gc()
  const h = new History({ check: 'off', validate: false, physicalMemory })
  const t0 = performance.now()
  for (const e of events) h.dispatch(e)
  const buildMs = performance.now() - t0
  const heap1 = gc()
  const mem = h.memoryEstimate()

  const rnd = lcg(7)
  const seeks: number[] = []
  for (let k = 0; k < 200; k++) {
    const target = Math.floor(rnd() * (events.length + 1))
    const s = performance.now()
    h.seek(target)
    seeks.push(performance.now() - s)
  }
  h.seek(events.length)
  const undos: number[] = []
  for (let k = 0; k < 1000; k++) {
    const s = performance.now()
    h.undo()
    undos.push((performance.now() - s) * 1000)
  }
  h.seek(events.length)

  let s = performance.now()
  const text = h.toNDJSON()
  const exportMs = performance.now() - s
  s = performance.now()
  const loaded = History.fromNDJSON(text, { check: 'off' })
  const loadMs = performance.now() - s
  if (loaded.length !== events.length) throw new Error('the exported trace did not load back')
  // the same trace from a file, lazily: read and validated, nothing applied
  const file = join(mkdtempSync(join(tmpdir(), 'ostd-bench-')), 'history.ndjson')
  writeFileSync(file, text)
  // Loaded lazily, in a fresh process as the CLI would (here the history and the text above
  // would be alive, and collecting a heap of that size would be most of what is measured).
  const fresh = (mode: 'lazy' | 'deferred'): { loadMs: number; seekEndMs: number } => {
    const out = execFileSync(process.execPath, ['--max-old-space-size=16384', '--import', 'tsx', fileURLToPath(new URL('./load_trace.ts', import.meta.url)), file, mode], { encoding: 'utf8', maxBuffer: 1 << 20 })
    const r = JSON.parse(out) as { loadMs: number; seekEndMs: number; events: number; hash: string }
    if (r.events !== events.length) throw new Error(`the ${mode} load recorded ${r.events} events`)
    if (r.hash !== snapshotHash(h.state)) throw new Error(`the ${mode} load replayed to another state`)
    return r
  }
  const lazy = fresh('lazy')
  const deferred = fresh('deferred')
  const [lazyLoadMs, lazySeekEndMs, deferredLoadMs, deferredSeekEndMs] = [lazy.loadMs, lazy.seekEndMs, deferred.loadMs, deferred.seekEndMs]

  // Bisect: the same events with a faulty reducer from `faultAt` on (an unchecked history: the scan re-checks).
  const faulty = new History({ check: 'off', validate: false, physicalMemory, variants: [makeFault(h.state)] })
  for (const e of events) {
    try {
      faulty.dispatch(e)
    } catch {
      break // the leak makes a later event invalid: the history ends there
    }
  }
  s = performance.now()
  const hit = firstViolation(faulty)
  const bisectMs = performance.now() - s
  // the fault leaks a frame: it persists in the state, so the checkpoints can be bisected
  s = performance.now()
  const persistentHit = firstViolation(faulty, { persistent: true })
  const bisectPersistentMs = performance.now() - s
  if (persistentHit?.index !== hit?.index) throw new Error(`persistent bisect found step ${persistentHit?.index}, the full scan ${hit?.index}`)

  return {
    events: events.length,
    buildMs,
    retainedBytesPerEvent: heap0 === null || heap1 === null ? null : (heap1 - heap0) / events.length,
    eventLogBytesPerEvent: mem.eventBytes / events.length,
    checkpoints: mem.checkpoints,
    checkpointIntervalEvents: mem.intervalEvents,
    seekMs: { p50: quantile(seeks, 0.5), p99: quantile(seeks, 0.99), n: seeks.length },
    undoUs: { p50: quantile(undos, 0.5), p99: quantile(undos, 0.99), max: Math.max(...undos), n: undos.length },
    exportMs,
    loadMs,
    lazyLoadMs,
    lazySeekEndMs,
    deferredLoadMs,
    deferredSeekEndMs,
    bisectMs,
    bisectPersistentMs,
    bisectFound: hit?.index ?? null,
    bisectEvents: faulty.length,
  }
}
