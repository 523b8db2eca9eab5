/**
 * `npm run soak`: the long runs of issue 7, sharded over processes (vitest, one per shard, each
 * with its own fast-check seed):
 *   - full == incremental over `SOAK_HISTORIES` random valid histories (default 10,000;
 *     test/fuzz/modes_soak.test.ts);
 *   - input fuzzing over `SOAK_FUZZ` cases (default 1,000,000; test/fuzz/trace_fuzz.test.ts).
 * The work is cut into shards of at most `SOAK_CHUNK_HISTORIES` (1,000) histories or
 * `SOAK_CHUNK_CASES` (50,000) fuzz cases, each with its own seed, run `SOAK_JOBS` at once (default:
 * the number of cores): a shard prints its verdict and the running totals when it ends, so a long
 * soak reports as it goes and a failing shard does not stop the others. `SOAK_SEED` is the base
 * seed (default: the date, so successive soaks explore different cases; each shard prints its
 * seed to reproduce it). Exit code 0 iff every shard passed.
 */
import { spawn } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

const HISTORIES = Number(process.env['SOAK_HISTORIES'] ?? 10_000)
const FUZZ = Number(process.env['SOAK_FUZZ'] ?? 1_000_000)
const JOBS = Math.max(1, Number(process.env['SOAK_JOBS'] ?? availableParallelism()))
const SEED = Number(process.env['SOAK_SEED'] ?? Math.floor(Date.now() / 86_400_000))
const CHUNK_HISTORIES = Math.max(1, Number(process.env['SOAK_CHUNK_HISTORIES'] ?? 1_000))
const CHUNK_CASES = Math.max(1, Number(process.env['SOAK_CHUNK_CASES'] ?? 50_000))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url))

interface Shard {
  readonly name: string
  readonly histories: number
  readonly cases: number
  readonly file: string
  readonly env: Record<string, string>
}

/** `total` cut into at least `minParts` near-equal parts of at most `chunk`. */
function split(total: number, minParts: number, chunk: number): number[] {
  const parts = Math.max(minParts, Math.ceil(total / chunk))
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0)).filter((n) => n > 0)
}

// Fuzz shards are seeded from SEED + 100 on, so up to 100 history shards never share a seed with them.
const shards: Shard[] = [
  ...split(HISTORIES, JOBS, CHUNK_HISTORIES).map((n, i) => ({ name: `modes #${i} (${n} histories, seed ${SEED + i})`, histories: n, cases: 0, file: 'test/fuzz/modes_soak.test.ts', env: { SOAK_MODES_RUNS: String(n), SOAK_MODES_SEED: String(SEED + i) } })),
  ...split(FUZZ, JOBS, CHUNK_CASES).map((n, i) => ({ name: `fuzz #${i} (${n} cases, seed ${SEED + 100 + i})`, histories: 0, cases: n, file: 'test/fuzz/trace_fuzz.test.ts', env: { FUZZ_RUNS: String(n), FUZZ_SEED: String(SEED + 100 + i) } })),
]
const done = { histories: 0, cases: 0, shards: 0 }

function run(shard: Shard): Promise<boolean> {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VITEST, 'run', '--config', 'test/vitest.config.ts', shard.file], { cwd: ROOT, env: { ...process.env, ...shard.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('close', (code) => {
      const s = ((Date.now() - started) / 1000).toFixed(0)
      done.shards++
      if (code === 0) {
        done.histories += shard.histories
        done.cases += shard.cases
      }
      console.log(`${code === 0 ? 'PASS' : 'FAIL'} ${shard.name} in ${s} s — ${done.shards}/${shards.length} shards, passed so far: ${done.histories}/${HISTORIES} histories, ${done.cases}/${FUZZ} cases`)
      if (code !== 0) console.log(out)
      resolve(code === 0)
    })
  })
}

const queue = [...shards]
let ok = true
const started = Date.now()
await Promise.all(
  Array.from({ length: JOBS }, async () => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) ok = (await run(s)) && ok
  }),
)
console.log(`soak: ${HISTORIES} histories (full == incremental), ${FUZZ} fuzz cases, ${JOBS} jobs, ${((Date.now() - started) / 1000).toFixed(0)} s: ${ok ? 'PASS' : 'FAIL'}`)
process.exit(ok ? 0 : 1)
