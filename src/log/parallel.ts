/**
 * Checking a long history on several cores: the events are cut into one segment per worker, and
 * each worker thread replays the events before its segment unchecked and checks its own
 * (`checkSegment`). Workers get events, not snapshots (a snapshot does not cross a thread
 * boundary cheaply; an event is a small JSON object). The segments are sized so that the workers
 * finish together: a later worker replays a longer prefix, at `offRatio` of the cost of checking
 * an event, so it checks fewer events. The violations are those of a sequential check, in order.
 */
import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import type { ModelEvent } from '../../reducers/index.js'
import type { CheckMode, Violation } from '../check/rule.js'
import type { ModelConfigInput } from '../model/genesis.js'
import { compareViolations } from '../check/checker.js'
import type { SegmentResult, SegmentTask } from './check_segment.js'

export interface ParallelCheckOptions {
  readonly check?: Exclude<CheckMode, 'off'>
  /** Worker threads (default: the cores available). */
  readonly workers?: number
  readonly config?: ModelConfigInput
  /** A module exporting reducer variants (`variantOf`), imported by every worker. */
  readonly variantsModule?: string
  /** Cost of replaying an event unchecked relative to checking it (default 0.25 incremental, 0.02 full). */
  readonly offRatio?: number
}

export interface ParallelCheckReport {
  readonly violations: readonly Violation[]
  /** The first event the model rejected, if any (the segments after it are not meaningful). */
  readonly rejected: SegmentResult['rejected']
  readonly segments: readonly SegmentResult[]
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

function runWorker(task: SegmentTask & { readonly variantsModule?: string }): Promise<SegmentResult> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(workerUrl(), task)
    worker.once('message', (r: SegmentResult) => resolve(r))
    worker.once('error', reject)
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`check worker exited with code ${code}`))
    })
  })
}

export async function checkInWorkers(events: readonly ModelEvent[], options: ParallelCheckOptions = {}): Promise<ParallelCheckReport> {
  const started = performance.now()
  const check = options.check ?? 'incremental'
  const w = Math.max(1, Math.min(options.workers ?? availableParallelism(), events.length || 1))
  const b = segmentBounds(events.length, w, options.offRatio ?? (check === 'full' ? 0.02 : 0.25))
  const tasks: Array<SegmentTask & { readonly variantsModule?: string }> = []
  for (let j = 0; j < w; j++) if (b[j + 1]! > b[j]!) tasks.push({ events: events.slice(0, b[j + 1]!), from: b[j]!, to: b[j + 1]!, check, config: options.config ?? {}, ...(options.variantsModule !== undefined ? { variantsModule: options.variantsModule } : {}) })
  const segments = await Promise.all(tasks.map(runWorker))
  const rejected = segments.map((s) => s.rejected).find((r) => r !== null) ?? null
  const violations = segments.flatMap((s) => s.violations).filter((v) => rejected === null || v.step <= rejected.index)
  violations.sort((x, y) => x.step - y.step || compareViolations(x, y))
  return { violations, rejected, segments, elapsedMs: performance.now() - started }
}
