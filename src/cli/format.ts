/** Text and JSON renderings of replay reports and spec coverage, for the CLI. */
import type { Coverage, RuleStatus } from '../check/coverage.js'
import type { Violation } from '../check/rule.js'
import type { ReplayReport } from '../log/replay.js'

export type StepsMode = 'auto' | 'all' | 'none'

/** Traces up to this many events print every step in `auto` mode. */
export const AUTO_STEPS_LIMIT = 200

/** JSON with bigints as decimal strings and byte arrays as hex. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v),
    indent,
  )
}

export function formatViolation(v: Violation): string {
  const where = v.internal !== undefined ? `step ${v.step}.${v.internal.join('.')}` : `step ${v.step}`
  const also = v.also && v.also.length > 0 ? ` (also ${v.also.join(', ')})` : ''
  const detail = 'expected' in v || 'actual' in v ? ` [expected ${toJson(v.expected)}, actual ${toJson(v.actual)}]` : ''
  return `  ✗ ${where} ${v.event}: ${v.rule}${also} at ${v.path}: ${v.message}${detail}`
}

export function formatReplay(file: string, report: ReplayReport, opts: { json: boolean; steps: StepsMode }): string {
  if (opts.json) {
    return (
      toJson(
        {
          file,
          check: report.check,
          total: report.total,
          applied: report.applied,
          violations: report.violations,
          error: report.error,
          eventCounts: report.eventCounts,
          elapsedMs: Math.round(report.elapsedMs),
        },
        2,
      ) + '\n'
    )
  }
  const lines: string[] = []
  lines.push(`replaying ${file}: ${report.total} events, check ${report.check}`)
  const showSteps = opts.steps === 'all' || (opts.steps === 'auto' && report.total <= AUTO_STEPS_LIMIT)
  if (showSteps) {
    for (let i = 0; i < report.applied; i++) {
      const step = report.history.at(i)
      const mark = step.violations.length > 0 ? '✗' : ' '
      lines.push(`${mark} ${String(i).padStart(5)}  ${step.event.type.padEnd(40)} ${toJson(step.result)}`)
      for (const v of step.violations) lines.push(formatViolation(v))
    }
  }
  if (report.error !== null) {
    const e = report.error
    const where = [e.line !== undefined ? `line ${e.line}` : null, e.index !== undefined ? `event ${e.index}` : null, e.field ? `field ${e.field}` : null].filter(Boolean).join(', ')
    lines.push(`error: ${e.kind === 'invalid' ? 'invalid trace' : 'event rejected'} (${where})${e.rule ? `: ${e.rule}` : ''}: ${e.message}`)
    lines.push(e.kind === 'invalid' && e.index === undefined ? 'the trace failed validation: nothing was applied' : 'nothing after this point was applied')
  }
  if (report.violations.length > 0) {
    lines.push(`violations (${report.violations.length}):`)
    if (!showSteps) for (const v of report.violations) lines.push(formatViolation(v))
    const first = report.firstViolation!
    lines.push(`first violation: step ${first.step} (${first.event}), rule ${first.rule}`)
  } else {
    lines.push('violations: none')
  }
  const rate = report.elapsedMs > 0 ? Math.round((report.applied / report.elapsedMs) * 1000) : report.applied
  const rules = new Set(report.violations.map((v) => v.rule))
  lines.push(
    `summary: ${report.applied}/${report.total} events applied, ${report.violations.length} violations` +
      (rules.size > 0 ? ` of ${rules.size} rules (${[...rules].join(', ')})` : '') +
      `, ${rate} events/s, check ${report.check}`,
  )
  return lines.join('\n') + '\n'
}

export function formatCoverage(c: Coverage, opts: { json: boolean; missing: boolean }): string {
  if (opts.json) return toJson(opts.missing ? { ...c, digest: c.digest.filter((r) => !r.implemented) } : c, 2) + '\n'
  const lines: string[] = []
  const mark = (r: RuleStatus): string =>
    r.implemented ? (r.firing ? 'implemented, fires' : 'implemented, no firing test') : r.deviation !== undefined ? `deviation (not enforced): ${r.deviation}` : 'not implemented'
  let section = ''
  for (const r of c.digest) {
    if (opts.missing && r.implemented) continue
    if (r.section !== section) {
      section = r.section
      lines.push(`\n${section}`)
    }
    lines.push(`  ${r.id.padEnd(34)} ${mark(r)}`)
  }
  if (!opts.missing) {
    lines.push('\nmodel rules (not in the digest)')
    for (const r of c.model) lines.push(`  ${r.id.padEnd(34)} ${mark(r)}  ${r.summary}`)
  }
  const t = c.totals
  lines.push('')
  lines.push(`spec digest: ${t.implemented}/${t.digest} rule IDs implemented, ${t.firing} with a firing test, ${t.deviations} not enforced on purpose (deviations)`)
  for (const k of ['INV', 'ENS', 'REQ'] as const) {
    const b = t.byKind[k]
    lines.push(`  ${k}: ${b.implemented}/${b.total} implemented, ${b.firing} firing`)
  }
  lines.push(`model rules: ${t.model}`)
  return lines.join('\n') + '\n'
}
