/**
 * Streaming traces: read a trace file (or any readable) line by line with node:readline, and
 * write one with back-pressure, so that a 10^6-event trace is never in memory as text.
 * `loadTrace` replays while reading: events before a bad line are applied, nothing from the bad
 * line on (the error names it); with `lazy`, it only records them (applied when first reached).
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { History, type HistoryOptions, type Recorded } from './history.js'
import { TraceError, TraceLineParser, type TraceHeader, type TraceItem } from './trace.js'

export type StreamItem = { readonly kind: 'header'; readonly line: number; readonly header: TraceHeader } | TraceItem

/** The items of a trace (header first), parsed and validated line by line; throws `TraceError`. */
export async function* readTrace(source: string | Readable): AsyncGenerator<StreamItem> {
  const input = typeof source === 'string' ? createReadStream(source, { encoding: 'utf8' }) : source
  const lines = createInterface({ input, crlfDelay: Infinity })
  const parser = new TraceLineParser()
  let lineNo = 0
  try {
    for await (const raw of lines) {
      lineNo++
      const hadHeader = parser.header !== null
      const item = parser.parse(raw, lineNo)
      if (!hadHeader && parser.header !== null) yield { kind: 'header', line: lineNo, header: parser.header }
      if (item !== null) yield item
    }
    parser.finish(lineNo)
  } finally {
    lines.close()
    if (typeof source === 'string') (input as ReturnType<typeof createReadStream>).destroy()
  }
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
}

/**
 * Replays a trace while reading it. Recorded results and checkpoint hashes are checked
 * (REQ-TRACE-EXPECT-1 / REQ-TRACE-CHECKPOINT-1 on the step). An event is applied once the next
 * line is read (a checkpoint line that follows it belongs to it).
 */
export async function loadTrace(source: string | Readable, options: LoadOptions = {}): Promise<LoadResult> {
  let history: History | null = null
  let header: TraceHeader | null = null
  let pending: { item: Extract<TraceItem, { kind: 'event' }>; hash?: string } | null = null
  const until = options.until ?? Infinity
  const flush = (): void => {
    if (pending === null || history === null) return
    const { item, hash } = pending
    pending = null
    const rec: Recorded & { line: number } = { line: item.line, ...(item.hasExpect ? { result: item.expect } : {}), ...(hash !== undefined ? { hash } : {}) }
    if (lazy) {
      history.append(item.event, rec)
      options.onStep?.(history.recordedLength)
    } else {
      history.dispatchFromTrace(item.event, rec)
      options.onStep?.(history.length)
    }
  }
  const { until: _u, onStep: _o, lazy: _l, ...historyOptions } = options
  const lazy = options.lazy ?? false
  try {
    for await (const item of readTrace(source)) {
      if (item.kind === 'header') {
        header = item.header
        history = new History({ ...historyOptions, ...item.header.config, validate: false })
      } else if (item.kind === 'checkpoint') {
        if (item.index === 0) history!.checkGenesisHash(item.hash, item.line)
        else pending!.hash = item.hash
      } else {
        flush()
        if ((lazy ? history!.recordedLength : history!.length) >= until) break
        pending = { item }
      }
    }
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
