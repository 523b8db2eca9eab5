/**
 * Checking a long history on several cores: the events are cut into segments, and worker threads
 * check them — each replays the events before a segment unchecked and checks the segment
 * (`SegmentRunner`). Workers get events, not snapshots (a snapshot does not cross a thread
 * boundary cheaply; an event is a small JSON object). The violations are those of a sequential
 * check, in order.
 *
 * Two ways to make the workers finish together (`segmentsPerWorker`). By default, incremental
 * checking cuts one segment per worker, sized by a cost model — a later worker replays a longer
 * prefix, at `offRatio` of the cost of checking an event, so it checks fewer events (each
 * segment's checker primes itself with one full check of its first state, too dear to repeat
 * often). Full checking cuts 16 equal segments per worker, taken from a queue in order, since the
 * cost of a fully checked event
 * grows with the state (the 100,000-event history: ~22 ms per event at the start, ~150 ms at the
 * end — one segment per worker left the first worker idle a third of the time); a worker replays
 * only the events between its segments, so the overhead is at most one unchecked pass per worker.
 */
import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import type { ModelEvent } from '../../reducers/index.js'
import type { CheckMode, Violation } from '../check/rule.js'
import type { ModelConfigInput } from '../model/genesis.js'
import { compareViolations } from '../check/checker.js'
import type { SegmentResult, SegmentSetup } from './check_segment.js'

export interface ParallelCheckOptions {
  readonly check?: Exclude<CheckMode, 'off'>
  /** Worker threads (default: the cores available). */
  readonly workers?: number
  readonly config?: ModelConfigInput
  /** A module exporting reducer variants (`variantOf`), imported by every worker. */
  readonly variantsModule?: string
  /** Cost of replaying an event unchecked relative to checking it (default 0.25 incremental, 0.02 full). */
  readonly offRatio?: number
  /** Segments per worker (default 1 incremental, 16 full): more than one, equal segments from a queue. */
  readonly segmentsPerWorker?: number
}

export interface ParallelCheckReport {
  readonly violations: readonly Violation[]
  /** The first event the model rejected, if any (the segments after it are not meaningful). */
  readonly rejected: SegmentResult['rejected']
  /** In event order, each with the worker (0-based) that checked it. */
  readonly segments: ReadonlyArray<SegmentResult & { readonly worker: number }>
  readonly elapsedMs: number
}

/**
 * Segment boundaries for `n` events and `w` workers such that `start_j * r + len_j` (prefix
 * replay plus checking, in units of one checked event) is the same cost `c` for every worker:
 * `start_{j+1} = start_j * (1 - r) + c`, so `start_w = c * (1 - (1 - r)^w) / r = n` gives `c`.
 */
export function segmentBounds(n: number, w: number, r: number): number[] {
  const c = r > 0 ? (n * r) / (1 - (1 - r) ** w) : n / w
  const b = [0]
  for (let j = 0; j < w; j++) b.push(b[j]! * (1 - r) + c)
  const out = b.map((x) => Math.min(n, Math.round(x)))
  out[w] = n
  return out
}

function workerUrl(): URL {
  // Under tsx (tests, benchmarks) this module is TypeScript, and so is the worker.
  return new URL(import.meta.url.endsWith('.ts') ? './check_worker.ts' : './check_worker.js', import.meta.url)
}

/** A worker running `url`; a TypeScript worker first registers tsx's loader in its own thread. */
function startWorker(url: URL, workerData: unknown): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData })
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs')
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(boot, { eval: true, workerData })
}

/** `n` events cut into `k` segments of equal length (boundaries, `k + 1` of them). */
export function evenBounds(n: number, k: number): number[] {
  return Array.from({ length: k + 1 }, (_, j) => Math.round((n * j) / k))
}

/** A worker holding the history; `check(from, to)` sends it a segment and resolves with its result. */
class CheckWorker {
  private readonly worker: Worker
  private pending: { resolve: (r: SegmentResult) => void; reject: (e: unknown) => void } | null = null
  private failure: unknown = null

  constructor(setup: SegmentSetup & { readonly variantsModule?: string }) {
    this.worker = startWorker(workerUrl(), setup)
    this.worker.on('message', (r: SegmentResult) => {
      const p = this.pending
      this.pending = null
      p?.resolve(r)
    })
    const fail = (e: unknown): void => {
      this.failure ??= e
      const p = this.pending
      this.pending = null
      p?.reject(e)
    }
    this.worker.on('error', fail)
    this.worker.on('exit', (code) => fail(new Error(`check worker exited with code ${code}`)))
  }

  check(from: number, to: number): Promise<SegmentResult> {
    if (this.failure !== null) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject }
      this.worker.postMessage({ from, to })
    })
  }

  async close(): Promise<void> {
    this.failure ??= new Error('check worker closed')
    await this.worker.terminate()
  }
}

export async function checkInWorkers(events: readonly ModelEvent[], options: ParallelCheckOptions = {}): Promise<ParallelCheckReport> {
  const started = performance.now()
  const check = options.check ?? 'incremental'
  const n = events.length
  const w = Math.max(1, Math.min(options.workers ?? availableParallelism(), n || 1))
  const k = Math.max(1, Math.min(options.segmentsPerWorker ?? (check === 'full' ? 16 : 1), Math.floor(n / w) || 1))
  const b = k === 1 ? segmentBounds(n, w, options.offRatio ?? (check === 'full' ? 0.02 : 0.25)) : evenBounds(n, w * k)
  const queue: Array<{ from: number; to: number }> = []
  for (let j = 0; j + 1 < b.length; j++) if (b[j + 1]! > b[j]!) queue.push({ from: b[j]!, to: b[j + 1]! })
  const setup = { events, check, config: options.config ?? {}, ...(options.variantsModule !== undefined ? { variantsModule: options.variantsModule } : {}) }
  const workers = Array.from({ length: Math.min(w, queue.length) }, () => new CheckWorker(setup))
  const segments: Array<SegmentResult & { worker: number }> = []
  let next = 0
  // Once an event is rejected the events after it mean nothing: no segment past it is started.
  let rejectedAt = Infinity
  try {
    await Promise.all(
      workers.map(async (worker, index) => {
        while (next < queue.length && queue[next]!.from <= rejectedAt) {
          const { from, to } = queue[next++]!
          const r = await worker.check(from, to)
          segments.push({ ...r, worker: index })
          if (r.rejected !== null) rejectedAt = Math.min(rejectedAt, r.rejected.index)
        }
      }),
    )
  } finally {
    await Promise.all(workers.map((x) => x.close()))
  }
  const rejected = segments.map((s) => s.rejected).filter((r) => r !== null).sort((x, y) => x.index - y.index)[0] ?? null
  // Segments a worker had begun past the rejected event are dropped with their verdicts.
  const kept = segments.filter((s) => rejected === null || s.from <= rejected.index).sort((x, y) => x.from - y.from)
  const violations = kept.flatMap((s) => s.violations).filter((v) => rejected === null || v.step <= rejected.index)
  violations.sort((x, y) => x.step - y.step || compareViolations(x, y))
  return { violations, rejected, segments: kept, elapsedMs: performance.now() - started }
}
