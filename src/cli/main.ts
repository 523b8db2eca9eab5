#!/usr/bin/env node
/**
 * `ostd-model`: the command line. Exit codes: 0 clean, 1 violations found, 2 bad input.
 *   ostd-model replay <trace.ndjson> [--check full|incremental|off] [--until N]
 *                     [--stop-at-first-violation] [--expect] [--record file] [--steps auto|all|none] [--json]
 *   ostd-model diff <trace> <i> <j> [--view ghost|pte] [--no-structural] [--json]
 *   ostd-model bisect <trace> --first-violation [--rule R] | --where <predicate> [--internal] [--json]
 *   ostd-model shrink <trace> [--rule R] [--out file] [--seed N] [--max-tests N] [--json]
 *   ostd-model stats <trace> [--check off|incremental|full] [--json]
 *   ostd-model rules [--json] [--missing]
 *   ostd-model gen --seed N --ops N [--out file]
 *   ostd-model events
 */
import { accessSync, constants, writeFileSync } from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'
import type { AnyEventSpec, ModelEvent } from '../../reducers/index.js'
import { coverage } from '../check/coverage.js'
import { defaultRegistry } from '../check/rules/index.js'
import type { CheckMode } from '../check/rule.js'
import { generateHistory } from '../log/gen.js'
import { replayFile, surveyTrace } from '../log/replay.js'
import { checkInWorkers } from '../log/parallel.js'
import { readTrace, writeTraceFile } from '../log/trace_stream.js'
import { eventCatalogue, formatTrace, traceHeader, TraceError } from '../log/trace.js'
import { formatCoverage, formatReplay, formatViolation, toJson, type StepsMode } from './format.js'
import { progressReporter } from './progress.js'
import { bisectCommand, diffCommand, EXIT_BAD_INPUT, EXIT_CLEAN, EXIT_VIOLATIONS, loadVariants, shrinkCommand, statsCommand, useVariants, type CommandOutput } from './trace_commands.js'

export { EXIT_BAD_INPUT, EXIT_CLEAN, EXIT_VIOLATIONS }

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

/** Runs the CLI on `argv` (without node and script); resolves to the exit code. */
export async function run(argv: readonly string[], io: Io = defaultIo()): Promise<number> {
  let code = EXIT_CLEAN
  const program = new Command()
    .name('ostd-model')
    .description('Replay and check histories of OSTD memory-management calls against the Verus specification')
    .option('--variants <module>', 'replay with the reducer variants this module exports (variantOf): replay, diff, bisect, shrink, stats')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
  let variants: readonly AnyEventSpec[] = []
  const currentVariants = (): readonly AnyEventSpec[] => variants
  program.hook('preAction', async () => {
    const module = program.opts<{ variants?: string }>().variants
    variants = []
    if (module !== undefined) {
      const v = await loadVariants(module)
      if (!Array.isArray(v)) throw new CliInputError(v)
      variants = v
    }
    useVariants(variants)
  })

  program
    .command('replay')
    .description('replay an NDJSON trace from genesis and check every step')
    .argument('<trace>', 'the trace file (NDJSON: a header line, then one event per line)')
    .addOption(new Option('--check <mode>', 'checking mode').choices(['full', 'incremental', 'off']).default('incremental'))
    .option('--until <n>', 'stop after n events', intArg('--until'))
    .option('--stop-at-first-violation', 'stop at the first step that breaks a rule')
    .option('--expect', 'differential replay, strict: every event line must carry its recorded result (`expect`); recorded results are always compared')
    .option('--record <file>', 'write the replayed events with their results and checkpoint hashes (a trace for differential replay)')
    .addOption(new Option('--steps <mode>', 'print each step: auto = only for short traces').choices(['auto', 'all', 'none']).default('auto'))
    .option('--json', 'print the report as JSON')
    .action(async (trace: string, opts: { check: CheckMode; until?: number; stopAtFirstViolation?: boolean; expect?: boolean; record?: string; steps: StepsMode; json?: boolean }) => {
      // The file is streamed (never held as text): validated in one pass, replayed in a second.
      try {
        accessSync(trace, constants.R_OK)
      } catch (e) {
        io.err(`cannot read ${trace}: ${(e as Error).message}\n`)
        code = EXIT_BAD_INPUT
        return
      }
      if (opts.expect) {
        const missing = (await surveyTrace(trace)).firstWithoutExpect
        if (missing !== null) {
          io.err(`${trace}: line ${missing}: --expect: the event has no recorded result (expect)\n`)
          code = EXIT_BAD_INPUT
          return
        }
      }
      const progress = opts.json ? null : progressReporter(io.isTTY)
      const report = await replayFile(trace, {
        check: opts.check,
        variants: currentVariants(),
        ...(opts.until !== undefined ? { until: opts.until } : {}),
        stopAtFirstViolation: opts.stopAtFirstViolation ?? false,
        ...(progress ? { onStep: progress.update } : {}),
      })
      progress?.stop()
      if (opts.record !== undefined) await writeTraceFile(report.history, opts.record, { expect: true, checkpoints: true })
      io.out(formatReplay(trace, report, { json: opts.json ?? false, steps: opts.steps }))
      code = report.error !== null ? EXIT_BAD_INPUT : report.violations.length > 0 ? EXIT_VIOLATIONS : EXIT_CLEAN
    })

  program
    .command('check')
    .description('check a trace on several cores: worker threads check segments of it, each replaying the events before a segment unchecked (full checking: 16 segments per worker from a queue, the cost of a step growing with the state)')
    .argument('<trace>', 'the trace file')
    .addOption(new Option('--check <mode>', 'checking mode').choices(['full', 'incremental']).default('incremental'))
    .option('--jobs <n>', 'worker threads (default: the cores available)', intArg('--jobs'))
    .option('--segments-per-worker <n>', 'segments per worker (default 1 incremental, 16 full)', intArg('--segments-per-worker'))
    .option('--json', 'print the report as JSON')
    .action(async (trace: string, opts: { check: 'full' | 'incremental'; jobs?: number; segmentsPerWorker?: number; json?: boolean }) => {
      const events = await readTraceEvents(trace)
      if (!Array.isArray(events)) {
        emit(events)
        return
      }
      const module = program.opts<{ variants?: string }>().variants
      const r = await checkInWorkers(events, { check: opts.check, ...(opts.jobs !== undefined ? { workers: opts.jobs } : {}), ...(opts.segmentsPerWorker !== undefined ? { segmentsPerWorker: opts.segmentsPerWorker } : {}), ...(module !== undefined ? { variantsModule: module } : {}) })
      const rejected = r.rejected === null ? null : { ...r.rejected, line: events.lines[r.rejected.index] }
      if (opts.json) io.out(toJson({ file: trace, check: opts.check, events: events.length, violations: r.violations, rejected, segments: r.segments.map((x) => ({ from: x.from, to: x.to, worker: x.worker, prefixMs: Math.round(x.prefixMs), checkMs: Math.round(x.checkMs), violations: x.violations.length })), elapsedMs: Math.round(r.elapsedMs) }, 2) + '\n')
      else {
        const nWorkers = new Set(r.segments.map((x) => x.worker)).size
        const out = [`checking ${trace}: ${events.length} events, check ${opts.check}, ${nWorkers} worker${nWorkers === 1 ? '' : 's'}, ${r.segments.length} segment${r.segments.length === 1 ? '' : 's'}`]
        for (const x of r.segments) out.push(`  events ${x.from}..${x.to - 1} (worker ${x.worker}): replayed up to it in ${(x.prefixMs / 1000).toFixed(1)} s, checked in ${(x.checkMs / 1000).toFixed(1)} s, ${x.violations.length} violations`)
        for (const v of r.violations) out.push(formatViolation(v))
        if (rejected !== null) out.push(`event rejected (line ${rejected.line}, event ${rejected.index}): ${rejected.rule}: ${rejected.message}`)
        out.push(`summary: ${events.length} events, ${r.violations.length} violations, ${(r.elapsedMs / 1000).toFixed(1)} s`)
        io.out(out.join('\n') + '\n')
      }
      code = rejected !== null ? EXIT_BAD_INPUT : r.violations.length > 0 ? EXIT_VIOLATIONS : EXIT_CLEAN
    })

  const emit = (r: CommandOutput): void => {
    if (r.out) io.out(r.out)
    if (r.err) io.err(r.err)
    code = r.code
  }

  program
    .command('diff')
    .description('what changed between the snapshot after i events and the one after j (structural paths and semantic changes)')
    .argument('<trace>', 'the trace file')
    .argument('<i>', 'events applied before', intArg('i'))
    .argument('<j>', 'events applied after', intArg('j'))
    .addOption(new Option('--view <source>', 'mappings from the ghost owner tree or the PTE words').choices(['ghost', 'pte']).default('ghost'))
    .option('--no-structural', 'only the semantic changes')
    .option('--json', 'print as JSON')
    .action((trace: string, i: number, j: number, opts: { view: 'ghost' | 'pte'; structural: boolean; json?: boolean }) => {
      emit(diffCommand(trace, i, j, { view: opts.view, structural: opts.structural, json: opts.json ?? false }))
    })

  program
    .command('bisect')
    .description('the first step where something holds: a violation (exit 1 when found), or a predicate (exit 1 when never)')
    .argument('<trace>', 'the trace file')
    .option('--first-violation', 'the first step that breaks a rule')
    .option('--rule <id>', 'with --first-violation: only this rule')
    .option('--where <predicate>', 'refcount:<paddr>=<n> | maps:<root>:<va>=<pa>[:ghost] | invariant[:<RULE>]')
    .option('--persistent', 'with --first-violation: the fault leaves the state broken; bisect the checkpoints instead of checking every step')
    .option('--internal', 'also look inside events, after each internal step')
    .option('--json', 'print as JSON')
    .action((trace: string, opts: { firstViolation?: boolean; rule?: string; where?: string; persistent?: boolean; internal?: boolean; json?: boolean }) => {
      emit(
        bisectCommand(trace, {
          firstViolation: opts.firstViolation ?? false,
          ...(opts.rule !== undefined ? { rule: opts.rule } : {}),
          ...(opts.where !== undefined ? { where: opts.where } : {}),
          persistent: opts.persistent ?? false,
          internal: opts.internal ?? false,
          json: opts.json ?? false,
        }),
      )
    })

  program
    .command('shrink')
    .description('reduce a failing history to a minimal one that still breaks the same rule (delta debugging; handle ids rewritten)')
    .argument('<trace>', 'the trace file')
    .option('--rule <id>', 'the rule to keep failing (default: the first violation)')
    .option('--out <file>', 'write the minimal trace here (default: after the report, on stdout)')
    .option('--seed <n>', 'the seed that generated the trace, echoed in the report', intArg('--seed'))
    .option('--max-tests <n>', 'most candidate replays', intArg('--max-tests'))
    .option('--json', 'print the result as JSON')
    .action((trace: string, opts: { rule?: string; out?: string; seed?: number; maxTests?: number; json?: boolean }) => {
      const r = shrinkCommand(trace, {
        ...(opts.rule !== undefined ? { rule: opts.rule } : {}),
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        ...(opts.maxTests !== undefined ? { maxTests: opts.maxTests } : {}),
        json: opts.json ?? false,
      })
      emit(r.output)
      if (r.trace !== null) {
        if (opts.out !== undefined) writeFileSync(opts.out, r.trace)
        else if (!opts.json) io.out(r.trace)
      }
    })

  program
    .command('stats')
    .description('what a trace contains: events by type, internal steps, violations by rule, the final state, the history size')
    .argument('<trace>', 'the trace file')
    .addOption(new Option('--check <mode>', 'checking mode').choices(['full', 'incremental', 'off']).default('off'))
    .option('--json', 'print as JSON')
    .action((trace: string, opts: { check: CheckMode; json?: boolean }) => {
      emit(statsCommand(trace, { check: opts.check, json: opts.json ?? false }))
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
    await program.parseAsync(argv, { from: 'user' })
  } catch (e) {
    if (e instanceof CliInputError) {
      if (e.output.err) io.err(e.output.err)
      return e.output.code
    }
    const ce = e as { code?: string; exitCode?: number }
    if (ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version' || ce.code === 'commander.help') return EXIT_CLEAN
    if (typeof ce.exitCode === 'number') return ce.exitCode === 0 ? EXIT_CLEAN : EXIT_BAD_INPUT
    throw e
  }
  return code
}

/** The events of a trace file (streamed, validated) with their lines, or the bad input it holds. */
async function readTraceEvents(file: string): Promise<(ModelEvent[] & { lines: number[] }) | CommandOutput> {
  const events = Object.assign([] as ModelEvent[], { lines: [] as number[] })
  try {
    for await (const item of readTrace(file)) {
      if (item.kind !== 'event') continue
      events.push(item.event)
      events.lines.push(item.line)
    }
  } catch (e) {
    if (e instanceof TraceError) return { code: EXIT_BAD_INPUT, out: '', err: `${file}: line ${e.line}${e.field ? `, field ${e.field}` : ''}: ${e.reason}\n` }
    return { code: EXIT_BAD_INPUT, out: '', err: `cannot read ${file}: ${(e as Error).message}\n` }
  }
  return events
}

/** Bad input found before a command ran (e.g. a `--variants` module that does not load). */
class CliInputError extends Error {
  constructor(readonly output: CommandOutput) {
    super(output.err ?? 'bad input')
  }
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
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code
  })
}
