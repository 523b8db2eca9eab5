/**
 * The vitest helpers of `ostd-model/testing` (src/testing/): `toChangeExactly` passes on the
 * changes a step makes and fails — naming the unexpected and the missing ones — when the spec
 * differs; `toSatisfySpec` passes on a clean history and fails on a faulty reducer with the rule,
 * the event index and the step's diff; the diff serializer prints diffs as text; the setup
 * installs all of it once.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { frameClone } from '../../reducers/frame/frame.js'
import { variantOf } from '../../reducers/index.js'
import { createModel, type Model } from '../../src/api/model.js'
import { unwrap } from '../../src/api/result.js'
import { PAGE_SIZE } from '../../src/arch/constants.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { diff } from '../../src/log/diff.js'
import { renderDiff } from '../../src/log/diff_render.js'
import { checkChangeSpec, diffSerializer, matchesPattern, setupOstdTesting, toChangeExactly, toSatisfySpec } from '../../src/testing/index.js'

beforeAll(() => setupOstdTesting())

const RW = newUser(PageFlags.RW)
const K4 = PAGE_SIZE

/** A user page table with a cursor over [0, 16K) and one frame mapped at 0; returns the map step. */
function mapped(m: Model): { step: ReturnType<Model['dispatch']>; paddr: number; pageTable: number } {
  const pageTable = m.call<{ pageTable: number }>({ type: 'page_table.new', config: 'user' }).pageTable
  const cursor = m.call<{ value: { cursor: number } }>({ type: 'page_table.cursor_mut', pageTable, vaStart: 0, vaEnd: 4 * K4 }).value.cursor
  const f = m.call<{ value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value
  const step = m.dispatch({ type: 'cursor_mut.map', cursor, item: { frame: f.frame, prop: RW } })
  return { step, paddr: f.paddr, pageTable }
}

/** The message of the assertion error `fn` throws. */
function failure(fn: () => void): string {
  try {
    fn()
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
  throw new Error('expected the assertion to fail')
}

describe('patterns', () => {
  it('partial objects, nested; arrays element by element; RegExps on strings; predicates; exact values', () => {
    const item = { va: 0, pa: 0x5000, prop: RW, paths: ['1:0.0.0.0'] }
    expect(matchesPattern(item, { pa: 0x5000 })).toBe(true)
    expect(matchesPattern(item, { prop: { flags: PageFlags.RW } })).toBe(true)
    expect(matchesPattern(item, { prop: { flags: PageFlags.RX } })).toBe(false)
    expect(matchesPattern(item, { paths: [/:0\.0\.0\.0$/] })).toBe(true)
    expect(matchesPattern(item, { paths: [] })).toBe(false)
    expect(matchesPattern(item, { pa: (pa: number) => pa % K4 === 0 })).toBe(true)
    expect(matchesPattern(item, { missing: 1 })).toBe(false)
    expect(matchesPattern(null, { va: 0 })).toBe(false)
  })

  it('patterns are matched one to one: two patterns need two items, a general pattern does not steal a specific one', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    unwrap(m.frames.allocSegment(2))
    const d = diff(m.history.at(0).before, m.state)
    expect(checkChangeSpec(d, { framesAllocated: [{}, { paddr: 0 }] })).toEqual([])
    expect(checkChangeSpec(d, { framesAllocated: [{ paddr: 0 }, { paddr: 0 }] })).toMatchObject([{ category: 'framesAllocated', missing: ['{ paddr: 0x0 }'] }])
  })
})

describe('toChangeExactly', () => {
  it('passes on the changes the step makes (named categories exactly, others free)', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const { step, paddr, pageTable } = mapped(m)
    expect(step).toChangeExactly({
      mappingsAdded: [{ pageTable, va: 0, pageSize: K4, pa: paddr, prop: RW }],
      framesAllocated: [],
      framesFreed: [],
      refCounts: [],
      ptesWritten: [{ idx: 0, level: 1, before: '0x0000000000000000' }],
      slotOwners: [{ paddr, pathsAdded: [expect.stringMatching(/:0\.0\.0\.0$/)] }],
      handles: [{ registry: 'frames', change: 'dropped' }],
      cursors: [{ change: 'moved', va: K4 }],
    })
    // a diff is accepted as well as a step
    expect(diff(step.before, step.after)).toChangeExactly({ mappingsAdded: [{ pa: paddr }] })
  })

  it('fails on an unexpected change, naming it as the diff renders it', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const { step } = mapped(m)
    const message = failure(() => expect(step).toChangeExactly({ mappingsAdded: [] }))
    expect(message).toContain('mappingsAdded:')
    expect(message).toMatch(/unexpected {2}\+ pt#0 0x0 4K → 0x\w+ RW- U WB/)
    expect(message).toContain("the step's changes:")
  })

  it('fails on a missing change, naming the pattern', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const { step, paddr } = mapped(m)
    expect(() => expect(step).toChangeExactly({ mappingsAdded: [{ pa: paddr }, { va: K4 }] })).toThrow(/missing {5}\{ va: 0x1000 \}/)
    expect(() => expect(step).toChangeExactly({ framesAllocated: [{ paddr }] })).toThrow(/framesAllocated:\n\s+missing/)
  })

  it("others: 'unchanged' requires every category the spec does not name to be empty", () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const { step } = mapped(m)
    expect(() => expect(step).toChangeExactly({ mappingsAdded: [{ va: 0 }], others: 'unchanged' })).toThrow(/ptesWritten:\n\s+unexpected/)
    const jump = m.dispatch({ type: 'cursor.jump', cursor: 0, va: 0 })
    expect(jump).toChangeExactly({ cursors: [{ change: 'moved', va: 0, from: { va: K4 } }], others: 'unchanged' })
  })

  it('paths: a list of subtrees allowed and expected, or a predicate every changed path satisfies', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    mapped(m)
    const jump = m.dispatch({ type: 'cursor.jump', cursor: 0, va: 0 })
    expect(jump).toChangeExactly({ paths: ['pt.cursors[0]'] })
    expect(jump).toChangeExactly({ paths: ['pt.cursors[0].va', 'pt.cursors[0].owner'] })
    expect(jump).toChangeExactly({ paths: (p) => p.startsWith('pt.cursors[0].') })
    expect(() => expect(jump).toChangeExactly({ paths: ['pt.cursors[0].va'] })).toThrow(/paths:\n\s+unexpected {2}pt\.cursors\[0\]\.owner\.va: 0x1000 → 0x0/)
    expect(() => expect(jump).toChangeExactly({ paths: ['pt.cursors[0]', /^memory/] })).toThrow(/missing {5}\/\^memory\//)
    expect(() => expect(jump).toChangeExactly({ paths: (p) => p.endsWith('.va') })).toThrow(/owner\.continuations\[0\]\.idx/)
    // a prefix matches whole segments only
    expect(() => expect(jump).toChangeExactly({ paths: ['pt.cursors[0].v'] })).toThrow()
  })

  it('.not inverts it; an unknown category and a received value that is no step are errors', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const { step } = mapped(m)
    expect(step).not.toChangeExactly({ mappingsAdded: [] })
    expect(() => expect(step).not.toChangeExactly({})).toThrow(/not to change exactly/)
    expect(() => expect(step).toChangeExactly({ mappings: [] } as never)).toThrow(/unknown category 'mappings'/)
    expect(() => expect(42).toChangeExactly({})).toThrow(/expected a Step/)
    expect(toChangeExactly(step, {}).pass).toBe(true)
  })
})

/** frame.clone that forgets to raise the exec ref count (the ghost owner's is raised). */
const cloneForgetsRc = variantOf(frameClone, (s, e) => {
  const o = frameClone.reduce(s, e)
  return { ...o, snapshot: { ...o.snapshot, metaSlots: s.metaSlots } }
})

describe('toSatisfySpec', () => {
  it('passes on a clean history, a model, a step and an array of steps', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const { step } = mapped(m)
    expect(m.history).toSatisfySpec()
    expect(m).toSatisfySpec()
    expect(step).toSatisfySpec()
    expect([m.history.at(0), step]).toSatisfySpec()
    expect(() => expect(m.history).not.toSatisfySpec()).toThrow(/to violate the spec, but it has no violations/)
  })

  it('fails on a faulty reducer: the rule, the event index and type, and the diff of that step', () => {
    const m = createModel({ physicalMemory: 1 << 22, variants: [cloneForgetsRc] })
    const f = unwrap(m.frames.allocFrame())
    f.clone()
    const violations = m.history.violations()
    expect(violations.length).toBeGreaterThan(0)
    const message = failure(() => expect(m.history).toSatisfySpec())
    expect(message).toContain(`it has ${violations.length} violation`)
    expect(message).toContain(`1. ${violations[0]!.rule}`)
    expect(message).toContain('at event 1')
    expect(message).toContain('`frame.clone`')
    expect(message).toContain('diff of event 1:')
    expect(message).toContain('+ frames#1 { paddr: 0x0 }')
    expect(message).not.toContain('structural')
    expect(m.history).not.toSatisfySpec()
    // the number of violations detailed is bounded
    const one = toSatisfySpec(m.history, { maxViolations: 1 }).message()
    expect(one.match(/^\d+\. /gm)).toHaveLength(1)
    if (violations.length > 1) expect(one).toContain(`… and ${violations.length - 1} more`)
  })

  it('rejects what is not a history, a model or steps', () => {
    expect(() => expect({}).toSatisfySpec()).toThrow(/expected a History/)
  })
})

describe('the diff serializer and the setup', () => {
  it('prints a SnapshotDiff as its rendered text and nothing else', () => {
    const m = createModel({ physicalMemory: 1 << 22 })
    const { step } = mapped(m)
    const d = diff(step.before, step.after)
    expect(diffSerializer.test(d)).toBe(true)
    expect(diffSerializer.test({ kind: 'Other' })).toBe(false)
    expect(diffSerializer.test(null)).toBe(false)
    expect(diffSerializer.serialize(d, {}, '')).toBe(renderDiff(d))
    expect(diffSerializer.serialize(d, {}, '  ').split('\n')[1]!.startsWith('  ')).toBe(true)
  })

  it('snapshots of a diff use the serializer (installed by setupOstdTesting, idempotently)', () => {
    setupOstdTesting()
    const m = createModel({ physicalMemory: 1 << 22 })
    unwrap(m.frames.allocFrame())
    const step = m.history.at(0)
    expect(diff(step.before, step.after)).toMatchInlineSnapshot(`
      frames allocated (1):
        + 0x0 rc 1 Frame (Frame)
      slot owners (1):
        0x0: usage Unused → Frame; obligations 0 → 1
      handles (1):
        + frames#0 { paddr: 0x0 }
      structural (6 paths):
        counters.frame: 0 → 1
        metaSlots[0]: ∅ → { refCount: 1, storage: { kind: "Frame", meta: { type: "()", untyped: true, value: ∅ } }, vtablePtr: 0, inList: 0 }
        allocator.bumpIndex: 0 → 1
        regions.slotOwners[0]: ∅ → { innerPerms: { refCount: 1, storage: { kind: "Frame", meta: { type: "()", untyped: true, value: ∅ } }, vtablePtr: 0, inList: 0 }, selfAddr: 0x0, usage: "Frame…
        regions.frameObligations[0]: ∅ → 1
        frames[0]: ∅ → { paddr: 0x0 }
    `)
  })
})
