/**
 * The fast paths over memory views (src/model/mem_view.ts, src/model/mapping_list.ts) give what the
 * definitions give: `viewWith` against "drop the removed keys, add, `memViewOf`", over chains of
 * edits (so that the per-list caches are used, and the verdicts an edit passes on), and the lookups
 * against their key-set definitions.
 * Lists are sorted views, views with equal starts, unsorted lists, frames mapped twice at one or
 * two page sizes, and now and then a -0, a NaN or a string where a number belongs (a corrupted
 * snapshot), so every fallback is exercised as well.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import type { Mapping } from '../../src/model/pt_view.js'
import { hasMapping, mappingKey, mappingKeys, mappingsIncluded } from '../../src/model/mapping_list.js'
import { spliceSorted } from '../../src/model/sorted_list.js'
import { memoryFailures, memorySubset, memViewOf, overlappingPair, viewWith, type MemView } from '../../src/model/mem_view.js'
import { RUNS, SEED } from './run.js'

const K4 = 4096
const PROPS = [newUser(PageFlags.RW), newUser(PageFlags.R)]

/** A number, or now and then what a corrupted snapshot might hold instead. */
function odd(n: number): fc.Arbitrary<number> {
  return fc.oneof({ weight: 30, arbitrary: fc.constant(n) }, { weight: 1, arbitrary: fc.constantFrom(n === 0 ? -0 : n, Number.NaN, String(n) as unknown as number) })
}

const mapping: fc.Arbitrary<Mapping> = fc
  .record({ page: fc.integer({ min: 0, max: 23 }), frame: fc.integer({ min: 0, max: 9 }), huge: fc.boolean(), prop: fc.constantFrom(...PROPS) })
  .chain(({ page, frame, huge, prop }) => {
    const size = huge && page % 8 === 0 ? 8 * K4 : K4 // a second page size, for frames mapped at two sizes
    // now and then an empty or reversed VA range (a corrupted snapshot)
    const end = fc.oneof({ weight: 20, arbitrary: fc.constant(page * K4 + size) }, { weight: 1, arbitrary: fc.constantFrom(page * K4, page * K4 - K4, 0) })
    return fc.tuple(odd(page * K4), odd(frame * K4), end).map(([va, pa, vaEnd]) => ({ vaRange: { start: va, end: vaEnd }, paRange: { start: pa, end: frame * K4 + size }, pageSize: size, property: prop }))
  })

/**
 * A view as the reducers build it (sorted, one mapping per start), the same with each frame mapped
 * once, as `memViewOf` builds it (equal starts possible), or a raw list.
 */
const view: fc.Arbitrary<MemView> = fc.tuple(fc.array(mapping, { maxLength: 20 }), fc.constantFrom('unique', 'distinct', 'sorted', 'raw')).map(([ms, shape]) => {
  if (shape === 'raw') return { mappings: ms, memory: memViewOf(ms).memory }
  if (shape === 'sorted') return memViewOf(ms)
  const starts = new Set<unknown>()
  const pas = new Set<unknown>()
  const kept = ms.filter((m) => {
    if (starts.has(m.vaRange.start) || (shape === 'distinct' && pas.has(m.paRange.start))) return false
    starts.add(m.vaRange.start)
    pas.add(m.paRange.start)
    return true
  })
  return memViewOf(kept)
})

/** A mapping of a frame `mv` maps (at any page, at either size): a frame mapped twice. */
function remap(mv: MemView): fc.Arbitrary<Mapping> {
  if (mv.mappings.length === 0) return mapping
  return fc.tuple(fc.constantFrom(...mv.mappings), mapping).map(([old, m]) => ({ ...m, paRange: { start: old.paRange.start, end: old.paRange.start + m.pageSize } }))
}

/** The definition of `viewWith`. */
function viewWithDefined(mv: MemView, removed: readonly Mapping[], added: readonly Mapping[]): MemView {
  const gone = new Set(removed.map(mappingKey))
  return memViewOf([...mv.mappings.filter((m) => !gone.has(mappingKey(m))), ...added])
}

/** The definition of `overlappingPair`: the first overlapping neighbours in VA order. */
function overlapDefined(mappings: readonly Mapping[]): [Mapping, Mapping] | null {
  const sorted = [...mappings].sort((x, y) => x.vaRange.start - y.vaRange.start)
  for (let i = 1; i < sorted.length; i++) if (sorted[i - 1]!.vaRange.start < sorted[i]!.vaRange.end && sorted[i]!.vaRange.start < sorted[i - 1]!.vaRange.end) return [sorted[i - 1]!, sorted[i]!]
  return null
}

/** An edit of `mv`: some of its mappings (the objects, or copies) and some others removed; some added. */
function edit(mv: MemView): fc.Arbitrary<[Mapping[], Mapping[]]> {
  const own = mv.mappings.length === 0 ? fc.constant([] as Mapping[]) : fc.array(fc.constantFrom(...mv.mappings).chain((m) => fc.constantFrom(m, { ...m })), { maxLength: 6 })
  return fc.tuple(fc.tuple(own, fc.array(mapping, { maxLength: 2 })).map(([a, b]) => [...a, ...b]), fc.array(fc.oneof(mapping, remap(mv)), { maxLength: 6 }))
}

describe('memory views: the fast paths give what the definitions give', () => {
  it(`viewWith, over chains of edits (${RUNS * 10} chains)`, () => {
    fc.assert(
      fc.property(
        view.chain((v) => fc.tuple(fc.constant(v), fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 6 }))),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        ([start, seeds], seed) => {
          // the edits are drawn against the current view (so removals hit), from a seeded stream
          let fast = start
          let defined = start
          let k = seed
          for (const [a, b] of seeds) {
            const [removed, added] = fc.sample(edit(fast), { seed: (k = (k * 31 + a + b) | 0), numRuns: 1 })[0]!
            fast = viewWith(fast, removed, added)
            defined = viewWithDefined(defined, removed, added)
            expect(fast).toEqual(defined)
            // the verdicts an edit passes on (asked at every step, so that each edit has one to pass on)
            expect(overlappingPair(fast.mappings)).toEqual(overlapDefined(fast.mappings))
            expect(memoryFailures(fast.memory)).toEqual(memoryFailures([...fast.memory]))
          }
        },
      ),
      { numRuns: RUNS * 10, seed: SEED },
    )
  })

  it('a frame mapped again at another size below its first mapping, then an edit elsewhere', () => {
    const rw = PROPS[0]!
    const at = (page: number, frame: number, pages: number): Mapping => ({ vaRange: { start: page * K4, end: (page + pages) * K4 }, paRange: { start: frame * K4, end: (frame + pages) * K4 }, pageSize: pages * K4, property: rw })
    // the frame mapped once (the distinct path), then already twice (the scan path)
    for (const first of [[at(8, 3, 1)], [at(8, 3, 1), at(20, 3, 1)]]) {
      let fast = memViewOf(first)
      let defined = fast
      for (const [removed, added] of [[[], [at(0, 3, 8)]], [[], [at(16, 5, 1)]], [[at(8, 3, 1)], []]] as Array<[Mapping[], Mapping[]]>) {
        fast = viewWith(fast, removed, added)
        defined = viewWithDefined(defined, removed, added)
        expect(fast).toEqual(defined)
      }
    }
  })

  it('removing a reversed range between two mappings makes them neighbours: their overlap is found', () => {
    const rw = PROPS[0]!
    const x: Mapping = { vaRange: { start: 0, end: 8 * K4 }, paRange: { start: 0, end: 8 * K4 }, pageSize: 8 * K4, property: rw }
    const b: Mapping = { vaRange: { start: 2 * K4, end: 0 }, paRange: { start: K4, end: 2 * K4 }, pageSize: K4, property: rw }
    const y: Mapping = { vaRange: { start: 4 * K4, end: 5 * K4 }, paRange: { start: 2 * K4, end: 3 * K4 }, pageSize: K4, property: rw }
    const mv = memViewOf([x, b, y])
    expect(overlappingPair(mv.mappings)).toBeNull() // neighbours x, b and b, y do not overlap
    expect(overlappingPair(viewWith(mv, [b], []).mappings)).toEqual([x, y])
  })

  it(`spliceSorted, against its definition (${RUNS * 10} edits), and with more runs than a spread takes`, () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (list, dropAt, addAt) => {
        const drop = [...new Set(dropAt.filter((i) => i < list.length))].sort((x, y) => x - y)
        const at = addAt.map((i) => i % (list.length + 1)).sort((x, y) => x - y)
        const adds = at.map((_, j) => -1 - j)
        // the definition: walk the positions, the additions at a position before the element there
        const want: number[] = []
        for (let i = 0; i <= list.length; i++) {
          at.forEach((p, j) => p === i && want.push(adds[j]!))
          if (i < list.length && !drop.includes(i)) want.push(list[i]!)
        }
        expect(spliceSorted(list, drop, adds, at)).toEqual(want)
      }),
      { numRuns: RUNS * 10, seed: SEED },
    )
    const big = Array.from({ length: 300_000 }, (_, i) => i)
    const out = spliceSorted(big, Array.from({ length: 100_000 }, (_, i) => 3 * i), [], [])
    expect([out.length, out[0], out.at(-1)]).toEqual([200_000, 1, 299_999])
  })

  it(`lookups, subsets and overlaps (${RUNS * 10} pairs of views)`, () => {
    fc.assert(
      fc.property(view, view, mapping, (a, b, m) => {
        const keys = mappingKeys(b.mappings)
        expect(hasMapping(b.mappings, m)).toBe(keys.has(mappingKey(m)))
        for (const x of a.mappings) expect(hasMapping(b.mappings, x)).toBe(keys.has(mappingKey(x)))
        expect(mappingsIncluded(a.mappings, b.mappings)).toBe(a.mappings.every((x) => keys.has(mappingKey(x))))
        expect(mappingsIncluded(a.mappings, a.mappings)).toBe(true)
        const starts = new Set(b.memory.map((f) => f.start))
        expect(memorySubset(a, b)).toBe(a.memory.every((f) => starts.has(f.start)))
        expect(overlappingPair(a.mappings)).toEqual(overlapDefined(a.mappings))
      }),
      { numRuns: RUNS * 10, seed: SEED },
    )
  })
})
