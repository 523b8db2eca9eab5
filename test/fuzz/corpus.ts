/**
 * The valid traces the input fuzzer starts from: every trace of examples/traces, and a few random
 * valid histories of src/log/gen.ts (all layers) written as traces, one of them with recorded
 * results and checkpoint lines. Each is checked to replay without an error before it is used: a
 * mutation at line k of a valid trace can only make line k or a later one bad (trace_fuzz.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { generateHistory } from '../../src/log/gen.js'
import { History } from '../../src/log/history.js'
import { formatTrace, traceHeader } from '../../src/log/trace.js'

/** 4 MiB of physical memory: small traces, cheap genesis. */
const PHYSICAL_MEMORY = 1 << 22

export interface BaseTrace {
  readonly name: string
  /** The lines of the trace, without the final newline. */
  readonly lines: readonly string[]
}

const EXAMPLES = new URL('../../examples/traces/', import.meta.url)

function exampleTraces(): BaseTrace[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.ndjson'))
    .sort()
    .map((f) => ({ name: `examples/traces/${f}`, lines: readFileSync(new URL(f, EXAMPLES), 'utf8').trimEnd().split('\n') }))
}

/** Random valid histories, kept short: a fuzz case replays its whole trace. */
function generatedTraces(): BaseTrace[] {
  const out: BaseTrace[] = []
  for (const seed of [1, 2, 3]) {
    const events = generateHistory({ seed, ops: 40, physicalMemory: PHYSICAL_MEMORY })
    out.push({ name: `gen seed ${seed}`, lines: formatTrace(traceHeader({ physicalMemory: PHYSICAL_MEMORY }), events).trimEnd().split('\n') })
  }
  // With recorded results (`expect`) and checkpoint lines (`{checkpoint, hash}`).
  const h = new History({ physicalMemory: PHYSICAL_MEMORY, check: 'off', checkpointIntervalEvents: 8 })
  for (const e of generateHistory({ seed: 4, ops: 30, physicalMemory: PHYSICAL_MEMORY })) h.dispatch(e)
  out.push({ name: 'gen seed 4 (expect, checkpoints)', lines: h.toNDJSON({ expect: true, checkpoints: true }).trimEnd().split('\n') })
  return out
}

let cached: BaseTrace[] | null = null

/** The corpus (built once per process). */
export function corpus(): readonly BaseTrace[] {
  if (cached === null) {
    cached = [...exampleTraces(), ...generatedTraces()]
    for (const t of cached) {
      const h = History.fromNDJSON(t.lines.join('\n') + '\n', { check: 'off' })
      if (h.length === 0) throw new Error(`corpus trace ${t.name} has no event`)
    }
  }
  return cached
}
