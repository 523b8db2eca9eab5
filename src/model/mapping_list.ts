/**
 * Mapping lists — a memory view's `mappings` (src/model/vm_space.ts) — compared and edited by key
 * (`mappingKey`: VA range, PA start, page size, property) without building the key strings.
 *
 * Every view the reducers build is sorted by VA start, and a view's mappings are VA-disjoint
 * (INV-VMSPACE-8), so a lookup is a binary search on the start and one field-by-field comparison.
 * A list that is not strictly ascending by finite VA starts (a corrupted snapshot) is read through
 * the key strings, as the definitions say: the answers are the same either way, only the cost
 * differs. Why it matters: the views hold every mapped page of a space and are compared at every
 * VmSpace step; with string keys and re-sorting, that cost several µs per mapped page per step.
 *
 * Caches are keyed by the (immutable) arrays and mappings of published snapshots; drafts are never
 * cached, since they may still change.
 */
import { isDraft } from './immer.js'
import type { Mapping, NodeLeaf } from './pt_view.js'

// ---- keys --------------------------------------------------------------------------------------

const keyOf = new WeakMap<Mapping, string>()
const keysOf = new WeakMap<readonly Mapping[], ReadonlySet<string>>()

/** A mapping's key: two mappings are the same mapping when their keys are equal. */
export function mappingKey(m: Mapping): string {
  let key = keyOf.get(m)
  if (key === undefined) {
    key = `${m.vaRange.start}:${m.vaRange.end}:${m.paRange.start}:${m.pageSize}:${m.property.flags}:${m.property.cache}:${m.property.privFlags}`
    if (!isDraft(m)) keyOf.set(m, key)
  }
  return key
}

/** The keys (`mappingKey`) of `mappings`. */
export function mappingKeys(mappings: readonly Mapping[]): ReadonlySet<string> {
  let keys = keysOf.get(mappings)
  if (keys === undefined) {
    keys = new Set(mappings.map(mappingKey))
    if (!isDraft(mappings)) keysOf.set(mappings, keys)
  }
  return keys
}

/** `String(x) === String(y)`, the way the key strings compare one field. */
export function sameField(x: unknown, y: unknown): boolean {
  return x === y || String(x) === String(y)
}

/** `mappingKey(a) === mappingKey(b)`, field by field. */
export function sameMapping(a: Mapping, b: Mapping): boolean {
  if (a === b) return true
  return (
    sameField(a.vaRange.start, b.vaRange.start) &&
    sameField(a.vaRange.end, b.vaRange.end) &&
    sameField(a.paRange.start, b.paRange.start) &&
    sameField(a.pageSize, b.pageSize) &&
    sameField(a.property.flags, b.property.flags) &&
    sameField(a.property.cache, b.property.cache) &&
    sameField(a.property.privFlags, b.property.privFlags)
  )
}

/** `sameMapping(m, the mapping of leaf `leaf` at `[va, va + size)`)`, without building that mapping. */
export function sameAsLeaf(m: Mapping, va: number, size: number, leaf: NodeLeaf): boolean {
  return (
    sameField(m.vaRange.start, va) &&
    sameField(m.vaRange.end, va + size) &&
    sameField(m.paRange.start, leaf.pa) &&
    sameField(m.pageSize, size) &&
    sameField(m.property.flags, leaf.prop.flags) &&
    sameField(m.property.cache, leaf.prop.cache) &&
    sameField(m.property.privFlags, leaf.prop.privFlags)
  )
}

// ---- sorted lists ------------------------------------------------------------------------------

const ascending = new WeakMap<readonly unknown[], boolean>()

/** Whether `start(list[i])` are finite numbers, strictly ascending (cached per published array). */
function strictlyAscendingBy<T>(list: readonly T[], start: (x: T) => unknown): boolean {
  let yes = ascending.get(list)
  if (yes === undefined) {
    yes = true
    let prev = -Infinity
    for (const x of list) {
      const s = start(x)
      if (typeof s !== 'number' || !Number.isFinite(s) || !(prev < s)) {
        yes = false
        break
      }
      prev = s
    }
    if (!isDraft(list)) ascending.set(list, yes)
  }
  return yes
}

/** Records that `list` (just built, not a draft) is strictly ascending by finite starts: its builder knows. */
export function knownAscending(list: readonly unknown[]): void {
  ascending.set(list, true)
}

/** Whether the mappings' VA starts are finite numbers, strictly ascending: what every view the reducers build has. */
export function sortedByVa(mappings: readonly Mapping[]): boolean {
  return strictlyAscendingBy(mappings, (m) => m.vaRange.start)
}

/** Whether the frames' starts are finite numbers, strictly ascending (a view's `memory`). */
export function sortedByStart(list: readonly { readonly start: number }[]): boolean {
  return strictlyAscendingBy(list, (f) => f.start)
}

/** In a list ascending by `start`, the first position whose start is `>= at` (`list.length` if none). */
export function lowerBound<T>(list: readonly T[], at: number, start: (x: T) => number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (start(list[mid]!) < at) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** In a list ascending by `start`, the first position whose start is `> at` (`list.length` if none). */
export function upperBound<T>(list: readonly T[], at: number, start: (x: T) => number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (start(list[mid]!) <= at) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** In a list strictly ascending by `start`, the position of the element starting at `at`, or -1. */
export function indexOfStart<T>(list: readonly T[], at: number, start: (x: T) => number): number {
  const i = lowerBound(list, at, start)
  return i < list.length && start(list[i]!) === at ? i : -1
}

/**
 * A copy of `list` without the elements at the positions `drop` (ascending) and with `adds[j]`
 * placed before `list[at[j]]` (`at` non-decreasing; `list.length` for the end).
 */
export function spliceSorted<T>(list: readonly T[], drop: readonly number[], adds: readonly T[], at: readonly number[]): T[] {
  // the kept runs as slices, joined once (native copies: a view is edited at every VmSpace step)
  const parts: Array<readonly T[]> = []
  let from = 0
  let d = 0
  let a = 0
  while (d < drop.length || a < adds.length) {
    const nextDrop = d < drop.length ? drop[d]! : Infinity
    const nextAdd = a < adds.length ? at[a]! : Infinity
    if (nextAdd <= nextDrop) {
      if (nextAdd > from) parts.push(list.slice(from, nextAdd))
      from = Math.max(from, nextAdd)
      parts.push([adds[a++]!])
    } else {
      if (nextDrop > from) parts.push(list.slice(from, nextDrop))
      from = nextDrop + 1
      d++
    }
  }
  if (from < list.length) parts.push(list.slice(from))
  // (a spread has an argument limit: join many runs a batch at a time)
  let out: T[] = []
  for (let i = 0; i < parts.length; i += 8192) out = out.concat(...parts.slice(i, i + 8192))
  return out
}

const vaStart = (m: Mapping): number => m.vaRange.start

/** Whether `mappings` has a mapping with `m`'s key. */
export function hasMapping(mappings: readonly Mapping[], m: Mapping): boolean {
  const at = m.vaRange.start
  if (typeof at === 'number' && sortedByVa(mappings)) {
    const i = indexOfStart(mappings, at, vaStart)
    return i >= 0 && sameMapping(mappings[i]!, m)
  }
  return mappingKeys(mappings).has(mappingKey(m))
}

/** Whether every mapping of `sub` is in `sup` (by key): a merge of two sorted lists, else a lookup each. */
export function mappingsIncluded(sub: readonly Mapping[], sup: readonly Mapping[]): boolean {
  if (sub === sup) return true
  if (!(sortedByVa(sub) && sortedByVa(sup))) return sub.every((m) => hasMapping(sup, m))
  let j = 0
  for (const m of sub) {
    const at = m.vaRange.start
    while (j < sup.length && sup[j]!.vaRange.start < at) j++
    if (j === sup.length || sup[j]!.vaRange.start !== at || !sameMapping(sup[j]!, m)) return false
  }
  return true
}
