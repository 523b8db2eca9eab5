/**
 * Bad input to the page-table node and entry layer (issue 3): an index past 511, a level outside
 * 1..4, a PTE written through a node whose lock is gone, a child of the wrong level, an absent
 * entry protected — each refused with the rule that names it and a message saying what was
 * wrong; the snapshot and the history stay exactly as they were. Replayed from a trace, the same
 * events stop the replay at their line and event index, with everything before them kept.
 */
import { describe, expect, it } from 'vitest'
import { isOstdPanic } from '../../src/arch/errors.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { createModel, type Model } from '../../src/api/model.js'
import type { ModelEvent } from '../../reducers/index.js'
import { InvalidEventError } from '../../src/log/history.js'
import { replay } from '../../src/log/replay.js'
import { formatTrace, traceHeader } from '../../src/log/trace.js'
import { allocNode, entry, lockedRoot, noneChild } from '../firing/cases/pt_util.js'

const MEMORY = 1 << 24
const RW = newUser(PageFlags.RW)

/** Dispatches `e`, expecting a refusal; the rule (or schema field) and message, with state and history untouched. */
function refused(m: Model, e: ModelEvent): { rule: string; message: string } {
  const state = m.state
  const length = m.history.length
  const events = m.history.events()
  let caught: unknown = null
  try {
    m.dispatch(e)
  } catch (err) {
    caught = err
  }
  expect(m.state).toBe(state)
  expect(m.history.length).toBe(length)
  expect(m.history.events()).toEqual(events)
  if (isOstdPanic(caught)) return { rule: caught.rule, message: caught.message }
  if (caught instanceof InvalidEventError) return { rule: 'schema', message: caught.message }
  throw new Error(`expected ${e.type} to be refused, got ${String(caught)}`)
}

/** A setup (events applied to a fresh model) and the bad event that follows it. */
interface BadCase {
  readonly name: string
  readonly setup: (m: Model) => ModelEvent
  readonly rule: string
  readonly message: RegExp
}

const CASES: readonly BadCase[] = [
  {
    name: 'an entry index past 511',
    setup: (m) => ({ type: 'page_table_guard.entry', guard: lockedRoot(m).guard!, idx: 512 }),
    rule: 'REQ-GUARD-ENTRY-6',
    message: /512/,
  },
  {
    name: 'a PTE index past 511',
    setup: (m) => ({ type: 'page_table_guard.read_pte', guard: lockedRoot(m).guard!, idx: 600 }),
    rule: 'REQ-GUARD-READPTE-3',
    message: /600/,
  },
  { name: 'a node level of 0', setup: () => ({ type: 'page_table_node.alloc', level: 0, config: 'user' }), rule: 'REQ-NODE-ALLOC-1', message: /level 0/ },
  { name: 'a node level of 5', setup: () => ({ type: 'page_table_node.alloc', level: 5, config: 'user' }), rule: 'REQ-NODE-ALLOC-1', message: /level 5/ },
  {
    name: 'a PTE written through a guard whose lock is gone',
    setup: (m) => {
      const n = allocNode(m, 1)
      m.call({ type: 'page_table_guard.drop', guard: n.guard! })
      return { type: 'page_table_guard.write_pte', guard: n.guard!, idx: 0, pte: '0x0' }
    },
    rule: 'REQ-HANDLE-1',
    message: /PageTableGuard \d+ is not/,
  },
  {
    name: 'a replace through an Entry whose guard was dropped',
    setup: (m) => {
      const n = allocNode(m, 1)
      const e = entry(m, n.guard!, 0)
      const child = noneChild(m, n, 0)
      m.call({ type: 'page_table_guard.drop', guard: n.guard! })
      return { type: 'entry.replace', entry: e, child }
    },
    rule: 'REQ-ENTRY-BORROW-1',
    message: /borrows/,
  },
  {
    name: 'a node child of the wrong level',
    setup: (m) => {
      const root = lockedRoot(m)
      const e = entry(m, root.guard!, 0)
      const wrong = allocNode(m, 1, 'user', false)
      const { child } = m.call<{ child: number }>({ type: 'child.from_node', node: wrong.node! })
      return { type: 'entry.replace', entry: e, child }
    },
    rule: 'REQ-ENTRY-REPLACE-6',
    message: /level 1.*level 4|node child has level 1/,
  },
  {
    name: 'an absent entry protected',
    setup: (m) => {
      const n = allocNode(m, 1)
      return { type: 'entry.protect', entry: entry(m, n.guard!, 7), prop: RW }
    },
    rule: 'REQ-ENTRY-PROTECT-3',
    message: /absent/,
  },
  {
    name: 'an unknown entry handle',
    setup: () => ({ type: 'entry.is_none', entry: 99 }),
    rule: 'REQ-HANDLE-1',
    message: /99/,
  },
  {
    name: 'a boot page table whose firmware 2 MiB leaf sits at a misaligned address',
    setup: () => ({ type: 'boot_page_table.new', firmware: [{ va: 0x20_1000, paddr: 0x40_0000, level: 2, prop: RW }] }),
    rule: 'REQ-BOOTPT-NEW-2',
    message: /firmware\[0\].*not aligned/,
  },
  {
    name: 'a boot page table whose firmware leaves overlap',
    setup: () => ({
      type: 'boot_page_table.new',
      firmware: [
        { va: 0x4000_0000, paddr: 0, level: 3, prop: RW },
        { va: 0x4000_3000, paddr: 0x3000, level: 1, prop: RW },
      ],
    }),
    rule: 'REQ-BOOTPT-NEW-2',
    message: /firmware\[1\] overlaps firmware\[0\]/,
  },
  {
    name: 'a boot page table whose firmware leaf maps past MAX_PADDR',
    setup: () => ({ type: 'boot_page_table.new', firmware: [{ va: 0x20_0000, paddr: 2 ** 40, level: 2, prop: RW }] }),
    rule: 'REQ-PTE-1',
    message: /not page aligned below MAX_PADDR/,
  },
  {
    name: 'a misaligned node address to lock',
    setup: (m) => {
      lockedRoot(m)
      return { type: 'page_table_node_ref.lock', paddr: 0x1234 }
    },
    rule: 'REQ-NODE-LOCK-1',
    message: /0x1234|4660/,
  },
]

describe('bad input to the page-table layer', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.rule}, state and history unchanged`, () => {
      const m = createModel({ check: 'incremental', physicalMemory: MEMORY })
      const bad = c.setup(m)
      const { rule, message } = refused(m, bad)
      expect(rule).toBe(c.rule)
      expect(message).toMatch(c.message)
      expect(m.history.violations()).toEqual([])
    })
  }

  it('a schema violation (a level that is no integer) names the field', () => {
    const m = createModel({ check: 'incremental', physicalMemory: MEMORY })
    const { rule, message } = refused(m, { type: 'page_table_node.alloc', level: 1.5, config: 'user' } as unknown as ModelEvent)
    expect(rule).toBe('schema')
    expect(message).toMatch(/level/)
  })

  it('a firmware leaf of level 4 (a schema violation) names the field', () => {
    const m = createModel({ check: 'incremental', physicalMemory: MEMORY })
    const { rule, message } = refused(m, { type: 'boot_page_table.new', firmware: [{ va: 0, paddr: 0, level: 4, prop: RW }] } as unknown as ModelEvent)
    expect(rule).toBe('schema')
    expect(message).toMatch(/firmware\.0\.level/)
  })

  it('in a replayed trace, the bad event stops the replay at its line and index; what came before is kept', () => {
    for (const c of CASES) {
      const m = createModel({ check: 'off', physicalMemory: MEMORY })
      const bad = c.setup(m)
      const good = m.history.events()
      const text = formatTrace(traceHeader({ physicalMemory: MEMORY }), [...good, bad, { type: 'page_table.empty', config: 'user' }])
      const report = replay(text, { check: 'incremental' })
      expect([c.name, report.error]).toMatchObject([c.name, { kind: 'rejected', rule: c.rule, index: good.length, line: good.length + 2 }])
      expect(report.error!.message).toMatch(c.message)
      expect(report.applied).toBe(good.length)
      expect(report.history.events()).toEqual(good)
      expect(report.violations).toEqual([])
    }
  })
})

