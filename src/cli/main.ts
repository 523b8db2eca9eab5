#!/usr/bin/env node
/**
 * `ostd-model`: the command line. Exit codes: 0 clean, 1 violations found, 2 bad input.
 *   ostd-model replay <trace.ndjson> [--check full|incremental|off] [--until N]
 *                     [--stop-at-first-violation] [--steps auto|all|none] [--json]
 *   ostd-model rules [--json] [--missing]
 *   ostd-model gen --seed N --ops N [--out file]
 *   ostd-model events
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'
import { coverage } from '../check/coverage.js'
import { defaultRegistry } from '../check/rules/index.js'
import type { CheckMode } from '../check/rule.js'
import { generateHistory } from '../log/gen.js'
import { replay } from '../log/replay.js'
import { eventCatalogue, formatTrace, traceHeader } from '../log/trace.js'
import { formatCoverage, formatReplay, type StepsMode } from './format.js'
import { progressReporter } from './progress.js'

export const EXIT_CLEAN = 0
export const EXIT_VIOLATIONS = 1
export const EXIT_BAD_INPUT = 2

function intArg(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`)
    return n
  }
}

interface Io {
  out: (text: string) => void
  err: (text: string) => void
  isTTY: boolean
}

/** Runs the CLI on `argv` (without node and script); returns the exit code. */
export function run(argv: readonly string[], io: Io = defaultIo()): number {
  let code = EXIT_CLEAN
  const program = new Command()
    .name('ostd-model')
    .description('Replay and check histories of OSTD memory-management calls against the Verus specification')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })

  program
    .command('replay')
    .description('replay an NDJSON trace from genesis and check every step')
    .argument('<trace>', 'the trace file (NDJSON: a header line, then one event per line)')
    .addOption(new Option('--check <mode>', 'checking mode').choices(['full', 'incremental', 'off']).default('incremental'))
    .option('--until <n>', 'stop after n events', intArg('--until'))
    .option('--stop-at-first-violation', 'stop at the first step that breaks a rule')
    .addOption(new Option('--steps <mode>', 'print each step: auto = only for short traces').choices(['auto', 'all', 'none']).default('auto'))
    .option('--json', 'print the report as JSON')
    .action((trace: string, opts: { check: CheckMode; until?: number; stopAtFirstViolation?: boolean; steps: StepsMode; json?: boolean }) => {
      let text: string
      try {
        text = readFileSync(trace, 'utf8')
      } catch (e) {
        io.err(`cannot read ${trace}: ${(e as Error).message}\n`)
        code = EXIT_BAD_INPUT
        return
      }
      const progress = opts.json ? null : progressReporter(io.isTTY)
      const report = replay(text, {
        check: opts.check,
        ...(opts.until !== undefined ? { until: opts.until } : {}),
        stopAtFirstViolation: opts.stopAtFirstViolation ?? false,
        ...(progress ? { onStep: progress.update } : {}),
      })
      progress?.stop()
      io.out(formatReplay(trace, report, { json: opts.json ?? false, steps: opts.steps }))
      code = report.error !== null ? EXIT_BAD_INPUT : report.violations.length > 0 ? EXIT_VIOLATIONS : EXIT_CLEAN
    })

  program
    .command('rules')
    .description('list every rule ID of the spec digest: implemented, and with a firing test')
    .option('--json', 'print as JSON')
    .option('--missing', 'list only the IDs not implemented yet')
    .action((opts: { json?: boolean; missing?: boolean }) => {
      io.out(formatCoverage(coverage(defaultRegistry()), { json: opts.json ?? false, missing: opts.missing ?? false }))
    })

  program
    .command('gen')
    .description('generate a random valid history (deterministic from the seed)')
    .requiredOption('--seed <n>', 'PRNG seed', intArg('--seed'))
    .requiredOption('--ops <n>', 'number of events', intArg('--ops'))
    .option('--physical-memory <bytes>', 'physical memory of the model', intArg('--physical-memory'))
    .option('--out <file>', 'write the trace here instead of stdout')
    .action((opts: { seed: number; ops: number; physicalMemory?: number; out?: string }) => {
      const config = opts.physicalMemory !== undefined ? { physicalMemory: opts.physicalMemory } : {}
      const events = generateHistory({ seed: opts.seed, ops: opts.ops, ...config })
      const text = formatTrace(traceHeader(config), events)
      if (opts.out !== undefined) writeFileSync(opts.out, text)
      else io.out(text)
    })

  program
    .command('events')
    .description('list the event types a trace may contain')
    .action(() => {
      for (const { type, doc } of eventCatalogue()) io.out(`${type.padEnd(44)} ${doc}\n`)
    })

  try {
    program.parse(argv, { from: 'user' })
  } catch (e) {
    const ce = e as { code?: string; exitCode?: number }
    if (ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version' || ce.code === 'commander.help') return EXIT_CLEAN
    if (typeof ce.exitCode === 'number') return ce.exitCode === 0 ? EXIT_CLEAN : EXIT_BAD_INPUT
    throw e
  }
  return code
}

function defaultIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
  }
}

// Run when executed directly (not when imported by tests).
const invokedAs = process.argv[1] ?? ''
if (/(^|[\\/])(main\.(js|ts)|ostd-model)$/.test(invokedAs)) {
  process.exitCode = run(process.argv.slice(2))
}
