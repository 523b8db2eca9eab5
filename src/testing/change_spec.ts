/**
 * "This step changes exactly this": comparing a `SnapshotDiff` with a spec of expected semantic
 * changes (and, optionally, of the structural paths), independently of any test runner. The vitest
 * matcher `toChangeExactly` (src/testing/matchers.ts) is a thin wrapper over `checkChangeSpec`.
 *
 * A spec names categories of `SemanticDiff` (`mappingsAdded`, `framesAllocated`, …), each with a
 * list of patterns. A pattern matches an item when every field it names matches (objects
 * recursively, arrays element by element, a RegExp a string, a function is a predicate, an
 * asymmetric matcher (`expect.stringMatching(…)`) matches as vitest says, anything
 * else by `Object.is`) — fields it does not name are free. A named category must match exactly:
 * every pattern matches its own item (one-to-one, by maximum bipartite matching), and no item is
 * left over. Categories the spec does not name are not constrained, unless `others: 'unchanged'`
 * (then they must be empty). `paths` constrains the structural diff: a predicate every changed path
 * must satisfy, or a list of paths / RegExps where every changed path must match one (a string
 * matches the path itself and everything below it) and every entry must match some changed path.
 */
import type { ViewSource } from '../model/pt_view.js'
import { SEMANTIC_CATEGORIES, type PathChange, type SemanticCategory, type SemanticDiff, type SnapshotDiff } from '../log/diff.js'
import { categoryLines, pathChangeText, valueText } from '../log/diff_render.js'

/** An asymmetric matcher (`expect.stringMatching(…)`, `expect.any(Number)`, …). */
export interface AsymmetricLike {
  asymmetricMatch(value: unknown): boolean
}

/**
 * A pattern over a value: a partial object, a predicate, an asymmetric matcher, a RegExp (strings)
 * or the value itself.
 */
export type Pattern<T> =
  | ((value: T) => boolean)
  | AsymmetricLike
  | (T extends string ? string | RegExp : T extends readonly (infer E)[] ? ReadonlyArray<Pattern<E>> : T extends object ? { readonly [K in keyof T]?: Pattern<T[K]> } : T)

/** The expected changes, by category (see the module comment). */
export type ChangeSpec = {
  readonly [K in SemanticCategory]?: ReadonlyArray<Pattern<SemanticDiff[K][number]>>
} & {
  /** Structural paths: a predicate every changed path satisfies, or the paths (subtrees) / RegExps allowed and expected. */
  readonly paths?: ReadonlyArray<string | RegExp> | ((path: string, change: PathChange) => boolean)
  /** `unchanged`: every category the spec does not name must be empty (default `ignored`). */
  readonly others?: 'ignored' | 'unchanged'
  /** The view the mapping changes are read from when the diff is computed here (default `ghost`). */
  readonly view?: ViewSource
}

/** Keys of a `ChangeSpec` that are not categories. */
const OPTION_KEYS = new Set(['paths', 'others', 'view'])

/** One category (or `paths`) that did not match. */
export interface SpecMismatch {
  readonly category: SemanticCategory | 'paths'
  /** Changes the diff has and the spec does not allow, rendered as the diff renders them. */
  readonly unexpected: readonly string[]
  /** Patterns of the spec no change matched, rendered. */
  readonly missing: readonly string[]
}

function isAsymmetric(p: unknown): p is AsymmetricLike {
  return typeof p === 'object' && p !== null && typeof (p as AsymmetricLike).asymmetricMatch === 'function'
}

/** Whether `value` matches `pattern` (see the module comment). */
export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (typeof pattern === 'function') return (pattern as (v: unknown) => boolean)(value) === true
  if (isAsymmetric(pattern)) return pattern.asymmetricMatch(value)
  if (pattern instanceof RegExp) return typeof value === 'string' && pattern.test(value)
  if (Array.isArray(pattern)) return Array.isArray(value) && value.length === pattern.length && pattern.every((p, i) => matchesPattern(value[i], p))
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof value !== 'object' || value === null) return false
    return Object.entries(pattern).every(([k, p]) => matchesPattern((value as Record<string, unknown>)[k], p))
  }
  return Object.is(value, pattern)
}

/** A pattern on one line (functions as `<predicate>`, RegExps as `/…/`). */
export function patternText(pattern: unknown, key: string | null = null): string {
  if (typeof pattern === 'function') return '<predicate>'
  if (isAsymmetric(pattern)) return typeof (pattern as { toString?: unknown }).toString === 'function' ? String(pattern) : '<asymmetric matcher>'
  if (pattern instanceof RegExp) return String(pattern)
  if (Array.isArray(pattern)) return `[${pattern.map((p) => patternText(p)).join(', ')}]`
  if (typeof pattern === 'object' && pattern !== null) {
    return `{ ${Object.entries(pattern)
      .map(([k, p]) => `${k}: ${patternText(p, k)}`)
      .join(', ')} }`
  }
  return typeof pattern === 'number' || typeof pattern === 'string' || typeof pattern === 'boolean' || pattern === null ? valueText(pattern, key) : String(pattern)
}

/**
 * Maximum one-to-one matching of patterns to items (Kuhn's augmenting paths): returns, per
 * pattern, the index of its item or -1.
 */
function matchAll(items: readonly unknown[], patterns: readonly unknown[]): number[] {
  const fits = patterns.map((p) => {
    const out: number[] = []
    items.forEach((item, i) => {
      if (matchesPattern(item, p)) out.push(i)
    })
    return out
  })
  const ownerOfItem = new Array<number>(items.length).fill(-1)
  const tryAssign = (p: number, seen: boolean[]): boolean => {
    for (const i of fits[p]!) {
      if (seen[i]) continue
      seen[i] = true
      if (ownerOfItem[i] === -1 || tryAssign(ownerOfItem[i]!, seen)) {
        ownerOfItem[i] = p
        return true
      }
    }
    return false
  }
  for (let p = 0; p < patterns.length; p++) tryAssign(p, new Array<boolean>(items.length).fill(false))
  const result = new Array<number>(patterns.length).fill(-1)
  ownerOfItem.forEach((p, i) => {
    if (p >= 0) result[p] = i
  })
  return result
}

/** The lines the renderer gives some items of a category. */
function itemLines(d: SnapshotDiff, category: SemanticCategory, items: readonly unknown[]): string[] {
  const only = Object.fromEntries(SEMANTIC_CATEGORIES.map((c) => [c, c === category ? items : []])) as unknown as SemanticDiff
  return categoryLines({ ...d, semantic: only }, category)
}

/** Whether a structural path lies in the subtree `prefix` names. */
function pathUnder(path: string, prefix: string): boolean {
  if (path === prefix) return true
  if (!path.startsWith(prefix)) return false
  const next = path[prefix.length]
  return next === '.' || next === '[' || next === '+'
}

function checkPaths(d: SnapshotDiff, spec: NonNullable<ChangeSpec['paths']>): SpecMismatch | null {
  const line = pathChangeText
  if (typeof spec === 'function') {
    const unexpected = d.structural.filter((c) => !spec(c.path, c)).map(line)
    return unexpected.length === 0 ? null : { category: 'paths', unexpected, missing: [] }
  }
  const matches = (c: PathChange, p: string | RegExp): boolean => (typeof p === 'string' ? pathUnder(c.path, p) : p.test(c.path))
  const unexpected = d.structural.filter((c) => !spec.some((p) => matches(c, p))).map(line)
  const missing = spec.filter((p) => !d.structural.some((c) => matches(c, p))).map((p) => (typeof p === 'string' ? p : String(p)))
  return unexpected.length === 0 && missing.length === 0 ? null : { category: 'paths', unexpected, missing }
}

/** Every way the diff differs from the spec (empty: it changes exactly what the spec says). */
export function checkChangeSpec(d: SnapshotDiff, spec: ChangeSpec): SpecMismatch[] {
  const out: SpecMismatch[] = []
  for (const key of Object.keys(spec)) {
    if (!OPTION_KEYS.has(key) && !(SEMANTIC_CATEGORIES as readonly string[]).includes(key)) {
      throw new TypeError(`toChangeExactly: unknown category '${key}' (known: ${SEMANTIC_CATEGORIES.join(', ')}, paths, others, view)`)
    }
  }
  for (const category of SEMANTIC_CATEGORIES) {
    const patterns = spec[category] as readonly unknown[] | undefined
    const items = d.semantic[category] as readonly unknown[]
    if (patterns === undefined) {
      if (spec.others === 'unchanged' && items.length > 0) out.push({ category, unexpected: itemLines(d, category, items), missing: [] })
      continue
    }
    const assigned = matchAll(items, patterns)
    const used = new Set(assigned.filter((i) => i >= 0))
    const unexpected = items.filter((_x, i) => !used.has(i))
    const missing = patterns.filter((_p, k) => assigned[k] === -1)
    if (unexpected.length > 0 || missing.length > 0) out.push({ category, unexpected: itemLines(d, category, unexpected), missing: missing.map((p) => patternText(p)) })
  }
  if (spec.paths !== undefined) {
    const m = checkPaths(d, spec.paths)
    if (m !== null) out.push(m)
  }
  return out
}

/** The mismatches as text: per category, the unexpected changes (`+`) and the missing patterns (`?`). */
export function mismatchText(mismatches: readonly SpecMismatch[]): string {
  const lines: string[] = []
  for (const m of mismatches) {
    lines.push(`${m.category}:`)
    for (const u of m.unexpected) lines.push(`  unexpected  ${u.trimStart()}`)
    for (const p of m.missing) lines.push(`  missing     ${p}`)
  }
  return lines.join('\n')
}
