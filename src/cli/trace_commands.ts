/**
 * The CLI's commands over a recorded history: `diff`, `bisect`, `shrink`, `stats`. Each loads the
 * trace into a `History` (validated; nothing applied when a line is bad) and returns its output
 * and exit code: 0 clean / found, 1 violations (or, for `bisect --where`, never found), 2 bad input.
 */
import { readFileSync } from 'node:fs'
import type { AnyEventSpec } from '../../reducers/index.js'
import { isOstdPanic } from '../arch/errors.js'
import type { CheckMode, Violation } from '../check/rule.js'
import { bisect, firstViolation, parsePredicate, type BisectHit } from '../log/bisect.js'
import { diff } from '../log/diff.js'
import { importVariants } from '../log/variants.js'
import { renderDiff } from '../log/diff_render.js'
import { History } from '../log/history.js'
import { describeShrink, shrink } from '../log/shrink.js'
import { formatTrace, traceHeader, TraceError } from '../log/trace.js'
import { tableForEach } from '../model/table.js'
import { REF_COUNT_UNUSED } from '../arch/constants.js'
import { formatViolation, toJson } from './format.js'

export const EXIT_CLEAN = 0
export const EXIT_VIOLATIONS = 1
export const EXIT_BAD_INPUT = 2

export interface CommandOutput {
  readonly code: number
  readonly out: string
  readonly err?: string
}

/**
 * `--variants <module>`: the reducer variants a module exports (every exported event spec — an
 * object with a `type`, a `reduce` function and `requires` — or arrays of them), to replay a trace
 * with changed reducers (`variantOf`, examples/faulty_variant.ts).
 */
export async function loadVariants(module: string): Promise<AnyEventSpec[] | CommandOutput> {
  let out: AnyEventSpec[]
  try {
    out = await importVariants(module)
  } catch (e) {
    return badArg(`--variants ${module}: cannot load the module: ${(e as Error).message}`)
  }
  if (out.length === 0) return badArg(`--variants ${module}: the module exports no event spec (make one with variantOf)`)
  return out
}

let activeVariants: readonly AnyEventSpec[] = []

/** The variants the next loads use (the CLI sets them from `--variants`). */
export function useVariants(variants: readonly AnyEventSpec[]): void {
  activeVariants = variants
}

/** Loads a trace file into a history, or the bad-input output naming the file, line and field. */
function load(file: string, check: CheckMode): History | CommandOutput {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    return { code: EXIT_BAD_INPUT, out: '', err: `cannot read ${file}: ${(e as Error).message}\n` }
  }
  try {
    return History.fromNDJSON(text, { check, variants: activeVariants })
  } catch (e) {
    if (e instanceof TraceError) return { code: EXIT_BAD_INPUT, out: '', err: `${file}: ${e.message}\n` }
    if (isOstdPanic(e)) return { code: EXIT_BAD_INPUT, out: '', err: `${file}: event rejected: ${e.rule}: ${e.detail}\n` }
    throw e
  }
}

function badArg(message: string): CommandOutput {
  return { code: EXIT_BAD_INPUT, out: '', err: `${message}\n` }
}

/** `diff <trace> <i> <j>`: what changed between the snapshot after `i` events and the one after `j`. */
export function diffCommand(file: string, i: number, j: number, opts: { json: boolean; structural: boolean; view: 'ghost' | 'pte' }): CommandOutput {
  const h = load(file, 'off')
  if (!(h instanceof History)) return h
  for (const [name, n] of [['i', i], ['j', j]] as const) {
    if (n > h.length) return badArg(`${name} = ${n}: the trace has ${h.length} events (snapshots 0..${h.length})`)
  }
  const d = diff(h.snapshotAt(i), h.snapshotAt(j), { view: opts.view, structural: opts.structural })
  if (opts.json) return { code: EXIT_CLEAN, out: toJson({ file, from: i, to: j, diff: d }, 2) + '\n' }
  const events = h.events().slice(Math.min(i, j), Math.max(i, j))
  const head = `diff of ${file}: after ${i} → after ${j} events${events.length > 0 && events.length <= 5 ? ` (${events.map((e) => e.type).join(', ')})` : ''}`
  return { code: EXIT_CLEAN, out: `${head}\n${renderDiff(d, { structural: opts.structural })}\n` }
}

function stepDiffText(h: History, index: number): string {
  const step = h.at(index)
  return renderDiff(diff(step.before, step.after), { structural: false, maxLines: 60 })
}

/** `bisect <trace> --first-violation [--rule R]` or `--where <predicate>`: the first step where it holds. */
export function bisectCommand(
  file: string,
  opts: { firstViolation: boolean; rule?: string; where?: string; internal: boolean; json: boolean; persistent?: boolean },
): CommandOutput {
  if (opts.firstViolation === (opts.where !== undefined)) return badArg('bisect: give exactly one of --first-violation and --where <predicate>')
  if (opts.firstViolation) {
    // --persistent: load unchecked, bisect the checkpoints' states, check one interval (firstViolation)
    const h = load(file, opts.persistent ? 'off' : 'incremental')
    if (!(h instanceof History)) return h
    const hit = firstViolation(h, { ...(opts.rule === undefined ? {} : { rule: opts.rule }), persistent: opts.persistent ?? false })
    if (hit === null) {
      const msg = `no step of ${file} violates ${opts.rule ?? 'any rule'} (${h.length} events checked)`
      return { code: EXIT_CLEAN, out: opts.json ? toJson({ file, found: false, events: h.length }, 2) + '\n' : msg + '\n' }
    }
    const step = h.at(hit.index)
    const line = h.recordedAt(hit.index)?.line
    if (opts.json) return { code: EXIT_VIOLATIONS, out: toJson({ file, found: true, index: hit.index, line, event: step.event, violation: hit.violation, violations: step.violations }, 2) + '\n' }
    const out = [
      `first violation in ${file}: step ${hit.index}${line !== undefined ? ` (line ${line})` : ''} ${step.event.type}`,
      `  event: ${toJson(step.event)}`,
      ...step.violations.map((v: Violation) => formatViolation(v)),
      'what the step changed:',
      stepDiffText(h, hit.index),
    ]
    return { code: EXIT_VIOLATIONS, out: out.join('\n') + '\n' }
  }
  let predicate
  try {
    predicate = parsePredicate(opts.where!)
  } catch (e) {
    return badArg(`bisect --where: ${(e as Error).message}`)
  }
  const h = load(file, 'off')
  if (!(h instanceof History)) return h
  const hit: BisectHit | null = bisect(h, predicate, { internal: opts.internal })
  if (hit === null) {
    const msg = `${predicate.describe}: never holds in ${file} (${h.length} events)`
    return { code: EXIT_VIOLATIONS, out: opts.json ? toJson({ file, found: false, predicate: predicate.describe }, 2) + '\n' : msg + '\n' }
  }
  if (hit.index === null) return { code: EXIT_CLEAN, out: opts.json ? toJson({ file, found: true, index: null }, 2) + '\n' : `${predicate.describe}: holds at genesis\n` }
  const step = h.at(hit.index)
  const line = h.recordedAt(hit.index)?.line
  if (opts.json) return { code: EXIT_CLEAN, out: toJson({ file, found: true, index: hit.index, internal: hit.internal, line, event: step.event, stats: hit.stats }, 2) + '\n' }
  const where = hit.internal === null ? `after step ${hit.index}` : `inside step ${hit.index}, after its internal step ${hit.internal} (${(hit.path ?? []).join('.')})`
  return {
    code: EXIT_CLEAN,
    out: [`${predicate.describe}: first holds ${where}${line !== undefined ? ` (line ${line})` : ''}: ${step.event.type}`, `  event: ${toJson(step.event)}`, 'what the step changed:', stepDiffText(h, hit.index)].join('\n') + '\n',
  }
}

/** `shrink <trace> [--rule R]`: a minimal history that still breaks the rule (the first violation's by default). */
export function shrinkCommand(file: string, opts: { rule?: string; seed?: number; maxTests?: number; json: boolean }): { output: CommandOutput; trace: string | null } {
  const h = load(file, 'incremental')
  if (!(h instanceof History)) return { output: h, trace: null }
  const rule = opts.rule ?? h.violations()[0]?.rule
  if (rule === undefined) return { output: { code: EXIT_CLEAN, out: `${file}: no violation to shrink (${h.length} events, clean)\n` }, trace: null }
  let r
  try {
    r = shrink(h, rule, { ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(opts.maxTests !== undefined ? { maxTests: opts.maxTests } : {}) })
  } catch (e) {
    return { output: badArg(`shrink: ${(e as Error).message}`), trace: null }
  }
  const trace = formatTrace(traceHeader(h.config), r.events)
  if (opts.json) return { output: { code: EXIT_VIOLATIONS, out: toJson({ file, ...r }, 2) + '\n' }, trace }
  return { output: { code: EXIT_VIOLATIONS, out: describeShrink(r) + '\n' }, trace }
}

/** `stats <trace>`: what the history contains and the state it ends in. */
export function statsCommand(file: string, opts: { check: CheckMode; json: boolean }): CommandOutput {
  const h = load(file, opts.check)
  if (!(h instanceof History)) return h
  const byType = new Map<string, number>()
  let internal = 0
  for (let i = 0; i < h.length; i++) {
    const step = h.at(i)
    byType.set(step.event.type, (byType.get(step.event.type) ?? 0) + 1)
    const count = (steps: readonly { steps: readonly unknown[] }[]): number => steps.reduce((n, s) => n + 1 + count(s.steps as never), 0)
    internal += count(step.steps)
  }
  const byRule = new Map<string, number>()
  for (const v of h.violations()) byRule.set(v.rule, (byRule.get(v.rule) ?? 0) + 1)
  const s = h.state
  let slotsInUse = 0
  tableForEach(s.metaSlots, (c) => {
    if (c.refCount !== REF_COUNT_UNUSED) slotsInUse++
  })
  const memory = h.memoryEstimate()
  const stats = {
    file,
    events: h.length,
    internalSteps: internal,
    eventTypes: Object.fromEntries([...byType].sort((a, b) => b[1] - a[1])),
    check: h.checkMode,
    violations: Object.fromEntries([...byRule].sort((a, b) => b[1] - a[1])),
    finalState: {
      slotsInUse,
      frameHandles: s.frames.count,
      segments: s.segments.count,
      uniqueFrames: s.uniqueFrames.count,
      pageTables: s.pt.tables.count,
      pageTableNodes: s.pt.owners.count,
      cursors: s.pt.cursors.count,
      readersAndWriters: s.vmIos.count,
    },
    history: memory,
  }
  if (opts.json) return { code: EXIT_CLEAN, out: toJson(stats, 2) + '\n' }
  const lines = [
    `${file}: ${stats.events} events, ${stats.internalSteps} internal steps, ${byType.size} event types`,
    ...[...byType].sort((a, b) => b[1] - a[1]).map(([t, n]) => `  ${String(n).padStart(8)}  ${t}`),
    h.checkMode === 'off' ? 'violations: not checked (--check off)' : `violations (check ${h.checkMode}): ${byRule.size === 0 ? 'none' : [...byRule].map(([r, n]) => `${r} ×${n}`).join(', ')}`,
    `final state: ${Object.entries(stats.finalState).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `history: ${memory.checkpoints} checkpoints every ${memory.intervalEvents} events, ~${Math.round(memory.eventBytes / 1024)} KiB of events, ~${Math.round(memory.checkpointBytes / 1024)} KiB of checkpoints`,
  ]
  return { code: EXIT_CLEAN, out: lines.join('\n') + '\n' }
}
