/**
 * The event log as a history tree: the dispatched events of every branch, with their checked
 * violations; snapshots are derived (replay from genesis gives the same snapshots) and kept only
 * as byte-budgeted checkpoints (checkpoints.ts) plus a bounded cache of recent steps. It
 * publishes every step on `steps$` and every violation on `violations$` (RxJS).
 *
 * Positions. The head is a number of applied events on the current branch (`length`), optionally
 * inside the next event: `seek(i, k)` = the snapshot after internal step `k` of event `i`, where
 * the internal steps of an event are numbered depth first in the order their snapshots were
 * produced (a composite's children before the composite: `internalSteps`). `undo`/`redo` move
 * by dispatched events, `undoStep`/`redoStep` by internal steps too; `seek(i)` replays forward
 * from the nearest checkpoint (at most one checkpoint interval of events, unchecked: the
 * violations were recorded when the event was dispatched).
 *
 * Branches. Dispatching with undone events ahead of the head forks a new branch at the head (the
 * old one stays reachable: `branches()`, `checkout`); `branch(i, change)` forks at event `i`,
 * replaces, skips or inserts an event there and recomputes the future (checked), stopping at
 * the first event the new past makes invalid. A failed dispatch leaves everything unchanged.
 */
import equal from 'fast-deep-equal/es6/index.js'
import { Subject } from 'rxjs'
import { applyCall, eventSpec, withVariants, type AnyEventSpec, type InternalStep, type ModelEvent } from '../../reducers/index.js'
import { isOstdPanic } from '../arch/errors.js'
import { Checker } from '../check/checker.js'
import { defaultRegistry } from '../check/rules/index.js'
import type { RuleRegistry } from '../check/registry.js'
import type { CheckMode, Violation } from '../check/rule.js'
import { genesis, type ModelConfigInput } from '../model/genesis.js'
import type { Snapshot } from '../model/snapshot.js'
import { CheckpointStore, snapshotHash, type Checkpoint, type CheckpointOptions } from './checkpoints.js'
import { EventStore } from './history_events.js'
import { formatCheckpointLine, formatEventLine, parseTrace, resultAsJson, TraceError, traceHeader, validateEvent, type Trace } from './trace.js'

/** One dispatched event with its result, its snapshots, its internal steps and its violations. */
export interface Step extends InternalStep {
  /** Position in the history (0-based). */
  readonly index: number
  readonly violations: readonly Violation[]
}

export interface HistoryOptions extends ModelConfigInput, CheckpointOptions {
  check?: CheckMode
  /** Replacement event specs (same `type`) used instead of the model's own: reducer variants. */
  variants?: readonly AnyEventSpec[]
  registry?: RuleRegistry
  /** Validate events with their schema on dispatch (default true). */
  validate?: boolean
  /**
   * Start from this snapshot instead of genesis (tests and debugging: e.g. a corrupted state).
   * Such a history's trace does not record the start state.
   */
  initial?: Snapshot
  /** Recently used steps kept whole (snapshots, results, internal steps). Default 1024. */
  cacheSteps?: number
}

/** What a recording says about an event: its result and/or the hash of the snapshot after it. */
export interface Recorded {
  /** The recorded result (JSON), when the trace has one (`expect`). */
  readonly result?: unknown
  /** The recorded `snapshotHash` of the post-state (a checkpoint line). */
  readonly hash?: string
  /** 1-based trace line of the event, for messages. */
  readonly line?: number
}

/** The head: `index` events applied, and (when not null) inside event `index` after internal step `internal`. */
export interface Position {
  readonly index: number
  readonly internal: number | null
}

export interface BranchInfo {
  readonly id: number
  /** The branch it was forked from (null for the first). */
  readonly parent: number | null
  /** Number of events shared with the parent. */
  readonly forkAt: number
  /** Events recorded on the branch. */
  readonly length: number
}

/** How `branch(i, change)` changes event `i`. */
export type BranchChange = { readonly replace: ModelEvent } | { readonly skip: true } | { readonly insert: ModelEvent }

export interface BranchReport extends BranchInfo {
  /** The first old event the new past made invalid (the recomputed future stops before it). */
  readonly stopped: { readonly oldIndex: number; readonly event: ModelEvent; readonly rule?: string; readonly message: string } | null
}

/** An event that does not match its schema (or has an unknown type); nothing was applied. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError'
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`invalid event${field ? `: field ${field}` : ''}: ${reason}`)
  }
}

/** Model rule IDs of differential replay (model_ids.ts). */
/** Steps an undo that misses the step cache replays and caches at once (see `prefetchBefore`). */
const UNDO_PREFETCH_STEPS = 256

export const TRACE_EXPECT_RULE = 'REQ-TRACE-EXPECT-1'
export const TRACE_CHECKPOINT_RULE = 'REQ-TRACE-CHECKPOINT-1'

interface Branch {
  readonly id: number
  readonly parent: number | null
  readonly forkAt: number
  /** The recorded events (replaced by a prefix when a lazily loaded event is rejected). */
  events: EventStore
  /**
   * Events `[0, frontier)` have been applied and checked (their violations are recorded, their
   * checkpoints exist). Dispatched events are applied at once (`frontier` = the length); events
   * appended by a lazy load (`append`) are applied when the head first reaches them (`advance`).
   */
  frontier: number
  readonly violations: Map<number, readonly Violation[]>
  readonly recorded: Map<number, Recorded>
  readonly checkpoints: CheckpointStore
  /** The head when the branch was last left. */
  head: number
}

/** The internal steps of a step, depth first in the order their snapshots were produced. */
export function internalSteps(step: InternalStep): Array<{ readonly path: readonly number[]; readonly step: InternalStep }> {
  const out: Array<{ path: number[]; step: InternalStep }> = []
  const visit = (steps: readonly InternalStep[], path: readonly number[]): void => {
    steps.forEach((st, j) => {
      const at = [...path, j]
      visit(st.steps, at)
      out.push({ path: at, step: st })
    })
  }
  visit(step.steps, [])
  return out
}

export class History {
  readonly steps$ = new Subject<Step>()
  readonly violations$ = new Subject<Violation>()
  readonly genesis: Snapshot
  readonly checkMode: CheckMode
  readonly config: ModelConfigInput
  /** The options the history was made with (bisect and shrink replay with the same ones). */
  readonly options: Readonly<HistoryOptions>
  private readonly checker: Checker
  private readonly variants: ReadonlyMap<string, AnyEventSpec> | null
  private readonly validate: boolean
  private readonly cacheLimit: number
  private readonly tree: Branch[] = []
  private current: Branch
  private head = 0
  private inside: number | null = null
  /** Steps of the current branch by index (insertion order = recency, for eviction). */
  private cache = new Map<number, Step>()

  constructor(options: HistoryOptions = {}) {
    this.options = options
    this.config = { physicalMemory: options.physicalMemory, mmioRanges: options.mmioRanges }
    this.genesis = options.initial ?? genesis(this.config)
    this.checkMode = options.check ?? 'incremental'
    this.checker = new Checker(options.registry ?? defaultRegistry(), this.checkMode)
    this.variants = options.variants && options.variants.length > 0 ? new Map(options.variants.map((v) => [v.type, v])) : null
    this.validate = options.validate ?? true
    this.cacheLimit = Math.max(1, options.cacheSteps ?? 1024)
    this.current = this.newBranch(null, 0, new EventStore(), new CheckpointStore(this.genesis, options))
  }

  // ---- reading --------------------------------------------------------------------------------

  /** The current snapshot (after the last applied event, or inside the next one). */
  get state(): Snapshot {
    if (this.inside !== null) return internalSteps(this.stepOf(this.head))[this.inside]!.step.after
    return this.materialize(this.head)
  }

  /** Number of applied events. */
  get length(): number {
    return this.head
  }

  get position(): Position {
    return { index: this.head, internal: this.inside }
  }

  /** Events recorded on the current branch (applied and undone). */
  get recordedLength(): number {
    return this.current.events.length
  }

  get canUndo(): boolean {
    return this.head > 0 || this.inside !== null
  }

  get canRedo(): boolean {
    return this.head < this.current.events.length
  }

  /** The applied step at `i` (0-based). */
  at(i: number): Step {
    if (!Number.isInteger(i) || i < 0 || i >= this.head) throw new RangeError(`no step ${i} (history has ${this.head})`)
    return this.stepOf(i)
  }

  /** The snapshot after `i` applied events (`snapshotAt(0)` is genesis). */
  snapshotAt(i: number): Snapshot {
    if (!Number.isInteger(i) || i < 0 || i > this.head) throw new RangeError(`no snapshot ${i} (history has ${this.head} steps)`)
    return this.materialize(i)
  }

  /** The applied events, in order. */
  events(): ModelEvent[] {
    const out: ModelEvent[] = []
    for (let i = 0; i < this.head; i++) out.push(this.current.events.at(i))
    return out
  }

  /** Recorded event `i` of the current branch, applied or undone (decoded from the log; no replay). */
  eventAt(i: number): ModelEvent {
    if (!Number.isInteger(i) || i < 0 || i >= this.current.events.length) throw new RangeError(`no event ${i}`)
    return this.current.events.at(i)
  }

  /** What the recording said about event `i` (differential replay), if anything. */
  recordedAt(i: number): Recorded | undefined {
    const recorded = this.current.recorded.get(i)
    if (recorded !== undefined) return recorded
    // a line loaded with deferred validation keeps its line number in the log
    const line = i < this.current.events.length ? this.current.events.rawLineAt(i) : undefined
    return line === undefined ? undefined : { line }
  }

  /** Every violation of the applied steps. */
  violations(): Violation[] {
    const out: Violation[] = []
    for (const [i, vs] of this.current.violations) if (i < this.head) out.push(...vs)
    return out
  }

  /** Indices of the applied events that reported violations, ascending. */
  violatingSteps(): number[] {
    const out: number[] = []
    for (const i of this.current.violations.keys()) if (i < this.head) out.push(i)
    return out.sort((a, b) => a - b)
  }

  /** The violations event `i` reported (recorded at dispatch; no replay). */
  violationsAt(i: number): readonly Violation[] {
    return this.current.violations.get(i) ?? []
  }

  /** The checkpoints of the current branch. */
  checkpoints(): readonly Checkpoint[] {
    return this.current.checkpoints.all()
  }

  /** Memory accounting: estimated bytes of the event log and of the checkpoints, and the checkpoint spacing. */
  memoryEstimate(): { eventBytes: number; checkpointBytes: number; checkpoints: number; intervalEvents: number; cachedSteps: number } {
    const cps = this.current.checkpoints
    return { eventBytes: this.current.events.estimatedBytes(), checkpointBytes: cps.totalBytes, checkpoints: cps.size, intervalEvents: cps.spacingEvents, cachedSteps: this.cache.size }
  }

  /**
   * The steps `from .. to - 1` of the current branch, replayed forward from the nearest
   * checkpoint without caching (bisect's scan). With `checker`, each step's violations are
   * computed by it (a fresh checker in some mode) instead of taken from the record.
   */
  *scan(from = 0, to = this.head, checker?: Checker): Generator<Step> {
    if (to > this.current.events.length) throw new RangeError(`cannot scan to ${to} (${this.current.events.length} recorded)`)
    this.advance(to)
    let cached = from > 0 ? this.cache.get(from - 1) : undefined
    let s: Snapshot
    let i: number
    if (cached !== undefined) {
      s = cached.after
      i = from
    } else {
      const cp = this.current.checkpoints.nearest(from)
      s = cp.snapshot
      i = cp.index
    }
    for (; i < to; i++) {
      cached = this.cache.get(i)
      const step = cached !== undefined && cached.before === s && checker === undefined ? cached : checker ? this.checkedStep(checker, this.current.events.at(i), s, i, this.current.recorded.get(i)) : this.recompute(i, s)
      s = step.after
      if (i >= from) yield step
    }
  }

  // ---- moving -------------------------------------------------------------------------------

  /**
   * Applies one event (the optional `recorded` result / hash is checked: differential replay).
   * A failed precondition (or OSTD panic) throws `OstdPanic` and leaves the history and the
   * state exactly as they were. With undone events ahead, the new event starts a new branch.
   */
  dispatch(event: ModelEvent, recorded?: Recorded): Step {
    const checked = this.validated(event)
    if (this.inside !== null) throw new RangeError(`the head is inside event ${this.head} (internal step ${this.inside}): seek to an event boundary before dispatching`)
    const text = EventStore.encode(checked)
    const step = this.checkedStep(this.checker, checked, this.state, this.head, recorded)
    if (this.head < this.current.events.length) {
      this.current.head = this.head
      this.current = this.fork(this.head)
    }
    this.record(step, recorded, text)
    this.publish(step)
    return step
  }

  /** Moves the head back one event (from inside an event: to its start); returns the undone step (null at genesis). */
  undo(): Step | null {
    if (this.inside !== null) {
      this.inside = null
      this.checker.reset()
      return this.stepOf(this.head)
    }
    if (this.head === 0) return null
    this.head--
    this.checker.reset()
    this.prefetchBefore(this.head)
    return this.stepOf(this.head)
  }

  /** Re-applies the next undone event (from inside an event: completes it); returns its step (null if none). */
  redo(): Step | null {
    if (this.head >= this.current.events.length) return null
    const step = this.stepOf(this.head)
    this.inside = null
    this.head++
    this.publish(step)
    return step
  }

  /** Moves the head back one internal step or event boundary; returns the new position (null at genesis). */
  undoStep(): Position | null {
    if (this.inside !== null) {
      this.inside = this.inside > 0 ? this.inside - 1 : null
    } else {
      if (this.head === 0) return null
      this.head--
      this.prefetchBefore(this.head)
      const n = internalSteps(this.stepOf(this.head)).length
      this.inside = n > 0 ? n - 1 : null
    }
    this.checker.reset()
    return this.position
  }

  /** Moves the head forward one internal step or event boundary; returns the new position (null at the end). */
  redoStep(): Position | null {
    if (this.head >= this.current.events.length) return null
    const n = internalSteps(this.stepOf(this.head)).length
    const next = this.inside === null ? 0 : this.inside + 1
    if (next < n) {
      this.inside = next
    } else {
      this.inside = null
      this.head++
    }
    this.checker.reset()
    return this.position
  }

  /**
   * Moves the head to `i` applied events (within the recorded events of the branch), or inside
   * event `i` after its internal step `internal`.
   */
  seek(i: number, internal?: number): Snapshot {
    const n = this.current.events.length
    if (!Number.isInteger(i) || i < 0 || i > n) throw new RangeError(`cannot seek to ${i} (0..${n})`)
    if (internal !== undefined) {
      if (i === n) throw new RangeError(`cannot seek inside event ${i}: the branch has ${n} events`)
      const count = internalSteps(this.stepOf(i)).length
      if (!Number.isInteger(internal) || internal < 0 || internal >= count) throw new RangeError(`event ${i} has ${count} internal steps (asked for ${internal})`)
    }
    this.head = i
    this.inside = internal ?? null
    this.checker.reset()
    return this.state
  }

  // ---- branches -------------------------------------------------------------------------------

  get branchId(): number {
    return this.current.id
  }

  branches(): BranchInfo[] {
    return this.tree.map((b) => this.infoOf(b))
  }

  /** Makes branch `id` current, with the head where it was left. */
  checkout(id: number): void {
    const b = this.tree[id]
    if (b === undefined) throw new RangeError(`no branch ${id}`)
    this.current.head = this.head
    this.current = b
    this.head = b.head
    this.inside = null
    this.cache.clear()
    this.checker.reset()
  }

  /**
   * Forks at event `at`: applies `change` there (replace / skip / insert an event), then re-applies
   * the old branch's later events (checked), stopping before the first that fails now. The new
   * branch becomes current with the head at its end; the old one stays reachable. If the
   * replacing or inserted event itself fails, nothing changes and the error is thrown.
   */
  branch(at: number, change: BranchChange): BranchReport {
    const old = this.current
    if (!Number.isInteger(at) || at < 0 || at > old.events.length) throw new RangeError(`cannot branch at ${at} (0..${old.events.length})`)
    if ('replace' in change || 'skip' in change) {
      if (at === old.events.length) throw new RangeError(`no event ${at} to ${'skip' in change ? 'skip' : 'replace'}`)
    }
    this.advance(old.events.length)
    const saved = { head: this.head, inside: this.inside }
    old.head = this.head
    this.inside = null
    this.head = at
    this.checker.reset()
    const fork = this.fork(at)
    this.current = fork
    const added = 'replace' in change ? change.replace : 'insert' in change ? change.insert : null
    if (added !== null) {
      try {
        this.dispatch(added)
      } catch (e) {
        this.tree.pop()
        this.current = old
        this.head = saved.head
        this.inside = saved.inside
        this.cache.clear()
        this.checker.reset()
        throw e
      }
    }
    let stopped: BranchReport['stopped'] = null
    const resume = 'insert' in change ? at : at + 1
    for (let j = resume; j < old.events.length; j++) {
      const event = old.events.at(j)
      try {
        this.dispatch(event, old.recorded.get(j))
      } catch (e) {
        if (isOstdPanic(e)) stopped = { oldIndex: j, event, rule: e.rule, message: e.detail }
        else if (e instanceof InvalidEventError) stopped = { oldIndex: j, event, message: e.message }
        else throw e
        break
      }
    }
    return { ...this.infoOf(fork), stopped }
  }

  // ---- checking the record -----------------------------------------------------------------------

  /**
   * Replays the applied events from genesis with a fresh checker and compares every snapshot
   * the history holds (checkpoints, cached steps) and every recorded violation with the replay.
   * Returns the first event index that differs, or null when all agree.
   */
  verify(): number | null {
    const checker = new Checker(this.checker.registry, this.checkMode)
    let s = this.genesis
    const cps = new Map(this.current.checkpoints.all().map((c) => [c.index, c.snapshot]))
    for (let i = 0; i < this.head; i++) {
      const step = this.checkedStep(checker, this.current.events.at(i), s, i, this.current.recorded.get(i))
      const cp = cps.get(i + 1)
      const cached = this.cache.get(i)
      if ((cp !== undefined && !equal(cp, step.after)) || (cached !== undefined && !equal(cached.after, step.after))) return i
      if (JSON.stringify(step.violations) !== JSON.stringify(this.violationsAt(i))) return i
      s = step.after
    }
    return null
  }

  /**
   * Re-derives every checkpoint of the current branch by replay from genesis and compares it
   * (deep equality); returns the indices of those that differ (empty: all verified).
   */
  verifyCheckpoints(): number[] {
    const bad: number[] = []
    const list = this.current.checkpoints.all()
    if (!equal(list[0]!.snapshot, this.genesis)) bad.push(0)
    let s = this.genesis
    let k = 1
    for (let i = 0; k < list.length && i < this.current.events.length; i++) {
      s = this.recompute(i, s).after
      if (list[k]!.index === i + 1) {
        if (!equal(list[k]!.snapshot, s)) bad.push(i + 1)
        k++
      }
    }
    return bad
  }

  // ---- traces ---------------------------------------------------------------------------------

  /**
   * The applied events as trace lines (header first). `expect`: each event line carries the
   * model's result (for differential replay); `checkpoints`: a hash line after each checkpoint's
   * event. Either replays the history from genesis once (unchecked) as lines are produced.
   */
  *traceLines(opts: { expect?: boolean; checkpoints?: boolean } = {}): Generator<string> {
    yield JSON.stringify(traceHeader(this.config))
    const cpIndex = new Set(opts.checkpoints ? this.current.checkpoints.all().map((c) => c.index) : [])
    if (cpIndex.has(0)) yield formatCheckpointLine(0, snapshotHash(this.genesis))
    const replaying = opts.expect === true || cpIndex.size > 0
    let s = this.genesis
    for (let i = 0; i < this.head; i++) {
      if (!replaying) {
        yield formatEventLine(this.current.events.at(i))
        continue
      }
      const step = this.recompute(i, s)
      s = step.after
      yield formatEventLine(step.event, opts.expect ? { result: step.result } : undefined)
      if (cpIndex.has(i + 1)) yield formatCheckpointLine(i + 1, snapshotHash(s))
    }
  }

  /** The applied events as an NDJSON trace (see `traceLines`). */
  toNDJSON(opts: { expect?: boolean; checkpoints?: boolean } = {}): string {
    let out = ''
    for (const line of this.traceLines(opts)) out += line + '\n'
    return out
  }

  /**
   * Records `event` after the last recorded one without applying it (a lazily loaded trace): it
   * is applied and checked when the head first reaches it (`seek`, `redo`, `state`, a scan).
   * `recorded` (result / hash / line) is compared then. An event the model rejects at that point
   * throws `TraceError` naming its line (or the `OstdPanic`), and the branch keeps only the events
   * before it.
   */
  append(event: ModelEvent, recorded?: Recorded): void {
    const checked = this.validated(event)
    const b = this.current
    if (recorded !== undefined) b.recorded.set(b.events.length, recorded)
    b.events.push(checked)
  }

  /**
   * `append` for a plain event line of a trace, not yet parsed (deferred validation: trace_stream.ts
   * `loadTrace`; the type and the bytes after it as `EventStore.pushRaw` takes them): the line is parsed and
   * validated when the head first reaches it, and a bad one throws the `TraceError` naming `line`
   * then, the branch keeping the events before it. `hash`: the checkpoint line that follows it.
   */
  appendRaw(type: string, bytes: Buffer, start: number, end: number, line: number, hash?: string): void {
    const b = this.current
    if (hash !== undefined) b.recorded.set(b.events.length, { hash, line })
    b.events.pushRaw(type, bytes, start, end, line)
  }

  /** `event` checked against its schema (defaults filled in) when the history validates, or when its type is unknown; `InvalidEventError` if it fails. */
  private validated(event: ModelEvent): ModelEvent {
    if (!this.validate && eventSpec(event?.type) !== undefined) return event
    const v = validateEvent(event)
    if (!v.ok) throw new InvalidEventError(v.field, v.reason)
    return v.event
  }

  /** Events applied and checked so far on the current branch (the rest were appended lazily). */
  get appliedFrontier(): number {
    return this.current.frontier
  }

  /** Applies and checks the appended events up to `to` (see `append`). */
  private advance(to: number): void {
    const b = this.current
    if (to <= b.frontier) return
    let s = this.materialize(b.frontier)
    for (let k = b.frontier; k < to; k++) {
      const recorded = b.recorded.get(k)
      const line = recorded?.line ?? b.events.rawLineAt(k)
      let step: Step
      try {
        step = this.checkedStep(this.checker, b.events.at(k), s, k, recorded)
      } catch (e) {
        // nothing from the rejected event on stays recorded
        b.events = new EventStore(b.events, k)
        for (const key of [...b.recorded.keys()]) if (key >= k) b.recorded.delete(key)
        if (this.head > k) this.head = k
        if (isOstdPanic(e) && line !== undefined) throw new TraceError(line, '', `event rejected: ${e.rule}: ${e.detail}`, e.rule)
        throw e
      }
      if (step.violations.length > 0) b.violations.set(k, step.violations)
      b.frontier = k + 1
      this.remember(step)
      if (b.checkpoints.wants(k + 1)) b.checkpoints.add(k + 1, step.after)
      s = step.after
    }
  }

  /**
   * A history built by replaying a validated trace: nothing is applied if any line is bad
   * (`TraceError` naming the line and field); an event the model rejects (OSTD panic, failed
   * precondition, e.g. a handle never created) throws `TraceError` naming its line and rule.
   * Recorded results and checkpoint hashes are checked (REQ-TRACE-EXPECT-1, REQ-TRACE-CHECKPOINT-1).
   */
  static fromNDJSON(text: string, options: Omit<HistoryOptions, keyof ModelConfigInput> = {}): History {
    const trace: Trace = parseTrace(text)
    const history = new History({ ...options, ...trace.header.config, validate: false })
    const genesisHash = trace.checkpoints.get(0)
    if (genesisHash !== undefined) history.checkGenesisHash(genesisHash.hash, genesisHash.line)
    trace.events.forEach((e, i) => {
      const rec: { result?: unknown; hash?: string; line: number } = { line: trace.lines[i]! }
      if (trace.expects.has(i)) rec.result = trace.expects.get(i)
      const cp = trace.checkpoints.get(i + 1)
      if (cp !== undefined) rec.hash = cp.hash
      history.dispatchFromTrace(e, rec)
    })
    return history
  }

  /** Refuses a trace whose checkpoint 0 (genesis) does not match this history's genesis. */
  checkGenesisHash(hash: string, line: number): void {
    const actual = snapshotHash(this.genesis)
    if (actual !== hash) throw new TraceError(line, 'hash', `the trace was recorded from another initial state (genesis hash ${actual}, trace says ${hash})`, TRACE_CHECKPOINT_RULE)
  }

  /** `dispatch` for a trace line: a rejected event becomes a `TraceError` naming the line (nothing applied). */
  dispatchFromTrace(event: ModelEvent, recorded: Recorded & { readonly line: number }): Step {
    try {
      return this.dispatch(event, recorded)
    } catch (e) {
      if (isOstdPanic(e)) throw new TraceError(recorded.line, '', `event rejected: ${e.rule}: ${e.detail}`, e.rule)
      if (e instanceof InvalidEventError) throw new TraceError(recorded.line, e.field, e.reason)
      throw e
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private newBranch(parent: number | null, forkAt: number, events: EventStore, checkpoints: CheckpointStore, from?: Branch): Branch {
    const keep = <V>(m: Map<number, V> | undefined): Map<number, V> => {
      const out = new Map<number, V>()
      if (m) for (const [k, v] of m) if (k < forkAt) out.set(k, v)
      return out
    }
    const b: Branch = { id: this.tree.length, parent, forkAt, events, frontier: forkAt, violations: keep(from?.violations), recorded: keep(from?.recorded), checkpoints, head: forkAt }
    this.tree.push(b)
    return b
  }

  /** A new branch sharing the first `at` events of the current one (not made current; the caller saves the current head). */
  private fork(at: number): Branch {
    const from = this.current
    for (const k of [...this.cache.keys()]) if (k >= at) this.cache.delete(k)
    return this.newBranch(from.id, at, new EventStore(from.events, at), from.checkpoints.prefix(at, this.options), from)
  }

  private infoOf(b: Branch): BranchInfo {
    return { id: b.id, parent: b.parent, forkAt: b.forkAt, length: b.events.length }
  }

  private record(step: Step, recorded: Recorded | undefined, text: string): void {
    const b = this.current
    const i = b.events.length
    b.events.push(step.event, text)
    if (step.violations.length > 0) b.violations.set(i, step.violations)
    if (recorded !== undefined) b.recorded.set(i, recorded)
    b.frontier = i + 1
    this.head = i + 1
    this.remember(step)
    if (b.checkpoints.wants(this.head)) b.checkpoints.add(this.head, step.after)
  }

  private remember(step: Step): void {
    this.cache.delete(step.index)
    this.cache.set(step.index, step)
    if (this.cache.size > this.cacheLimit) this.cache.delete(this.cache.keys().next().value!)
  }

  /** The snapshot after `i` events of the current branch. */
  private materialize(i: number): Snapshot {
    if (i === 0) return this.genesis
    this.advance(i)
    const cached = this.cache.get(i - 1)
    if (cached !== undefined) return cached.after
    const cp = this.current.checkpoints.nearest(i)
    let j = i - 1
    while (j >= cp.index && !this.cache.has(j)) j--
    let s = j >= cp.index ? this.cache.get(j)!.after : cp.snapshot
    for (let k = j >= cp.index ? j + 1 : cp.index; k < i; k++) {
      const step = this.recompute(k, s)
      this.remember(step)
      s = step.after
    }
    return s
  }

  /**
   * Walking backwards (undo), a step that is not cached costs a replay from the checkpoint before
   * it, and so would every checkpoint interval further back. Instead, a miss replays a stretch of
   * `UNDO_PREFETCH_STEPS` steps ending at `i` (from the checkpoint at or before its start) and
   * caches them all: the next undos are cache hits, and a miss happens once per stretch instead of
   * once per interval (the same replay work, in fewer and longer pauses).
   */
  private prefetchBefore(i: number): void {
    if (this.cache.has(i)) return
    const span = Math.min(UNDO_PREFETCH_STEPS, Math.floor(this.cacheLimit / 2))
    const cp = this.current.checkpoints.nearest(Math.max(0, i - span))
    let s = cp.snapshot
    for (let k = cp.index; k <= i; k++) {
      const cached = this.cache.get(k)
      const step = cached !== undefined && cached.before === s ? cached : this.recompute(k, s)
      this.remember(step)
      s = step.after
    }
  }

  /** Step `i` of the current branch (cached or recomputed). */
  private stepOf(i: number): Step {
    const cached = this.cache.get(i)
    if (cached !== undefined) return cached
    this.advance(i + 1)
    const fresh = this.cache.get(i)
    if (fresh !== undefined) return fresh
    const step = this.recompute(i, this.materialize(i))
    this.remember(step)
    return step
  }

  /** Re-applies recorded event `i` to `before` (unchecked: its violations are the recorded ones). */
  private recompute(i: number, before: Snapshot): Step {
    const event = this.current.events.at(i)
    const outcome = withVariants(this.variants, () => applyCall(eventSpec(event.type)!, before, event))
    return { event, before, after: outcome.snapshot, result: outcome.result, steps: outcome.steps ?? [], index: i, violations: this.current.violations.get(i) ?? [] }
  }

  /** Applies `event` to `before` and checks it with `checker` (and against the recording). */
  private checkedStep(checker: Checker, event: ModelEvent, before: Snapshot, index: number, recorded: Recorded | undefined): Step {
    const spec = eventSpec(event.type)!
    const outcome = withVariants(this.variants, () => applyCall(spec, before, event))
    const internal: InternalStep = { event, before, after: outcome.snapshot, result: outcome.result, steps: outcome.steps ?? [] }
    let violations = checker.check(internal, index)
    if (recorded !== undefined) {
      const extra = recordedViolations(internal, index, recorded)
      if (extra.length > 0) violations = [...violations, ...extra]
    }
    return { ...internal, index, violations }
  }

  private publish(step: Step): void {
    this.steps$.next(step)
    for (const v of step.violations) this.violations$.next(v)
  }
}

/** Differential replay: the model's result and post-state against what the trace recorded. */
function recordedViolations(step: InternalStep, index: number, recorded: Recorded): Violation[] {
  const out: Violation[] = []
  const where = recorded.line !== undefined ? `trace line ${recorded.line}` : `event ${index}`
  if ('result' in recorded) {
    const actual = resultAsJson(step.result)
    if (!equal(actual, recorded.result)) {
      out.push({ rule: TRACE_EXPECT_RULE, kind: 'REQ', step: index, event: step.event.type, message: `the model's result differs from the recorded one (${where})`, path: `${where}: expect`, expected: recorded.result, actual })
    }
  }
  if (recorded.hash !== undefined) {
    const actual = snapshotHash(step.after)
    if (actual !== recorded.hash) {
      out.push({ rule: TRACE_CHECKPOINT_RULE, kind: 'REQ', step: index, event: step.event.type, message: `the snapshot after this event differs from the recorded checkpoint (${where})`, path: `${where}: checkpoint hash`, expected: recorded.hash, actual })
    }
  }
  return out
}
