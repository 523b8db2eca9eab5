/**
 * The replay engine (also the CLI's): validates a trace, replays it from genesis with checking,
 * and reports what it checked. Snapshot freezing is off while it runs (speed); it stops at the
 * first rejected event (a failed precondition or an OSTD panic), and optionally at the first
 * violation. Recorded results (`expect`) and checkpoint hashes of the trace are checked
 * (differential replay: REQ-TRACE-EXPECT-1, REQ-TRACE-CHECKPOINT-1 on the step).
 */
import { isOstdPanic } from '../arch/errors.js'
import type { ModelEvent } from '../../reducers/index.js'
import type { CheckMode, Violation } from '../check/rule.js'
import { setSnapshotFreezing, snapshotFreezing } from '../model/immer.js'
import type { Snapshot } from '../model/snapshot.js'
import { History, InvalidEventError, type HistoryOptions } from './history.js'
import { parseTrace, TraceError, type Trace, type TraceHeader, type TraceItem } from './trace.js'
import { readTrace } from './trace_stream.js'
import type { Recorded } from './history.js'

/** What a trace recorded about event `i`: its result (`expect`) and the hash after it (a checkpoint line). */
function recordedFor(trace: Trace, i: number): Recorded | undefined {
  const cp = trace.checkpoints.get(i + 1)
  if (!trace.expects.has(i) && cp === undefined) return undefined
  return { line: trace.lines[i]!, ...(trace.expects.has(i) ? { result: trace.expects.get(i) } : {}), ...(cp !== undefined ? { hash: cp.hash } : {}) }
}

export interface ReplayOptions extends Omit<HistoryOptions, 'check'> {
  check?: CheckMode
  /** Stop after this many events. */
  until?: number
  stopAtFirstViolation?: boolean
  /** Called after each applied event (for progress bars). */
  onStep?: (applied: number, total: number) => void
}

/** Why a replay stopped early because of its input. */
export interface ReplayError {
  /** `invalid`: a line of the trace failed validation; `rejected`: an event failed a precondition or panicked. */
  readonly kind: 'invalid' | 'rejected'
  /** 1-based trace line, when replaying a trace. */
  readonly line?: number
  /** 0-based event index, for rejected events. */
  readonly index?: number
  readonly field?: string
  readonly rule?: string
  readonly message: string
}

export interface ReplayReport {
  readonly check: CheckMode
  readonly total: number
  readonly applied: number
  readonly violations: readonly Violation[]
  readonly firstViolation: Violation | null
  readonly error: ReplayError | null
  /** Per event type: how many were applied. */
  readonly eventCounts: Readonly<Record<string, number>>
  readonly history: History
  readonly finalState: Snapshot
  readonly elapsedMs: number
}

export function replay(input: string | readonly ModelEvent[], options: ReplayOptions = {}): ReplayReport {
  const started = performance.now()
  let events: readonly ModelEvent[]
  let lines: readonly number[] | null = null
  let header: TraceHeader['config'] = {}
  let trace: Trace | null = null
  if (typeof input === 'string') {
    try {
      trace = parseTrace(input)
      events = trace.events
      lines = trace.lines
      header = trace.header.config
      // checkpoint 0 (a genesis hash) from another configuration: bad input, nothing applied
      const g = trace.checkpoints.get(0)
      if (g !== undefined) new History({ ...header, check: 'off' }).checkGenesisHash(g.hash, g.line)
    } catch (e) {
      if (!(e instanceof TraceError)) throw e
      const history = new History({ ...options, check: options.check ?? 'incremental' })
      return report(history, 0, [], { kind: 'invalid', line: e.line, field: e.field, message: e.reason }, options, started, {})
    }
  } else {
    events = input
  }
  // A parsed trace is validated already; events passed directly are validated on dispatch.
  const history = new History({ ...options, ...header, check: options.check ?? 'incremental', validate: lines === null })
  const run = new ReplayRun(history, Math.min(events.length, options.until ?? Infinity), options)
  const freezing = snapshotFreezing()
  setSnapshotFreezing(false)
  try {
    for (let i = 0; i < run.total; i++) {
      if (!run.apply(events[i]!, trace === null ? undefined : recordedFor(trace, i), lines?.[i])) break
    }
  } finally {
    setSnapshotFreezing(freezing)
  }
  return report(history, events.length, run.violations, run.error, options, started, run.counts)
}

function report(
  history: History,
  total: number,
  violations: Violation[],
  error: ReplayError | null,
  options: ReplayOptions,
  started: number,
  eventCounts: Record<string, number>,
): ReplayReport {
  return {
    check: options.check ?? 'incremental',
    total,
    applied: history.length,
    violations,
    firstViolation: violations[0] ?? null,
    error,
    eventCounts,
    history,
    finalState: history.state,
    elapsedMs: performance.now() - started,
  }
}

// ---- trace files, streamed ------------------------------------------------------------------

/** What a validating pass over a trace file found (streamed: nothing is kept but counts). */
export interface TraceSurvey {
  /** Event lines (all of them when the trace is valid; up to the bad line otherwise). */
  readonly events: number
  readonly header: TraceHeader | null
  /** The first bad line, or null. */
  readonly error: TraceError | null
  /** The 1-based line of the first event without a recorded result (`expect`), or null. */
  readonly firstWithoutExpect: number | null
}

/** Reads a trace file line by line, validating every line (`readTrace`), and counts its events. */
export async function surveyTrace(source: string): Promise<TraceSurvey> {
  let events = 0
  let header: TraceHeader | null = null
  let firstWithoutExpect: number | null = null
  try {
    for await (const item of readTrace(source)) {
      if (item.kind === 'header') header = item.header
      else if (item.kind === 'event') {
        events++
        if (!item.hasExpect && firstWithoutExpect === null) firstWithoutExpect = item.line
      }
    }
  } catch (e) {
    if (!(e instanceof TraceError)) throw e
    return { events, header, error: e, firstWithoutExpect }
  }
  return { events, header, error: null, firstWithoutExpect }
}

/**
 * `replay` of a trace file without holding its text: a first pass validates every line
 * (`surveyTrace`; if one is bad, nothing is applied and the report names it, as `replay` of the
 * text does), a second reads it again line by line and replays each event as it comes — with its
 * recorded result and the checkpoint hash on the line after it (differential replay).
 */
export async function replayFile(path: string, options: ReplayOptions = {}): Promise<ReplayReport> {
  const started = performance.now()
  const survey = await surveyTrace(path)
  const config = survey.header?.config ?? {}
  if (survey.error !== null) {
    const history = new History({ ...options, check: options.check ?? 'incremental' })
    const e = survey.error
    return report(history, survey.events, [], { kind: 'invalid', line: e.line, field: e.field, message: e.reason }, options, started, {})
  }
  const history = new History({ ...options, ...config, check: options.check ?? 'incremental', validate: false })
  const run = new ReplayRun(history, Math.min(survey.events, options.until ?? Infinity), options)
  const freezing = snapshotFreezing()
  setSnapshotFreezing(false)
  // an event is applied once the next line is read: a checkpoint line after it belongs to it
  let pending: { item: Extract<TraceItem, { kind: 'event' }>; hash?: string } | null = null
  const flush = (): boolean => {
    if (pending === null) return true
    const { item, hash } = pending
    pending = null
    const recorded: Recorded | undefined = item.hasExpect || hash !== undefined ? { line: item.line, ...(item.hasExpect ? { result: item.expect } : {}), ...(hash !== undefined ? { hash } : {}) } : undefined
    return run.apply(item.event, recorded, item.line)
  }
  try {
    for await (const item of readTrace(path)) {
      if (item.kind === 'header') continue
      if (item.kind === 'checkpoint') {
        if (item.index === 0) history.checkGenesisHash(item.hash, item.line)
        else if (pending !== null) pending.hash = item.hash
        continue
      }
      if (!flush() || run.applied >= run.total) {
        pending = null
        break
      }
      pending = { item }
    }
    if (run.applied < run.total) flush()
  } catch (e) {
    if (!(e instanceof TraceError)) throw e
    // the file changed between the passes, or the genesis hash is another configuration's
    run.error = { kind: 'invalid', line: e.line, field: e.field, message: e.reason }
  } finally {
    setSnapshotFreezing(freezing)
  }
  return report(history, survey.events, run.violations, run.error, options, started, run.counts)
}

/** One replay in progress: applies events in order, collecting violations and counts, until one is refused. */
class ReplayRun {
  readonly counts: Record<string, number> = {}
  readonly violations: Violation[] = []
  error: ReplayError | null = null
  applied = 0

  constructor(
    readonly history: History,
    readonly total: number,
    private readonly options: ReplayOptions,
  ) {}

  /** Applies the next event (from trace `line`); false when the replay stops here (refused, or the first violation with stopAtFirstViolation). */
  apply(event: ModelEvent, recorded: Recorded | undefined, line: number | undefined): boolean {
    const where = line === undefined ? {} : { line }
    try {
      this.violations.push(...this.history.dispatch(event, recorded).violations)
    } catch (e) {
      if (isOstdPanic(e)) this.error = { kind: 'rejected', ...where, index: this.applied, rule: e.rule, message: e.detail }
      else if (e instanceof InvalidEventError) this.error = { kind: 'invalid', ...where, index: this.applied, field: e.field, message: e.message }
      else throw e
      return false
    }
    this.applied++
    this.counts[event.type] = (this.counts[event.type] ?? 0) + 1
    this.options.onStep?.(this.applied, this.total)
    return !(this.options.stopAtFirstViolation && this.violations.length > 0)
  }
}
