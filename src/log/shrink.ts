/**
 * Shrinking a failing history: delta debugging (ddmin, Zeller & Hildebrandt) over its events to a
 * 1-minimal list that still reports the same rule.
 *
 * Handle dependencies. Handles get fresh ids from per-registry counters (MD-11), so removing an
 * event that creates handles renumbers every later handle. A candidate is therefore replayed with
 * its references rewritten: the original history is replayed once to learn which event created
 * which id (the counters before and after each event); in a candidate, an id created by a kept
 * event is mapped to the id the same event creates in the candidate's replay (same offset in its
 * range), and an event that uses an id whose creating event was removed goes too (transitively).
 * Handle fields are the event fields whose schema is the shared `HandleId` schema; the registry
 * they name follows from the field's name (`HANDLE_COUNTERS`). A candidate whose replay throws (a
 * precondition fails, an OSTD panic) is rejected, as is one that no longer reports the rule.
 *
 * Before ddmin, the history is cut after the first step that reports the rule (what follows
 * cannot be needed).
 */
import { applyCall, eventSpec, withVariants, type AnyEventSpec, type ModelEvent } from '../../reducers/index.js'
import { HandleId } from '../../reducers/schema.js'
import type { RuleRegistry } from '../check/registry.js'
import type { CheckMode, Violation } from '../check/rule.js'
import { genesis, type ModelConfigInput } from '../model/genesis.js'
import type { Counters, Snapshot } from '../model/snapshot.js'
import { History } from './history.js'

/** The registry counter an event's handle field refers to, by field name. */
export const HANDLE_COUNTERS: Readonly<Record<string, keyof Counters>> = {
  frame: 'frame',
  segment: 'segment',
  unique: 'unique',
  list: 'list',
  reader: 'vmIo',
  writer: 'vmIo',
  vmIo: 'vmIo',
  node: 'ptNode',
  guard: 'ptGuard',
  entry: 'ptEntry',
  child: 'ptChild',
  pageTable: 'pageTable',
  cursor: 'ptCursor',
  vmSpace: 'vmSpace',
}

const handleFieldCache = new Map<string, readonly string[]>()

/** The fields of events of `type` that hold handle ids (schema `HandleId`), with a known registry. */
export function handleFields(type: string): readonly string[] {
  let fields = handleFieldCache.get(type)
  if (fields !== undefined) return fields
  const found = new Set<string>()
  const visit = (schema: unknown): void => {
    const s = schema as { shape?: Record<string, unknown>; options?: unknown[] }
    if (s.shape !== undefined) for (const [k, v] of Object.entries(s.shape)) if (v === HandleId && k in HANDLE_COUNTERS) found.add(k)
    if (Array.isArray(s.options)) for (const o of s.options) visit(o)
  }
  const spec = eventSpec(type)
  if (spec !== undefined) visit(spec.schema)
  fields = [...found]
  handleFieldCache.set(type, fields)
  return fields
}

export interface ShrinkOptions extends ModelConfigInput {
  variants?: readonly AnyEventSpec[]
  registry?: RuleRegistry
  /** Checking mode of the candidate replays (default incremental). */
  check?: Exclude<CheckMode, 'off'>
  /** Start state (default genesis of the configuration). */
  initial?: Snapshot
  /** Most candidate replays (default 5000). */
  maxTests?: number
  /** The seed that generated the history, echoed in the result (for reports). */
  seed?: number
}

export interface ShrinkResult {
  readonly rule: string
  /** The minimal events (handle ids rewritten: they replay as they are). */
  readonly events: ModelEvent[]
  /** The first violation of the rule in the minimal history. */
  readonly violation: Violation
  readonly seed?: number
  readonly stats: {
    readonly initial: number
    /** After cutting at the first failing step. */
    readonly cut: number
    readonly final: number
    /** Candidate replays run. */
    readonly tests: number
    /** Candidates refused because a replay threw. */
    readonly rejected: number
    /** Events dropped automatically because an id they use was created by a removed event. */
    readonly dependents: number
    readonly ms: number
  }
}

type Created = Partial<Record<keyof Counters, readonly [number, number]>>

/**
 * Shrinks `input` (a history's applied events, or a list of events) to a minimal list that still
 * reports `rule`. Throws if the input itself does not report it.
 */
export function shrink(input: History | readonly ModelEvent[], rule: string, options: ShrinkOptions = {}): ShrinkResult {
  const started = performance.now()
  const opts: ShrinkOptions =
    input instanceof History
      ? { variants: input.options.variants, registry: input.options.registry, initial: input.options.initial, ...input.config, ...stripUndefined(options) }
      : options
  const events = input instanceof History ? input.events() : [...input]
  const start = opts.initial ?? genesis({ physicalMemory: opts.physicalMemory, mmioRanges: opts.mmioRanges })
  const variants = opts.variants && opts.variants.length > 0 ? new Map(opts.variants.map((v) => [v.type, v])) : null
  const maxTests = opts.maxTests ?? 5000
  const matches = (v: Violation): boolean => v.rule === rule || (v.also ?? []).includes(rule)

  const stats = { tests: 0, rejected: 0, dependents: 0 }

  /** Replays `list` (rewritten); returns the first violation of the rule, or null (or 'threw'). */
  const run = (list: readonly ModelEvent[]): Violation | null | 'threw' => {
    const h = new History({ check: opts.check ?? 'incremental', variants: opts.variants, registry: opts.registry, physicalMemory: opts.physicalMemory, mmioRanges: opts.mmioRanges, initial: start, validate: false, cacheSteps: 2 })
    for (const e of list) {
      let step
      try {
        step = h.dispatch(e)
      } catch {
        return 'threw'
      }
      const v = step.violations.find(matches)
      if (v !== undefined) return v
    }
    return null
  }

  // Cut after the first failing step.
  const first = run(events)
  if (first === null || first === 'threw') throw new Error(`the history does not report ${rule}${first === 'threw' ? ' (its replay throws)' : ''}`)
  const base = events.slice(0, first.step + 1)

  // Which ids each event creates (counters before/after, internal steps included).
  const created: Created[] = []
  const before: Counters[] = []
  let s = start
  for (const e of base) {
    before.push(s.counters)
    const next = withVariants(variants, () => applyCall(eventSpec(e.type)!, s, e)).snapshot
    created.push(diffCounters(s.counters, next.counters))
    s = next
  }
  /** The event that created id `v` of `counter` (null: it existed at the start). */
  const creatorOf = (counter: keyof Counters, v: number): number | null => {
    // counters only grow: binary search for the last event whose counter before is <= v
    if (v < (before[0]?.[counter] ?? 0)) return null
    let lo = 0
    let hi = base.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (before[mid]![counter] <= v) lo = mid
      else hi = mid - 1
    }
    const range = created[lo]![counter]
    return range !== undefined && v >= range[0] && v < range[1] ? lo : null
  }

  /** The candidate's events with ids rewritten, or 'threw'; the rule's violation or null. */
  const test = (kept: readonly number[]): { ok: boolean; events: ModelEvent[]; violation: Violation | null } => {
    stats.tests++
    const alive = new Set<number>()
    const h = new History({ check: opts.check ?? 'incremental', variants: opts.variants, registry: opts.registry, physicalMemory: opts.physicalMemory, mmioRanges: opts.mmioRanges, initial: start, validate: false, cacheSteps: 2 })
    const newBefore = new Map<number, Counters>()
    const out: ModelEvent[] = []
    for (const j of kept) {
      const e = base[j]!
      let rewritten: Record<string, unknown> | null = null
      let dependsOnRemoved = false
      for (const field of handleFields(e.type)) {
        const v = e[field]
        if (typeof v !== 'number') continue
        const counter = HANDLE_COUNTERS[field]!
        const creator = creatorOf(counter, v)
        if (creator === null) continue
        if (!alive.has(creator)) {
          dependsOnRemoved = true
          break
        }
        const origRange = created[creator]![counter]!
        const nb = newBefore.get(creator)!
        const mapped = nb[counter] + (v - origRange[0])
        if (mapped !== v) (rewritten ??= { ...e })[field] = mapped
      }
      if (dependsOnRemoved) {
        stats.dependents++
        continue
      }
      const event = (rewritten ?? e) as ModelEvent
      newBefore.set(j, h.state.counters)
      let step
      try {
        step = h.dispatch(event)
      } catch {
        stats.rejected++
        return { ok: false, events: out, violation: null }
      }
      alive.add(j)
      out.push(event)
      const v = step.violations.find(matches)
      if (v !== undefined) return { ok: true, events: out, violation: v }
    }
    return { ok: false, events: out, violation: null }
  }

  // ddmin over indices into `base`.
  let current: number[] = base.map((_, i) => i)
  let best = test(current)
  if (!best.ok) throw new Error(`the cut history does not report ${rule}`)
  let n = 2
  while (current.length >= 2 && stats.tests < maxTests) {
    const chunks = split(current, n)
    let reduced = false
    for (const chunk of chunks) {
      if (stats.tests >= maxTests) break
      const r = test(chunk)
      if (r.ok) {
        current = chunk
        best = r
        n = 2
        reduced = true
        break
      }
    }
    if (!reduced) {
      for (let k = 0; k < chunks.length && n > 2 && stats.tests < maxTests; k++) {
        const complement = chunks.flatMap((c, i) => (i === k ? [] : c))
        const r = test(complement)
        if (r.ok) {
          current = complement
          best = r
          n = Math.max(n - 1, 2)
          reduced = true
          break
        }
      }
    }
    if (!reduced) {
      if (n >= current.length) break
      n = Math.min(current.length, n * 2)
    }
  }
  // ddmin with n = 2 tries halves as chunks and complements alike; for 2 chunks the complements
  // are the chunks themselves, so nothing is missed.
  return {
    rule,
    events: best.events,
    violation: best.violation!,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    stats: { initial: events.length, cut: base.length, final: best.events.length, tests: stats.tests, rejected: stats.rejected, dependents: stats.dependents, ms: performance.now() - started },
  }
}

/** A one-paragraph report of a shrink (for the CLI). */
export function describeShrink(r: ShrinkResult): string {
  const lines = [
    `shrunk ${r.stats.initial} events to ${r.stats.final} that still report ${r.rule}` + (r.seed !== undefined ? ` (seed ${r.seed})` : ''),
    `  ${r.stats.tests} candidate replays, ${r.stats.rejected} rejected, ${r.stats.dependents} dependent events dropped, ${Math.round(r.stats.ms)} ms`,
    ...r.events.map((e, i) => `  ${String(i).padStart(3)} ${JSON.stringify(e)}`),
    `  → step ${r.violation.step} (${r.violation.event}): ${r.violation.rule}: ${r.violation.message}`,
  ]
  return lines.join('\n') + '\n'
}

function split<T>(list: readonly T[], n: number): T[][] {
  const out: T[][] = []
  const size = list.length / n
  for (let i = 0; i < n; i++) {
    const chunk = list.slice(Math.round(i * size), Math.round((i + 1) * size))
    if (chunk.length > 0) out.push(chunk)
  }
  return out
}

function diffCounters(a: Counters, b: Counters): Created {
  const out: Record<string, readonly [number, number]> = {}
  for (const k of Object.keys(b) as Array<keyof Counters>) if (b[k] !== a[k]) out[k] = [a[k], b[k]]
  return out as Created
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
