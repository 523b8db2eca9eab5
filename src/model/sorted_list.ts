/**
 * Lists kept sorted by a numeric start (a memory view's mappings and frames, a node's leaves and
 * children): binary searches, the sortedness of a list (cached per published array; drafts are
 * never cached), an edit as one copy, and inclusion by a merge.
 */
import { isDraft } from './immer.js'

const ascending = new WeakMap<readonly unknown[], boolean>()

/** Whether `start(list[i])` are finite numbers, strictly ascending (cached per published array). */
export function strictlyAscendingBy<T>(list: readonly T[], start: (x: T) => unknown): boolean {
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

/**
 * For two lists strictly ascending by `start`: whether every element of `sub` has one in `sup` at
 * the same start that `same` accepts (a merge).
 */
export function includedSorted<T>(sub: readonly T[], sup: readonly T[], start: (x: T) => number, same: (inSup: T, inSub: T) => boolean): boolean {
  let j = 0
  for (const x of sub) {
    const at = start(x)
    while (j < sup.length && start(sup[j]!) < at) j++
    if (j === sup.length || start(sup[j]!) !== at || !same(sup[j]!, x)) return false
  }
  return true
}
