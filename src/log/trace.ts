/**
 * The NDJSON trace format: a header line `{ format, version, config }`, then one event per line.
 * Every line is validated (JSON, then the event's zod schema); a failure names the line number
 * and the field. Nothing is applied from a trace that fails validation.
 */
import { z } from 'zod'
import { eventSpec, eventTypes, EVENT_SPECS, type ModelEvent } from '../../reducers/index.js'
import type { ModelConfigInput } from '../model/genesis.js'

export const TRACE_FORMAT = 'ostd-model-trace'
export const TRACE_VERSION = 1

export const TraceHeader = z.object({
  format: z.literal(TRACE_FORMAT),
  version: z.literal(TRACE_VERSION),
  config: z
    .object({
      physicalMemory: z.number().int().positive().optional(),
      mmioRanges: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).optional(),
    })
    .strict()
    .default({}),
})
export type TraceHeader = z.infer<typeof TraceHeader>

/** A line of a trace that is not valid, with where and why. */
export class TraceError extends Error {
  override readonly name = 'TraceError'
  constructor(
    /** 1-based line number in the file. */
    readonly line: number,
    /** Dotted path of the offending field (`''` for the whole line). */
    readonly field: string,
    readonly reason: string,
  ) {
    super(`line ${line}${field ? `, field ${field}` : ''}: ${reason}`)
  }
}

export interface Trace {
  readonly header: TraceHeader
  readonly events: ModelEvent[]
  /** 1-based line number of each event (blank lines are skipped). */
  readonly lines: number[]
}

function fieldOf(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.')
}

export type EventValidation = { ok: true; event: ModelEvent } | { ok: false; field: string; reason: string }

/** Validates one event object against its type's schema (defaults filled in). */
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

/** Parses a whole trace; throws the first `TraceError`. */
export function parseTrace(text: string): Trace {
  const rawLines = text.split('\n')
  let header: TraceHeader | null = null
  const events: ModelEvent[] = []
  const lines: number[] = []
  rawLines.forEach((raw, i) => {
    const line = i + 1
    if (raw.trim() === '') return
    const value = parseJsonLine(raw, line)
    if (header === null) {
      const parsed = TraceHeader.safeParse(value)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!
        throw new TraceError(line, fieldOf(issue), `bad trace header: ${issue.message}`)
      }
      header = parsed.data
      return
    }
    events.push(parseEvent(value, line))
    lines.push(line)
  })
  if (header === null) throw new TraceError(1, '', 'empty trace: expected a header line')
  return { header, events, lines }
}

export function traceHeader(config: ModelConfigInput): TraceHeader {
  const c: TraceHeader['config'] = {}
  if (config.physicalMemory !== undefined) c.physicalMemory = config.physicalMemory
  if (config.mmioRanges !== undefined && config.mmioRanges.length > 0) c.mmioRanges = config.mmioRanges.map(([a, b]) => [a, b])
  return { format: TRACE_FORMAT, version: TRACE_VERSION, config: c }
}

export function formatTrace(header: TraceHeader, events: Iterable<ModelEvent>): string {
  const out = [JSON.stringify(header)]
  for (const e of events) out.push(JSON.stringify(e))
  return out.join('\n') + '\n'
}

/** Every known event type with its doc line (for `ostd-model events`). */
export function eventCatalogue(): Array<{ type: string; doc: string }> {
  return EVENT_SPECS.map((s) => ({ type: s.type, doc: s.doc }))
}

export { eventTypes }
