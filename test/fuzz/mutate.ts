/**
 * fast-check arbitraries of bad trace text: a valid base trace (corpus.ts) with one mutation, or
 * garbage. Each case says from which line on the text differs from a valid trace (`fromLine`,
 * 1-based; lines before it are the base's), so the oracle can require that an error names that
 * line or a later one and that nothing from the bad line on is applied.
 *
 * Mutations: a field set to a value of the wrong type, a huge / negative / fractional / unsafe
 * number, `NaN` / `Infinity` (not JSON), an unknown id; a key removed or added; an unknown event
 * type; a line replaced by random JSON or random text; a byte flipped, inserted or deleted; the
 * file truncated at any byte; the header duplicated; a line duplicated, moved or deleted.
 */
import fc from 'fast-check'
import type { BaseTrace } from './corpus.js'

export interface FuzzCase {
  readonly base: string
  readonly mutation: string
  readonly text: string
  /** The first line that may differ from the base (1-based); lines before it are unchanged. */
  readonly fromLine: number
}

/** Values of the wrong kind or out of range for any field. */
const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(-1, -4096, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 64, -(2 ** 63), 1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, 0.5, 4096.5, -0, 1e-7),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(null, true, false, '', '0', '0x1000', '-1', 'NaN', '9'.repeat(400), [], [1], {}, { a: 1 }),
  fc.string({ maxLength: 12 }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.integer({ min: 0, max: 1 << 20 }), // ids that mostly do not exist
)

/** Raw (non-JSON) value texts. */
const badRaw = fc.constantFrom('NaN', 'Infinity', '-Infinity', 'undefined', '0x10', '1e99999', '01', '+1', '.5', '"\\ud800"', '[', '{')

function replaceLine(lines: readonly string[], i: number, line: string): string[] {
  const out = [...lines]
  out[i] = line
  return out
}

function join(lines: readonly string[]): string {
  return lines.join('\n') + '\n'
}

function parsedObject(line: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(line) as unknown
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/** Dotted paths of the leaves and objects of `v` (keys of nested objects included). */
function fieldPaths(v: unknown, prefix: string[] = []): string[][] {
  if (typeof v !== 'object' || v === null) return [prefix]
  const out: string[][] = prefix.length > 0 ? [prefix] : []
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out.push(...fieldPaths(x, [...prefix, k]))
  return out
}

function setPath(obj: unknown, path: readonly string[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value
  const o = (Array.isArray(obj) ? [...obj] : { ...(obj as Record<string, unknown>) }) as Record<string, unknown>
  const [k, ...rest] = path as [string, ...string[]]
  if (rest.length === 0) {
    if (remove) delete o[k]
    else o[k] = value
  } else {
    o[k] = setPath(o[k], rest, value, remove)
  }
  return o
}

/** A mutation of line `i` (0-based; 0 is the header) of `t`. */
function lineMutation(t: BaseTrace): fc.Arbitrary<FuzzCase> {
  const n = t.lines.length
  const mk = (mutation: string, lines: readonly string[], i: number): FuzzCase => ({ base: t.name, mutation, text: join(lines), fromLine: i + 1 })
  const lineIdx = fc.integer({ min: 0, max: n - 1 })
  const eventIdx = fc.integer({ min: Math.min(1, n - 1), max: n - 1 })
  return fc.oneof(
    // a field of the line (event field, header field, nested meta / prop / item fields)
    fc.tuple(lineIdx, fc.nat(), badValue, fc.boolean()).map(([i, k, value, remove]) => {
      const obj = parsedObject(t.lines[i]!)
      if (obj === null) return mk('line replaced by a bad value', replaceLine(t.lines, i, JSON.stringify(value) ?? 'null'), i)
      const paths = fieldPaths(obj)
      const path = paths[k % paths.length]!
      const next = setPath(obj, path, value, remove && path.length > 0)
      return mk(`${remove ? 'removed' : 'set'} ${path.join('.')}${remove ? '' : ` = ${String(JSON.stringify(value)).slice(0, 40)}`}`, replaceLine(t.lines, i, JSON.stringify(next)), i)
    }),
    // a field given a raw non-JSON value (NaN, Infinity …)
    fc.tuple(lineIdx, fc.nat(), badRaw).map(([i, k, raw]) => {
      const obj = parsedObject(t.lines[i]!) ?? {}
      const keys = Object.keys(obj)
      const key = keys.length > 0 ? keys[k % keys.length]! : 'type'
      const marker = '"__FUZZ__"'
      const text = JSON.stringify({ ...obj, [key]: '__FUZZ__' }).replace(marker, raw)
      return mk(`${key} = ${raw} (raw)`, replaceLine(t.lines, i, text), i)
    }),
    // an unknown key, an unknown event type
    fc.tuple(eventIdx, fc.string({ minLength: 1, maxLength: 8 }), badValue).map(([i, key, value]) => {
      const obj = parsedObject(t.lines[i]!) ?? {}
      return mk(`added key ${JSON.stringify(key)}`, replaceLine(t.lines, i, JSON.stringify({ ...obj, [key]: value })), i)
    }),
    fc.tuple(eventIdx, fc.oneof(fc.constantFrom('frame.explode', 'FRAME.DROP', 'frame.drop ', '', 'type', '__proto__', 'constructor', 'toString'), fc.string({ maxLength: 20 }))).map(([i, type]) => {
      const obj = parsedObject(t.lines[i]!) ?? {}
      return mk(`type = ${JSON.stringify(type)}`, replaceLine(t.lines, i, JSON.stringify({ ...obj, type })), i)
    }),
    // the whole line replaced by random JSON / random text
    fc.tuple(lineIdx, fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }))).map(([i, line]) =>
      mk(`line = ${JSON.stringify(line).slice(0, 40)}`, replaceLine(t.lines, i, line), i),
    ),
    // a byte flipped / inserted / deleted in a line
    fc.tuple(lineIdx, fc.nat(), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 0x7e })).map(([i, at, kind, code]) => {
      const line = t.lines[i]!
      const p = line.length === 0 ? 0 : at % line.length
      const ch = String.fromCharCode(code)
      const next = kind === 0 ? line.slice(0, p) + ch + line.slice(p + 1) : kind === 1 ? line.slice(0, p) + ch + line.slice(p) : line.slice(0, p) + line.slice(p + 1)
      return mk(`byte ${['flipped', 'inserted', 'deleted'][kind]} at ${p}`, replaceLine(t.lines, i, next), i)
    }),
    // the header duplicated at a later line
    fc.integer({ min: 1, max: n }).map((i) => mk(`header duplicated at line ${i + 1}`, [...t.lines.slice(0, i), t.lines[0]!, ...t.lines.slice(i)], i)),
    // a line duplicated / deleted / moved earlier (handles used twice, before creation, never created)
    fc.tuple(eventIdx, fc.integer({ min: 0, max: 2 })).chain(([i, kind]) =>
      fc.integer({ min: 1, max: i }).map((j) => {
        if (kind === 0) return mk(`line ${i + 1} duplicated`, [...t.lines.slice(0, i + 1), ...t.lines.slice(i)], i + 1)
        if (kind === 1) return mk(`line ${i + 1} deleted`, [...t.lines.slice(0, i), ...t.lines.slice(i + 1)], i)
        const moved = [...t.lines.slice(0, j), t.lines[i]!, ...t.lines.slice(j, i), ...t.lines.slice(i + 1)]
        return mk(`line ${i + 1} moved to ${j + 1}`, moved, j)
      }),
    ),
  )
}

/** The text truncated at any byte (possibly mid-line, possibly to nothing). */
function truncation(t: BaseTrace): fc.Arbitrary<FuzzCase> {
  const text = join(t.lines)
  return fc.integer({ min: 0, max: text.length }).map((at) => {
    const cut = text.slice(0, at)
    // The line the cut falls in (1-based): lines before it are whole.
    const fromLine = cut.split('\n').length
    return { base: t.name, mutation: `truncated at byte ${at}`, text: cut, fromLine }
  })
}

/** Garbage: random text or random JSON lines, no header at all (or a header and garbage). */
const garbage: fc.Arbitrary<FuzzCase> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), { maxLength: 6 }).map((ls) => ls.join('\n')),
  fc.array(fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), { maxLength: 6 }).map((ls) => ['{"format":"ostd-model-trace","version":2,"config":{}}', ...ls].join('\n')),
  fc.constantFrom('', '\n', '\n\n\n', ' ', '{}', '[]', 'null', '{"format":"ostd-model-trace","version":3,"config":{}}', '{"format":"ostd-model-trace","version":0}', '{"format":"ostd-model-trace","version":1,"config":{"physicalMemory":-1}}'),
).map((text) => ({ base: 'garbage', mutation: 'garbage', text, fromLine: 1 }))

/**
 * Cases are shared out by cost: a case replays its whole trace (on three paths), so a base of `n`
 * lines gets weight `max(1, round(20 × min(1, 100 / n)))` — 20 for the short ones, 1 (~1 % of the
 * cases) for the 2,001-line examples/traces/medium.ndjson, whose cases cost ~230 ms against ~5 ms:
 * at equal weight it took 80 % of a soak's time for 15 % of its cases.
 */
function baseWeight(t: BaseTrace): number {
  return Math.max(1, Math.round(20 * Math.min(1, 100 / t.lines.length)))
}

/** A fuzz case over `corpus`. */
export function fuzzCase(corpus: readonly BaseTrace[]): fc.Arbitrary<FuzzCase> {
  // One arbitrary per base, built once: building fc.string's unmapper on every case cost ~1.5 ms.
  const lineMutations = new Map(corpus.map((t) => [t, lineMutation(t)]))
  const truncations = new Map(corpus.map((t) => [t, truncation(t)]))
  const base = fc.oneof(...corpus.map((t) => ({ weight: baseWeight(t), arbitrary: fc.constant(t) })))
  return fc.oneof(
    { weight: 8, arbitrary: base.chain((t) => lineMutations.get(t)!) },
    { weight: 2, arbitrary: base.chain((t) => truncations.get(t)!) },
    { weight: 1, arbitrary: garbage },
  )
}
