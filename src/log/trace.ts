/**
 * The NDJSON trace format (version 2): a header line `{ format, version, config }`, then one
 * item per line:
 *   - an event: the event object `{ type, ...args }`, optionally with `expect` = the result the
 *     recording produced (differential replay: the model's result must equal it, else the step
 *     reports REQ-TRACE-EXPECT-1);
 *   - a checkpoint: `{ checkpoint: n, hash }` = the snapshot after the first `n` events has this
 *     hash (`snapshotHash`); it must directly follow event `n` (or the header when `n` = 0). A
 *     mismatch is reported on event `n - 1` as REQ-TRACE-CHECKPOINT-1 (at `n` = 0 the trace was
 *     recorded from another configuration: bad input).
 * Every line is validated (JSON, then its zod schema); a failure names the line number and the
 * field. Version 1 traces (events only) are read through the upcaster (`UPCASTERS`); a version
 * newer than `TRACE_VERSION` is refused with a clear error. Nothing is applied from a trace that
 * fails validation (whole-text parsing) or from the bad line on (streaming: trace_stream.ts).
 */
import { z } from 'zod'
import { eventSpec, eventTypes, EVENT_SPECS, type ModelEvent } from '../../reducers/index.js'
import { modelConfig, type ModelConfigInput } from '../model/genesis.js'

export const TRACE_FORMAT = 'ostd-model-trace'
export const TRACE_VERSION = 2

/** The key of an event line that carries the recorded result (no event schema may use it). */
export const EXPECT_KEY = 'expect'
for (const spec of EVENT_SPECS) {
  const shape = (spec.schema as unknown as { shape?: Record<string, unknown> }).shape
  if (shape !== undefined && EXPECT_KEY in shape) throw new Error(`event ${spec.type} has a field named ${EXPECT_KEY}, reserved by the trace format`)
}

const TraceConfig = z
  .object({
    physicalMemory: z.number().int().positive().optional(),
    mmioRanges: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).optional(),
  })
  .strict()
  // The model's own checks (page-aligned, below MAX_PADDR, non-empty MMIO ranges): a header the
  // model would refuse is a bad line 1, not a RangeError out of genesis.
  .superRefine((config, ctx) => {
    try {
      modelConfig(config)
    } catch (e) {
      if (!(e instanceof RangeError)) throw e
      ctx.addIssue({ code: 'custom', message: e.message, path: [e.message.startsWith('mmioRanges') ? 'mmioRanges' : 'physicalMemory'] })
    }
  })
  .default({})

export const TraceHeader = z.object({
  format: z.literal(TRACE_FORMAT),
  version: z.literal(TRACE_VERSION),
  config: TraceConfig,
})
export type TraceHeader = z.infer<typeof TraceHeader>

/** What a header must have before its version is known (to pick the upcaster). */
const VersionedHeader = z.object({ format: z.literal(TRACE_FORMAT), version: z.number().int().positive() })

export const CheckpointLine = z.object({ checkpoint: z.number().int().nonnegative(), hash: z.string().regex(/^[0-9a-f]{16}$/, 'a 16-digit hex snapshot hash') }).strict()
export type CheckpointLine = z.infer<typeof CheckpointLine>

/** A line of a trace that is not valid, with where and why. */
export class TraceError extends Error {
  override readonly name = 'TraceError'
  constructor(
    /** 1-based line number in the file. */
    readonly line: number,
    /** Dotted path of the offending field (`''` for the whole line). */
    readonly field: string,
    readonly reason: string,
    /** The rule a rejected event broke (an OSTD panic / failed precondition while replaying). */
    readonly rule?: string,
  ) {
    super(`line ${line}${field ? `, field ${field}` : ''}: ${reason}`)
  }
}

/** One parsed line after the header. */
export type TraceItem =
  | { readonly kind: 'event'; readonly line: number; readonly event: ModelEvent; readonly expect?: unknown; readonly hasExpect: boolean }
  | { readonly kind: 'checkpoint'; readonly line: number; readonly index: number; readonly hash: string }

export interface Trace {
  readonly header: TraceHeader
  readonly events: ModelEvent[]
  /** 1-based line number of each event (blank lines are skipped). */
  readonly lines: number[]
  /** Recorded results, by event index (only events that carry `expect`). */
  readonly expects: ReadonlyMap<number, unknown>
  /** Recorded snapshot hashes, by number of events before them. */
  readonly checkpoints: ReadonlyMap<number, { readonly hash: string; readonly line: number }>
}

function fieldOf(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.')
}

export type EventValidation = { ok: true; event: ModelEvent } | { ok: false; field: string; reason: string }

/**
 * The first field of `value` that the parsed `data` lacks, as a path: the event schemas are zod
 * objects, which drop keys they do not know, so a misspelt optional argument (`zeroe: false`)
 * would otherwise be ignored and its default used without a word.
 */
function droppedField(value: unknown, data: unknown, path: readonly (string | number)[]): string | null {
  if (typeof value !== 'object' || value === null || typeof data !== 'object' || data === null) return null
  if (Array.isArray(value)) {
    if (!Array.isArray(data)) return null
    for (let i = 0; i < value.length; i++) {
      const inner = droppedField(value[i], data[i], [...path, i])
      if (inner !== null) return inner
    }
    return null
  }
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(data, key)) return [...path, key].join('.')
    const inner = droppedField((value as Record<string, unknown>)[key], (data as Record<string, unknown>)[key], [...path, key])
    if (inner !== null) return inner
  }
  return null
}

/** Validates one event object against its type's schema (defaults filled in; unknown fields refused). */
export function validateEvent(value: unknown): EventValidation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, field: '', reason: 'an event must be a JSON object' }
  const type = (value as { type?: unknown }).type
  if (typeof type !== 'string') return { ok: false, field: 'type', reason: 'missing event type (a string)' }
  const spec = eventSpec(type)
  if (spec === undefined) return { ok: false, field: 'type', reason: `unknown event type ${JSON.stringify(type)}` }
  const parsed = spec.schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    return { ok: false, field: fieldOf(issue), reason: issue.message }
  }
  const unknown = droppedField(value, parsed.data, [])
  if (unknown !== null) return { ok: false, field: unknown, reason: `unknown field ${JSON.stringify(unknown)}: a ${type} event has no such argument` }
  return { ok: true, event: parsed.data }
}

/** Validates one event of a trace; throws `TraceError` naming `line` and the field. */
export function parseEvent(value: unknown, line: number): ModelEvent {
  const v = validateEvent(value)
  if (!v.ok) throw new TraceError(line, v.field, v.reason)
  return v.event
}

function parseJsonLine(text: string, line: number): unknown {
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new TraceError(line, '', `not valid JSON (${(e as Error).message})`)
  }
}

// ---- versions --------------------------------------------------------------------------------

/**
 * Upcasters: `UPCASTERS[v]` turns a version-`v` header or line into version `v + 1`. Reading a
 * version-`v` trace applies `UPCASTERS[v]`, `UPCASTERS[v + 1]`, … up to `TRACE_VERSION`.
 * v1 → v2: the header gets `version: 2`; a v1 line is an event and nothing else (v1 had no
 * `expect` and no checkpoint lines), so such keys in a v1 trace are refused by the event schema
 * (the upcaster tags the line so that `parseItem` treats it as a plain event).
 */
export interface Upcaster {
  header(value: Record<string, unknown>): Record<string, unknown>
  line(value: unknown): unknown
}

const V1_EVENT = Symbol('v1 event line')

export const UPCASTERS: Readonly<Record<number, Upcaster>> = {
  1: {
    header: (h) => ({ ...h, version: 2 }),
    line: (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? { [V1_EVENT]: true, ...v } : v),
  },
}

/** The upcasting chain for a trace of `version` (empty for the current one). */
function upcastersFrom(version: number): Upcaster[] {
  const chain: Upcaster[] = []
  for (let v = version; v < TRACE_VERSION; v++) {
    const u = UPCASTERS[v]
    if (u === undefined) throw new Error(`no upcaster from trace version ${v}`)
    chain.push(u)
  }
  return chain
}

/** A parser for the lines of one trace: it knows the header's version and upcasts each line. */
export class TraceLineParser {
  private chain: Upcaster[] | null = null
  private headerValue: TraceHeader | null = null
  private events = 0
  /** Line of the last item (the header counts as event count 0's position). */
  private lastKind: 'header' | 'event' | 'checkpoint' | null = null

  get header(): TraceHeader | null {
    return this.headerValue
  }

  /** Parses one raw line; returns null for the header and blank lines. Throws `TraceError`. */
  parse(raw: string, line: number): TraceItem | null {
    if (raw.trim() === '') return null
    const value = parseJsonLine(raw, line)
    if (this.headerValue === null) {
      this.readHeader(value, line)
      return null
    }
    return this.parseItem(value, line)
  }

  /**
   * Whether a plain event line may be framed without being parsed (deferred validation,
   * `loadTrace`'s `deferValidation`): once the header is read, for a current-version trace (older
   * versions go through their upcasters).
   */
  get framesRaw(): boolean {
    return this.chain !== null && this.chain.length === 0
  }

  /** Counts an event line that was framed, not parsed (see `framesRaw`). */
  rawEvent(): void {
    this.events++
    this.lastKind = 'event'
  }

  /** Called at the end of the input. */
  finish(lastLine: number): void {
    if (this.headerValue === null) throw new TraceError(Math.max(1, lastLine), '', 'empty trace: expected a header line')
  }

  private readHeader(value: unknown, line: number): void {
    const versioned = VersionedHeader.safeParse(value)
    if (!versioned.success) {
      const issue = versioned.error.issues[0]!
      throw new TraceError(line, fieldOf(issue), `bad trace header: ${issue.message}`)
    }
    const version = versioned.data.version
    if (version > TRACE_VERSION) {
      throw new TraceError(line, 'version', `trace format version ${version} is newer than this ostd-model reads (up to ${TRACE_VERSION}): upgrade ostd-model`)
    }
    this.chain = upcastersFrom(version)
    let h = value as Record<string, unknown>
    for (const u of this.chain) h = u.header(h)
    const parsed = TraceHeader.safeParse(h)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new TraceError(line, fieldOf(issue), `bad trace header: ${issue.message}`)
    }
    this.headerValue = parsed.data
    this.lastKind = 'header'
  }

  private parseItem(raw: unknown, line: number): TraceItem {
    let value = raw
    for (const u of this.chain!) value = u.line(value)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TraceError(line, '', 'a trace line must be a JSON object')
    const obj = value as Record<string | symbol, unknown>
    const v1 = obj[V1_EVENT] === true
    if (!v1 && 'checkpoint' in obj) {
      const parsed = CheckpointLine.safeParse(obj)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!
        throw new TraceError(line, fieldOf(issue), `bad checkpoint line: ${issue.message}`)
      }
      if (parsed.data.checkpoint !== this.events || this.lastKind === 'checkpoint') {
        throw new TraceError(line, 'checkpoint', `a checkpoint line must directly follow the event it closes: ${this.events} events precede it, it says ${parsed.data.checkpoint}`)
      }
      this.lastKind = 'checkpoint'
      return { kind: 'checkpoint', line, index: parsed.data.checkpoint, hash: parsed.data.hash }
    }
    let eventValue: Record<string, unknown> = obj as Record<string, unknown>
    let hasExpect = false
    let expect: unknown
    if (!v1 && EXPECT_KEY in obj) {
      const { [EXPECT_KEY]: recorded, ...rest } = obj as Record<string, unknown>
      hasExpect = true
      expect = recorded
      eventValue = rest
    } else if (v1) {
      const { [V1_EVENT]: _tag, ...rest } = obj
      eventValue = rest as Record<string, unknown>
    }
    const event = parseEvent(eventValue, line)
    this.events++
    this.lastKind = 'event'
    return hasExpect ? { kind: 'event', line, event, expect, hasExpect } : { kind: 'event', line, event, hasExpect }
  }
}

/** Parses a whole trace; throws the first `TraceError`. */
export function parseTrace(text: string): Trace {
  const parser = new TraceLineParser()
  const events: ModelEvent[] = []
  const lines: number[] = []
  const expects = new Map<number, unknown>()
  const checkpoints = new Map<number, { hash: string; line: number }>()
  let lineNo = 0
  let start = 0
  // Line by line without splitting the whole text into an array first.
  while (start <= text.length) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    lineNo++
    const item = parser.parse(text.slice(start, end), lineNo)
    if (item !== null) {
      if (item.kind === 'event') {
        if (item.hasExpect) expects.set(events.length, item.expect)
        events.push(item.event)
        lines.push(item.line)
      } else {
        checkpoints.set(item.index, { hash: item.hash, line: item.line })
      }
    }
    start = end + 1
  }
  parser.finish(lineNo)
  return { header: parser.header!, events, lines, expects, checkpoints }
}

export function traceHeader(config: ModelConfigInput): TraceHeader {
  const c: TraceHeader['config'] = {}
  if (config.physicalMemory !== undefined) c.physicalMemory = config.physicalMemory
  if (config.mmioRanges !== undefined && config.mmioRanges.length > 0) c.mmioRanges = config.mmioRanges.map(([a, b]) => [a, b])
  return { format: TRACE_FORMAT, version: TRACE_VERSION, config: c }
}

/** A result as JSON data (what a trace records and what `expect` is compared against). */
export function resultAsJson(result: unknown): unknown {
  return result === undefined ? null : JSON.parse(JSON.stringify(result))
}

/** The line of an event, with its recorded result when `expect` is given. */
export function formatEventLine(event: ModelEvent, expect?: { readonly result: unknown }): string {
  return JSON.stringify(expect === undefined ? event : { ...event, [EXPECT_KEY]: resultAsJson(expect.result) })
}

export function formatCheckpointLine(index: number, hash: string): string {
  return JSON.stringify({ checkpoint: index, hash })
}

export function formatTrace(header: TraceHeader, events: Iterable<ModelEvent>): string {
  const out = [JSON.stringify(header)]
  for (const e of events) out.push(formatEventLine(e))
  return out.join('\n') + '\n'
}

/** Every known event type with its doc line (for `ostd-model events`). */
export function eventCatalogue(): Array<{ type: string; doc: string }> {
  return EVENT_SPECS.map((s) => ({ type: s.type, doc: s.doc }))
}

export { eventTypes }
