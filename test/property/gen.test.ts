/**
 * The random history generator (src/log/gen.ts): a 10,000-event history covers every event type
 * it proposes, with both the Ok and the Err (or None) outcome of every fallible call; it replays
 * cleanly with a bounded number of live handles; generation is deterministic; the generator's
 * index follows the snapshot; and every operation proposes only valid events, whatever the state.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { eventTypes, type ModelEvent } from '../../reducers/index.js'
import { ALL_OPS, CAPS, EXCLUDED_EVENT_TYPES, FRAME_OPS, GenIndex, generateHistory, IO_OPS, LIST_OPS, META_OPS, Rng, SEGMENT_OPS, UNIQUE_OPS, type Op } from '../../src/log/gen.js'
import { CURSOR_OPS, PAGE_TABLE_OPS, PT_OPS } from '../../src/log/gen_pt.js'
import { VM_OPS } from '../../src/log/gen_vm.js'
import { History } from '../../src/log/history.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { PHYSICAL_MEMORY, replay, RUNS, SEED } from './run.js'

const LONG = 10_000

let long: ModelEvent[] | null = null
/** The 10,000-event history (seed 1, default 256 MiB of memory), generated once. */
function longHistory(): ModelEvent[] {
  return (long ??= generateHistory({ seed: 1, ops: LONG }))
}

/** How a result reads: `Ok`, `Err`, `None` (null), `zero` / `some` for counts, `value` otherwise. */
function outcome(result: unknown): string {
  if (result === null || result === undefined) return 'None'
  if (typeof result === 'number') return result === 0 ? 'zero' : 'some'
  if (typeof result === 'object' && 'ok' in result) return (result as { ok: boolean }).ok ? 'Ok' : 'Err'
  return 'value'
}

const BOTH_OUTCOMES: Record<string, readonly string[]> = {
  'frame_alloc.alloc_segment': ['Ok', 'Err'],
  'frame.from_unused': ['Ok', 'Err'],
  'frame.from_in_use': ['Ok', 'Err'],
  'unique_frame.from_unused': ['Ok', 'Err'],
  'unique_frame.try_from_shared': ['Ok', 'Err'],
  'segment.from_unused': ['Ok', 'Err'],
  'linked_list.cursor_mut.take_current': ['value', 'None'],
  'linked_list.pop_front': ['value', 'None'],
  'linked_list.pop_back': ['value', 'None'],
  'vm_reader.read': ['some', 'zero'],
  'vm_writer.write': ['some', 'zero'],
  'vm_reader.read_val': ['Ok', 'Err'],
  'vm_reader.read_once': ['Ok', 'Err'],
  'vm_writer.write_val': ['Ok', 'Err'],
  'vm_writer.write_once': ['Ok', 'Err'],
  ...Object.fromEntries(
    ['frame', 'segment'].flatMap((k) => ['read_bytes', 'write_bytes', 'read_val', 'write_val', 'write_vals'].map((op) => [`${k}.${op}`, ['Ok', 'Err']])),
  ),
}

describe('generateHistory', () => {
  it('defaults to ALL_OPS, the union of the module groups', () => {
    const groups = [META_OPS, FRAME_OPS, UNIQUE_OPS, SEGMENT_OPS, LIST_OPS, IO_OPS, PT_OPS, PAGE_TABLE_OPS, CURSOR_OPS, VM_OPS]
    expect(Object.keys(ALL_OPS)).toHaveLength(groups.reduce((n, g) => n + Object.keys(g).length, 0))
    expect(generateHistory({ seed: 5, ops: 300 })).toEqual(generateHistory({ seed: 5, ops: 300, operations: ALL_OPS }))
  })

  it(`a ${LONG.toLocaleString('en-US')}-event history contains every event type but the excluded ones`, () => {
    const seen = new Set(longHistory().map((e) => e.type))
    const expected = eventTypes().filter((t) => !(t in EXCLUDED_EVENT_TYPES))
    expect(expected.filter((t) => !seen.has(t))).toEqual([])
    expect([...seen].filter((t) => t in EXCLUDED_EVENT_TYPES)).toEqual([])
  })

  it(`the ${LONG.toLocaleString('en-US')}-event history replays cleanly (incremental, schema-validated), with both outcomes of every fallible call and bounded live handles`, () => {
    const h = new History({ check: 'incremental' })
    const outcomes = new Map<string, Set<string>>()
    const peak = { frames: 0, segments: 0, uniqueFrames: 0, lists: 0, vmIos: 0 }
    for (const e of longHistory()) {
      const step = h.dispatch(e) // throws on a failed precondition
      let set = outcomes.get(e.type)
      if (set === undefined) outcomes.set(e.type, (set = new Set()))
      set.add(outcome(step.result))
      for (const k of Object.keys(peak) as Array<keyof typeof peak>) peak[k] = Math.max(peak[k], h.state[k].count)
    }
    expect(h.length).toBe(LONG)
    expect(h.violations()).toEqual([])
    for (const [type, want] of Object.entries(BOTH_OUTCOMES)) expect([type, [...outcomes.get(type)!].filter((o) => want.includes(o)).sort()]).toEqual([type, [...want].sort()])
    // meta_slot calls: only their Err paths are valid without a handle to take the reference
    expect([...outcomes.get('meta_slot.get_from_unused')!]).toEqual(['Err'])
    expect([...outcomes.get('meta_slot.get_from_in_use')!]).toEqual(['Err'])
    expect(peak.frames).toBeLessThanOrEqual(CAPS.frames + 2)
    expect(peak.segments).toBeLessThanOrEqual(CAPS.segments + 2)
    expect(peak.uniqueFrames).toBeLessThanOrEqual(CAPS.uniques * 2 + 2)
    expect(peak.lists).toBeLessThanOrEqual(CAPS.lists)
    expect(peak.vmIos).toBeLessThanOrEqual(CAPS.vmIos)
  })

  it('is deterministic from its seed', () => {
    const a = generateHistory({ seed: 42, ops: 2000, physicalMemory: PHYSICAL_MEMORY })
    expect(JSON.stringify(generateHistory({ seed: 42, ops: 2000, physicalMemory: PHYSICAL_MEMORY }))).toBe(JSON.stringify(a))
    expect(JSON.stringify(generateHistory({ seed: 43, ops: 2000, physicalMemory: PHYSICAL_MEMORY }))).not.toBe(JSON.stringify(a))
  })

  it('each operation group on its own (with FRAME_OPS for the frames it needs) gives valid histories', () => {
    for (const group of [META_OPS, FRAME_OPS, UNIQUE_OPS, SEGMENT_OPS, LIST_OPS, IO_OPS]) {
      const ops = { ...FRAME_OPS, ...Object.fromEntries(Object.entries(group).map(([k, v]) => [`g.${k}`, v])) }
      for (const seed of [1, 2]) {
        const r = replay(generateHistory({ seed, ops: 400, physicalMemory: PHYSICAL_MEMORY, operations: ops }), 'incremental')
        expect(r.stopped).toBeNull()
        expect(r.violations).toBe('[]')
      }
    }
  })
})

/** The index's sets, as sorted arrays (for comparing an advanced index with a fresh one). */
function indexView(g: GenIndex): Record<string, number[]> {
  const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b)
  return {
    frames: sorted(g.frames.values()),
    segments: sorted(g.segments.values()),
    uniques: sorted(g.uniques.values()),
    lists: sorted(g.lists.values()),
    vmIos: sorted(g.vmIos.values()),
    forgottenFrames: sorted(g.forgottenFrames.values()),
    forgottenUniques: sorted(g.forgottenUniques.values()),
  }
}

describe('GenIndex', () => {
  it('advanced step by step, it equals an index built from scratch on every snapshot', () => {
    const h = new History({ check: 'off', physicalMemory: PHYSICAL_MEMORY, validate: false })
    const g = new GenIndex(h.state)
    const peak = { forgottenFrames: 0, forgottenUniques: 0 }
    for (const e of generateHistory({ seed: 9, ops: 1500, physicalMemory: PHYSICAL_MEMORY })) {
      h.dispatch(e)
      g.advance(h.state)
      expect(indexView(g)).toEqual(indexView(new GenIndex(h.state)))
      peak.forgottenFrames = Math.max(peak.forgottenFrames, g.forgottenFrames.size)
      peak.forgottenUniques = Math.max(peak.forgottenUniques, g.forgottenUniques.size)
    }
    expect(peak.forgottenFrames).toBeGreaterThan(0)
    expect(peak.forgottenUniques).toBeGreaterThan(0)
  })
})

/** Snapshots along a random history: every `every`-th state. */
function statesAlong(seed: number, ops: number, every: number): Snapshot[] {
  const h = new History({ check: 'off', physicalMemory: PHYSICAL_MEMORY, validate: false })
  const out: Snapshot[] = [h.state]
  generateHistory({ seed, ops, physicalMemory: PHYSICAL_MEMORY }).forEach((e, i) => {
    h.dispatch(e)
    if ((i + 1) % every === 0) out.push(h.state)
  })
  return out
}

describe('every operation proposes only valid events', () => {
  const runs = Math.max(2, Math.ceil(RUNS / 10))
  it(`in states sampled along ${runs} random histories, each operation's proposals dispatch and check clean (full)`, () => {
    const proposed = new Set<string>()
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        for (const s of statesAlong(seed, 240, 40)) {
          const g = new GenIndex(s)
          const rng = new Rng(seed)
          for (const [name, op] of Object.entries(ALL_OPS) as Array<[string, Op]>) {
            const e = op.gen(s, rng, g)
            if (e === null) continue
            proposed.add(name)
            const h = new History({ check: 'full', initial: s })
            const step = h.dispatch(e)
            expect([name, e, step.violations]).toEqual([name, e, []])
          }
        }
      }),
      { numRuns: runs, seed: SEED },
    )
    // most operations found something to do in the sampled states
    expect(proposed.size).toBeGreaterThan(Object.keys(ALL_OPS).length * 0.8)
  })
})
