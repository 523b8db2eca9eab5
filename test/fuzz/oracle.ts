/**
 * What every input path must do with any text (the fuzz oracle). The paths: `parseTrace` (the
 * validator), `History.fromNDJSON` (load into a history) and `replay` (the CLI's engine).
 *
 * - No crash: the only exception is `TraceError` (parseTrace, fromNDJSON); `replay` returns a
 *   report and throws nothing.
 * - The error names the line: a line number in `[fromLine, lines of the text + 1]` — never a line
 *   before the first changed one (those are a valid trace's), never past the end — and its message
 *   starts with it (`line N`).
 * - History unchanged: a trace that fails validation (or whose checkpoint 0 is another genesis's)
 *   applies nothing; an event the model rejects
 *   is not applied, nor anything after it — the history holds exactly the events before the bad
 *   line, and its state is the state of those events replayed alone.
 * - No hang: each path finishes within `MAX_MS` plus `MAX_MS_PER_LINE` per line (generous: the
 *   machine is shared).
 * Returns the list of broken properties (empty = the case passes).
 */
import equal from 'fast-deep-equal/es6/index.js'
import { History } from '../../src/log/history.js'
import { replay } from '../../src/log/replay.js'
import { parseTrace, TraceError, type Trace } from '../../src/log/trace.js'
import type { FuzzCase } from './mutate.js'

export const MAX_MS = Number(process.env['FUZZ_MAX_MS'] ?? 5_000)
/**
 * Added per line of the case: the bound detects hangs, not slowness. The 2,000-line medium trace
 * replays in ~1.5 s on an idle core, but took 11 s once in the 10^6-case soak (case 88,968) on a
 * virtual machine whose host was stealing ~20% of its CPU time; 5 s flat failed it.
 */
export const MAX_MS_PER_LINE = Number(process.env['FUZZ_MAX_MS_PER_LINE'] ?? 20)

function lineCount(text: string): number {
  return text.split('\n').length
}

function timed<T>(what: string, f: () => T, problems: string[], lines: number): T {
  const started = performance.now()
  const out = f()
  const ms = performance.now() - started
  const bound = MAX_MS + MAX_MS_PER_LINE * lines
  if (ms > bound) problems.push(`${what} took ${ms.toFixed(0)} ms (> ${bound})`)
  return out
}

function checkLine(what: string, line: number | undefined, c: FuzzCase, problems: string[]): void {
  const max = lineCount(c.text) + 1
  if (line === undefined || !Number.isInteger(line) || line < c.fromLine || line > max) {
    problems.push(`${what} names line ${String(line)}, outside [${c.fromLine}, ${max}]`)
  }
}

function checkTraceError(what: string, e: unknown, c: FuzzCase, problems: string[]): void {
  if (!(e instanceof TraceError)) {
    problems.push(`${what} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (not a TraceError)`)
    return
  }
  checkLine(what, e.line, c, problems)
  if (!e.message.startsWith(`line ${e.line}`)) problems.push(`${what}: message does not start with the line: ${e.message}`)
}

/** The state the first `n` events of `trace` give, replayed alone (unchecked). */
function prefixState(trace: Trace, n: number): History {
  const h = new History({ ...trace.header.config, check: 'off' })
  for (let i = 0; i < n; i++) h.dispatch(trace.events[i]!)
  return h
}

/** Runs every input path on `c`; returns what went wrong. */
export function checkInput(c: FuzzCase): string[] {
  const problems: string[] = []
  // 1. the validator
  let trace: Trace | null = null
  try {
    trace = timed('parseTrace', () => parseTrace(c.text), problems, lineCount(c.text))
  } catch (e) {
    checkTraceError('parseTrace', e, c, problems)
  }

  // 2. History.fromNDJSON: a history, or TraceError and no history at all
  try {
    timed('History.fromNDJSON', () => History.fromNDJSON(c.text, { check: 'off' }), problems, lineCount(c.text))
  } catch (e) {
    checkTraceError('History.fromNDJSON', e, c, problems)
    if (e instanceof TraceError && trace === null && e.rule !== undefined) problems.push(`fromNDJSON: a validation error carries rule ${e.rule}`)
  }

  // 3. replay: never throws; an error names the line; nothing from the bad line on is applied
  let report: ReturnType<typeof replay> | null = null
  try {
    report = timed('replay', () => replay(c.text, { check: 'off' }), problems, lineCount(c.text))
  } catch (e) {
    problems.push(`replay threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e)}`)
  }
  if (report !== null) {
    const err = report.error
    if (trace === null) {
      if (err === null || err.kind !== 'invalid') problems.push(`replay accepted a trace parseTrace refuses (error ${JSON.stringify(err)})`)
      else checkLine('replay (invalid)', err.line, c, problems)
      if (report.applied !== 0 || report.history.length !== 0) problems.push(`replay applied ${report.applied} events of an invalid trace`)
    } else if (err !== null) {
      checkLine(`replay (${err.kind})`, err.line, c, problems)
      const genesis = trace.checkpoints.get(0)
      if (err.kind === 'invalid') {
        // The one check parseTrace cannot make: checkpoint 0 against this configuration's genesis (bad input, nothing applied).
        if (genesis === undefined || err.line !== genesis.line) problems.push(`replay refused a trace parseTrace accepts: ${JSON.stringify(err)}`)
        if (report.applied !== 0 || report.history.length !== 0) problems.push(`replay applied ${report.applied} events of a trace from another genesis`)
      } else if (err.index === undefined) problems.push(`replay: a rejected event without its index: ${JSON.stringify(err)}`)
      else {
        if (trace.lines[err.index] !== err.line) problems.push(`replay: event ${err.index} is on line ${trace.lines[err.index]}, the error names ${err.line}`)
        if (report.applied !== err.index || report.history.length !== err.index) problems.push(`replay applied ${report.history.length} events, the bad one is event ${err.index}`)
        if (!equal(report.history.events(), trace.events.slice(0, err.index))) problems.push('replay: the history does not hold exactly the events before the bad line')
        if (!equal(report.finalState, prefixState(trace, err.index).state)) problems.push('replay: the state differs from the events before the bad line replayed alone')
      }
    } else if (report.applied !== trace.events.length) {
      problems.push(`replay applied ${report.applied} of ${trace.events.length} events without an error`)
    }
  }
  return problems
}
