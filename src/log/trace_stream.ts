/**
 * Streaming traces: read a trace file (or any readable) a chunk at a time, and write one with
 * back-pressure, so that a 10^6-event trace is never in memory as text.
 * `loadTrace` replays while reading: events before a bad line are applied, nothing from the bad
 * line on (the error names it); with `lazy`, it only records them (applied when first reached),
 * and with `deferValidation` as well, a plain event line is validated when first applied.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import { History, type HistoryOptions, type Recorded } from './history.js'
import { EXPECT_KEY, TraceError, TraceLineParser, type TraceHeader, type TraceItem } from './trace.js'

export type StreamItem = { readonly kind: 'header'; readonly line: number; readonly header: TraceHeader } | TraceItem

/**
 * The lines of a trace, one chunk's worth at a time (split on `\n`, a trailing `\r` dropped, the
 * last line with or without its newline). Not node:readline: one await per chunk, not per line.
 */
export async function* lineBatches(source: string | Readable): AsyncGenerator<string[]> {
  const input = typeof source === 'string' ? createReadStream(source, { encoding: 'utf8', highWaterMark: 1 << 20 }) : source
  if (typeof source !== 'string') input.setEncoding('utf8')
  let carry = ''
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      const text = carry + chunk
      const batch: string[] = []
      let start = 0
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        batch.push(text.charCodeAt(nl - 1) === 13 && nl > start ? text.slice(start, nl - 1) : text.slice(start, nl))
        start = nl + 1
      }
      carry = text.slice(start)
      if (batch.length > 0) yield batch
    }
    if (carry !== '') yield [carry.endsWith('\r') ? carry.slice(0, -1) : carry]
  } finally {
    if (typeof source === 'string') (input as ReturnType<typeof createReadStream>).destroy()
  }
}

/**
 * A line as the deferred loader frames it: a plain event line — `{"type":"T",REST` with a type of
 * printable ASCII without escapes and no recorded result — as its type and where REST's bytes are
 * (unparsed, not decoded), any other line as its text.
 */
export type FramedLine = { readonly type: string; readonly bytes: Buffer; readonly start: number; readonly end: number } | string

const TYPE_PREFIX = Buffer.from('{"type":"')
const EXPECT_FIELD = Buffer.from(`"${EXPECT_KEY}"`)

/** Buffer's unchecked slicers (`toString` validates its arguments on every call: ~3× slower per line). */
type FastBuffer = Buffer & { latin1Slice(start: number, end: number): string; utf8Slice(start: number, end: number): string }

/**
 * Frames the lines of one buffer. The type names are interned by a hash of their bytes (checked
 * byte by byte on a hit): a trace has a few hundred types and a million lines, and a string per
 * line would be most of the framing's allocation. Whether a line holds `"expect"` (maybe inside a
 * string: then it is only parsed at load, as without deferral) is found by the buffer's native
 * search, once per occurrence rather than a loop over every line's bytes.
 */
class LineFramer {
  private readonly types = new Map<number, { readonly name: string; readonly bytes: Uint8Array }>()

  frameAll(buf: FastBuffer, from: number, out: FramedLine[]): number {
    let start = from
    let expectAt = buf.indexOf(EXPECT_FIELD, start) // the next "expect" at or after `start`; -1: none left
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      if (expectAt >= 0 && expectAt < start) expectAt = buf.indexOf(EXPECT_FIELD, start)
      out.push(this.frame(buf, start, nl, expectAt >= 0 && expectAt < nl))
      start = nl + 1
    }
    return start
  }

  frameLast(buf: FastBuffer, start: number, end: number): FramedLine {
    const e = buf.indexOf(EXPECT_FIELD, start)
    return this.frame(buf, start, end, e >= 0 && e < end)
  }

  private frame(buf: FastBuffer, start: number, end: number, hasExpect: boolean): FramedLine {
    if (end > start && buf[end - 1] === 13) end--
    const P = TYPE_PREFIX.length
    let k = 0
    while (k < P && buf[start + k] === TYPE_PREFIX[k]) k++
    if (k === P && !hasExpect) {
      // the type: printable ASCII up to the next quote, no escapes; then a comma
      let q = start + P
      let hash = 0
      for (let c = buf[q]!; q < end && c >= 32 && c <= 126 && c !== 34 && c !== 92; c = buf[++q]!) hash = (Math.imul(hash, 31) + c) | 0
      if (q > start + P && q + 1 < end && buf[q] === 34 && buf[q + 1] === 44) return { type: this.typeName(buf, start + P, q, hash), bytes: buf, start: q + 2, end }
    }
    return buf.utf8Slice(start, end)
  }

  private typeName(buf: FastBuffer, from: number, to: number, hash: number): string {
    const known = this.types.get(hash)
    if (known !== undefined && known.bytes.length === to - from) {
      let i = 0
      while (i < to - from && known.bytes[i] === buf[from + i]) i++
      if (i === to - from) return known.name
    }
    const name = buf.latin1Slice(from, to)
    if (known === undefined) this.types.set(hash, { name, bytes: Uint8Array.from(buf.subarray(from, to)) })
    return name
  }
}

/** The lines of a trace framed for deferred validation, a chunk at a time (bytes, not decoded text, up to the type). */
export async function* framedLineBatches(source: string | Readable): AsyncGenerator<FramedLine[]> {
  const input = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1 << 20 }) : source
  const framer = new LineFramer()
  let carry: Buffer | null = null
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      const bytes = (typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk) as FastBuffer
      const batch: FramedLine[] = []
      let start = 0
      if (carry !== null) {
        // the line begun in the previous chunk: only it is copied, not the whole chunk
        const nl = bytes.indexOf(10)
        if (nl < 0) {
          carry = Buffer.concat([carry, bytes])
          continue
        }
        const line = Buffer.concat([carry, bytes.subarray(0, nl)]) as FastBuffer
        batch.push(framer.frameLast(line, 0, line.length))
        start = nl + 1
      }
      start = framer.frameAll(bytes, start, batch)
      carry = start < bytes.length ? bytes.subarray(start) : null
      if (batch.length > 0) yield batch
    }
    if (carry !== null) yield [framer.frameLast(carry as FastBuffer, 0, carry.length)]
  } finally {
    if (typeof source === 'string') (input as ReturnType<typeof createReadStream>).destroy()
  }
}

/** The items of a trace (header first), parsed and validated line by line; throws `TraceError`. */
export async function* readTrace(source: string | Readable): AsyncGenerator<StreamItem> {
  const parser = new TraceLineParser()
  let lineNo = 0
  for await (const batch of lineBatches(source)) {
    for (const raw of batch) {
      lineNo++
      const hadHeader = parser.header !== null
      const item = parser.parse(raw, lineNo)
      if (!hadHeader && parser.header !== null) yield { kind: 'header', line: lineNo, header: parser.header }
      if (item !== null) yield item
    }
  }
  parser.finish(lineNo)
}

export interface LoadResult {
  /** The history of the events applied (null if the header was bad). */
  readonly history: History | null
  readonly header: TraceHeader | null
  /** The first bad line (invalid, or an event the model rejects), or null. */
  readonly error: TraceError | null
}

export interface LoadOptions extends Omit<HistoryOptions, 'physicalMemory' | 'mmioRanges'> {
  /** Stop after this many events. */
  until?: number
  /** Called after each applied (with `lazy`: recorded) event. */
  onStep?: (applied: number) => void
  /**
   * Record the events without applying them (`History.append`): loading costs the reading and
   * validating of the lines only; an event is applied and checked when the head first reaches it.
   * The history's head is then at 0 with every event ahead of it (seek / redo to move).
   */
  lazy?: boolean
  /**
   * With `lazy`: do not validate plain event lines at load either (`History.appendRaw`; the
   * header, checkpoint lines and lines with a recorded result still are). A line is parsed and
   * validated when the head first reaches it; a bad one then throws the `TraceError` naming it and
   * the branch keeps the events before it — as for an event the model rejects. Loading costs the
   * framing of the lines only (the 10^6-event figure of BENCH.md).
   */
  deferValidation?: boolean
}

/**
 * Replays a trace while reading it. Recorded results and checkpoint hashes are checked
 * (REQ-TRACE-EXPECT-1 / REQ-TRACE-CHECKPOINT-1 on the step). An event is applied once the next
 * line is read (a checkpoint line that follows it belongs to it).
 */
export async function loadTrace(source: string | Readable, options: LoadOptions = {}): Promise<LoadResult> {
  const { until: _u, onStep: _o, lazy: _l, deferValidation: _d, ...historyOptions } = options
  const lazy = options.lazy ?? false
  const deferred = lazy && (options.deferValidation ?? false)
  const until = options.until ?? Infinity
  const parser = new TraceLineParser()
  let history: History | null = null
  let header: TraceHeader | null = null
  type Pending = { kind: 'event'; item: Extract<TraceItem, { kind: 'event' }>; hash?: string } | { kind: 'raw'; line: number; framed: Exclude<FramedLine, string>; hash?: string }
  let pending: Pending | null = null
  const recordedLength = (): number => (lazy ? history!.recordedLength : history!.length)
  const flush = (): void => {
    if (pending === null || history === null) return
    const p = pending
    pending = null
    if (p.kind === 'raw') {
      history.appendRaw(p.framed.type, p.framed.bytes, p.framed.start, p.framed.end, p.line, p.hash)
    } else {
      const rec: Recorded & { line: number } = { line: p.item.line, ...(p.item.hasExpect ? { result: p.item.expect } : {}), ...(p.hash !== undefined ? { hash: p.hash } : {}) }
      if (lazy) history.append(p.item.event, rec)
      else history.dispatchFromTrace(p.item.event, rec)
    }
    options.onStep?.(recordedLength())
  }
  let lineNo = 0
  /** One line; false once `until` events are recorded. */
  const take = (line: FramedLine): boolean => {
    lineNo++
    if (typeof line !== 'string' && parser.framesRaw) {
      parser.rawEvent()
      flush()
      if (recordedLength() >= until) return false
      pending = { kind: 'raw', line: lineNo, framed: line }
      return true
    }
    const item: TraceItem | null = parser.parse(typeof line === 'string' ? line : `{"type":"${line.type}",${line.bytes.toString('utf8', line.start, line.end)}`, lineNo)
    if (history === null) {
      if (parser.header === null) return true
      header = parser.header
      history = new History({ ...historyOptions, ...header.config, validate: false })
    }
    if (item === null) return true
    if (item.kind === 'checkpoint') {
      if (item.index === 0) history.checkGenesisHash(item.hash, item.line)
      else pending!.hash = item.hash
      return true
    }
    flush()
    if (recordedLength() >= until) return false
    pending = { kind: 'event', item }
    return true
  }
  try {
    reading: for await (const batch of deferred ? framedLineBatches(source) : lineBatches(source)) {
      for (const line of batch) if (!take(line)) break reading
    }
    parser.finish(lineNo)
    flush()
  } catch (e) {
    if (e instanceof TraceError) {
      // an event read before the bad line is still applied (the bad line is after it)
      try {
        flush()
      } catch (e2) {
        if (e2 instanceof TraceError) return { history, header, error: e2 }
        throw e2
      }
      return { history, header, error: e }
    }
    throw e
  }
  return { history, header, error: null }
}

/** Writes lines to `out` (one per line), waiting for 'drain' when the stream's buffer is full. */
export async function writeLines(lines: Iterable<string>, out: Writable): Promise<void> {
  for (const line of lines) {
    if (!out.write(line + '\n')) await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        out.off('drain', onDrain)
        reject(e)
      }
      const onDrain = (): void => {
        out.off('error', onError)
        resolve()
      }
      out.once('drain', onDrain)
      out.once('error', onError)
    })
  }
}

/** Writes a history's trace to the file at `path` (streamed; resolves once it is flushed). */
export async function writeTraceFile(history: History, path: string, opts: { expect?: boolean; checkpoints?: boolean } = {}): Promise<void> {
  const out = createWriteStream(path, { encoding: 'utf8' })
  const finished = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve)
    out.once('error', reject)
  })
  await writeTrace(history, out, opts)
  out.end()
  await finished
}

/** Streams a history's trace to `out` (see `History.traceLines`); does not end `out`. */
export function writeTrace(history: History, out: Writable, opts: { expect?: boolean; checkpoints?: boolean } = {}): Promise<void> {
  return writeLines(history.traceLines(opts), out)
}
