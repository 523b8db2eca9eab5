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
import { includedSorted, indexOfStart, strictlyAscendingBy } from './sorted_list.js'
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

/** Whether `m`'s key fields are these (`String` equality each, as in the key strings). */
function hasFields(m: Mapping, vaStart: unknown, vaEnd: unknown, pa: unknown, size: unknown, prop: Mapping['property']): boolean {
  return (
    sameField(m.vaRange.start, vaStart) &&
    sameField(m.vaRange.end, vaEnd) &&
    sameField(m.paRange.start, pa) &&
    sameField(m.pageSize, size) &&
    sameField(m.property.flags, prop.flags) &&
    sameField(m.property.cache, prop.cache) &&
    sameField(m.property.privFlags, prop.privFlags)
  )
}

/** `mappingKey(a) === mappingKey(b)`, field by field. */
export function sameMapping(a: Mapping, b: Mapping): boolean {
  return a === b || hasFields(a, b.vaRange.start, b.vaRange.end, b.paRange.start, b.pageSize, b.property)
}

/** `sameMapping(m, the mapping of leaf `leaf` at `[va, va + size)`)`, without building that mapping. */
export function sameAsLeaf(m: Mapping, va: number, size: number, leaf: NodeLeaf): boolean {
  return hasFields(m, va, va + size, leaf.pa, size, leaf.prop)
}

// ---- sorted lists ------------------------------------------------------------------------------

/** Whether the mappings' VA starts are finite numbers, strictly ascending: what every view the reducers build has. */
export function sortedByVa(mappings: readonly Mapping[]): boolean {
  return strictlyAscendingBy(mappings, (m) => m.vaRange.start)
}

/** Whether the frames' starts are finite numbers, strictly ascending (a view's `memory`). */
export function sortedByStart(list: readonly { readonly start: number }[]): boolean {
  return strictlyAscendingBy(list, (f) => f.start)
}

/** A mapping's VA start (the key its lists are sorted by). */
export const vaStart = (m: Mapping): number => m.vaRange.start

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
  if (sortedByVa(sub) && sortedByVa(sup)) return includedSorted(sub, sup, vaStart, sameMapping)
  return sub.every((m) => hasMapping(sup, m))
}
