/**
 * The vitest matchers, as plain matcher functions (`(this, received, ...args) => { pass, message }`)
 * so that `expect.extend(ostdMatchers)` installs them (src/testing/setup.ts) and tests can call
 * them directly:
 *
 * - `expect(step).toChangeExactly(spec)`: the diff of a step (anything with `before` / `after`
 *   snapshots — a `Step`, an internal step — or a `SnapshotDiff`) changes exactly what the spec
 *   says (src/testing/change_spec.ts). The failure message lists the unexpected and the missing
 *   changes, then the step's diff.
 * - `expect(history).toSatisfySpec()`: a `History` (or a `Model`, a `Step`, an array of steps) has
 *   no violation. The failure message lists the first violations with their rule, the index of the
 *   event (and of the internal step) and the event type, and the diff of that step.
 */
import type { InternalStep } from '../../reducers/types.js'
import type { Violation } from '../check/rule.js'
import { diff, isSnapshotDiff, type SnapshotDiff } from '../log/diff.js'
import { renderDiff } from '../log/diff_render.js'
import type { Snapshot } from '../model/snapshot.js'
import { checkChangeSpec, mismatchText, type ChangeSpec } from './change_spec.js'

/** What a matcher returns (vitest's `SyncExpectationResult`). */
export interface MatcherResult {
  readonly pass: boolean
  readonly message: () => string
}

/** The part of vitest's `MatcherState` the matchers read. */
export interface MatcherContext {
  readonly isNot?: boolean
}

export interface SatisfySpecOptions {
  /** How many violations the message details (default 3). */
  readonly maxViolations?: number
  /** How many lines of each step's diff the message shows (default 40). */
  readonly diffLines?: number
}

/** Lines of a diff shown in a failure message by default. */
const MESSAGE_DIFF_LINES = 60

function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n')
}

function isSnapshotPair(x: unknown): x is { readonly before: Snapshot; readonly after: Snapshot } {
  return typeof x === 'object' && x !== null && 'before' in x && 'after' in x && typeof (x as { before: unknown }).before === 'object' && typeof (x as { after: unknown }).after === 'object'
}

/** The diff a matcher compares: the received diff itself, or the diff of a step's two snapshots. */
function diffOf(received: unknown, spec: ChangeSpec): SnapshotDiff | null {
  if (isSnapshotDiff(received)) return received
  if (isSnapshotPair(received)) return diff(received.before, received.after, { view: spec.view ?? 'ghost' })
  return null
}

/** `expect(step).toChangeExactly(spec)`. */
export function toChangeExactly(this: MatcherContext | void, received: unknown, spec: ChangeSpec): MatcherResult {
  const d = diffOf(received, spec ?? {})
  if (d === null) {
    return { pass: false, message: () => 'toChangeExactly: expected a Step (with before / after snapshots) or a SnapshotDiff' }
  }
  const mismatches = checkChangeSpec(d, spec ?? {})
  const pass = mismatches.length === 0
  const shown = renderDiff(d, { structural: false, maxLines: MESSAGE_DIFF_LINES })
  return {
    pass,
    message: () =>
      pass
        ? `expected the step not to change exactly the given changes, but it does:\n${indent(shown)}`
        : `expected the step to change exactly the given changes, but:\n${indent(mismatchText(mismatches))}\nthe step's changes:\n${indent(shown)}`,
  }
}

/** A checked step as the matcher needs it: its index, event, snapshots, internal steps and violations. */
interface CheckedStep extends InternalStep {
  readonly index: number
  readonly violations: readonly Violation[]
}

interface HistoryLike {
  violations(): Violation[]
  at(i: number): CheckedStep
}

function isHistoryLike(x: unknown): x is HistoryLike {
  return typeof x === 'object' && x !== null && typeof (x as HistoryLike).violations === 'function' && typeof (x as HistoryLike).at === 'function'
}

function isCheckedStep(x: unknown): x is CheckedStep {
  return isSnapshotPair(x) && Array.isArray((x as CheckedStep).violations) && typeof (x as CheckedStep).index === 'number'
}

/** The violations of what was received, and a way to find the step of a violation. */
function violationsOf(received: unknown): { violations: readonly Violation[]; stepOf: (v: Violation) => CheckedStep | null; what: string } | null {
  const target = typeof received === 'object' && received !== null && 'history' in received && isHistoryLike((received as { history: unknown }).history) ? (received as { history: HistoryLike }).history : received
  if (isHistoryLike(target)) {
    return {
      violations: target.violations(),
      stepOf: (v) => {
        try {
          return target.at(v.step)
        } catch {
          return null
        }
      },
      what: 'history',
    }
  }
  const steps = Array.isArray(target) ? target : [target]
  if (!steps.every(isCheckedStep)) return null
  return { violations: steps.flatMap((s) => s.violations), stepOf: (v) => steps.find((s) => s.index === v.step) ?? null, what: steps.length === 1 ? 'step' : 'steps' }
}

/** The internal step a violation names (`internal: [2, 0]` = the first step of the third), else the step itself. */
function stepAt(step: InternalStep, path: readonly number[] | undefined): { step: InternalStep; label: string } {
  let cur = step
  const names: string[] = []
  for (const i of path ?? []) {
    const next = cur.steps[i]
    if (next === undefined) break
    cur = next
    names.push(`${i} ${next.event.type}`)
  }
  return { step: cur, label: names.length === 0 ? '' : ` (internal step ${names.join(' › ')})` }
}

function violationText(v: Violation, n: number, step: CheckedStep | null, diffLines: number): string {
  const also = v.also !== undefined && v.also.length > 0 ? ` (also ${v.also.join(', ')})` : ''
  const internal = v.internal !== undefined && v.internal.length > 0 ? ` internal [${v.internal.join(', ')}]` : ''
  const lines = [`${n}. ${v.rule}${also} at event ${v.step}${internal} \`${v.event}\`: ${v.message}`]
  if (v.path !== '') lines.push(`   at ${v.path}`)
  if (v.expected !== undefined || v.actual !== undefined) lines.push(`   expected ${JSON.stringify(v.expected)}, actual ${JSON.stringify(v.actual)}`)
  if (step !== null) {
    const { step: inner, label } = stepAt(step, v.internal)
    lines.push(`   diff of event ${v.step}${label}:`)
    lines.push(indent(renderDiff(diff(inner.before, inner.after), { structural: false, maxLines: diffLines }), '     '))
  }
  return lines.join('\n')
}

/** `expect(history).toSatisfySpec()`. */
export function toSatisfySpec(this: MatcherContext | void, received: unknown, options: SatisfySpecOptions = {}): MatcherResult {
  const found = violationsOf(received)
  if (found === null) {
    return { pass: false, message: () => 'toSatisfySpec: expected a History, a Model, a Step or an array of Steps' }
  }
  const { violations, stepOf, what } = found
  const pass = violations.length === 0
  const max = options.maxViolations ?? 3
  return {
    pass,
    message: () => {
      if (pass) return `expected the ${what} to violate the spec, but it has no violations`
      const shown = violations.slice(0, max).map((v, i) => violationText(v, i + 1, stepOf(v), options.diffLines ?? 40))
      const more = violations.length > max ? `\n… and ${violations.length - max} more` : ''
      return `expected the ${what} to satisfy the spec, but it has ${violations.length} violation${violations.length === 1 ? '' : 's'}:\n${shown.join('\n')}${more}`
    },
  }
}

/** The matchers, for `expect.extend`. */
export const ostdMatchers = { toChangeExactly, toSatisfySpec }
