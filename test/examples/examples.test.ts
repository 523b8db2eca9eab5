import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { frameTour } from '../../examples/frame_tour.js'
import { runFaulty } from '../../examples/faulty_variant.js'
import { pageTableTour } from '../../examples/page_table_tour.js'
import { debugSession } from '../../examples/debug_session.js'
import { runSplit } from '../../examples/split_variant.js'
import { replayFile } from '../../src/log/replay.js'
import { createModel, PageFlags, PrivilegedPageFlags } from '../../src/index.js'

describe('examples', () => {
  it('the frame tour runs with zero violations in both check modes', () => {
    for (const check of ['full', 'incremental'] as const) {
      const model = createModel({ check })
      frameTour(model)
      expect(model.history.violations()).toEqual([])
      expect(model.history.length).toBeGreaterThan(40)
    }
  })

  it('the bundled default trace is the tour\'s history (npx tsx examples/frame_tour.ts --trace)', () => {
    const model = createModel()
    frameTour(model)
    expect(readFileSync('examples/traces/default.ndjson', 'utf8')).toBe(model.history.toNDJSON())
  })

  it('the page-table tour runs with zero violations (incremental: the kernel page table is slow to check in full)', () => {
    const model = createModel({ check: 'incremental' })
    const walks = pageTableTour(model)
    expect(walks).toEqual({
      bootUser: { pa: 0x10_0123, prop: { flags: PageFlags.R, cache: 'Writeback', privFlags: PrivilegedPageFlags.USER } },
      bootKernel: { pa: 0x20_0abc, prop: { flags: PageFlags.RW, cache: 'Writeback', privFlags: 0 } },
      bootUnmapped: null,
      sameKernel: true,
      userKernelHalf: null,
      userMapped: { pa: walks.userTaken!.pa + 0x123, prop: { flags: PageFlags.R, cache: 'Writeback', privFlags: PrivilegedPageFlags.USER } },
      userTaken: { va: 0, pa: walks.userTaken!.pa },
      untrackedProtected: { start: 0x1000, end: 0x2000 },
      untrackedWalk: { pa: 0x20_1234, prop: { flags: PageFlags.R, cache: 'Writeback', privFlags: PrivilegedPageFlags.USER } },
    })
    expect(model.history.violations()).toEqual([])
    expect(model.state.pt.boot).toBeNull()
    expect(model.state.pt.tables.count).toBe(1) // the kernel page table
  }, 60_000)

  it('the undo/redo debugging session finds the faulty drop, inspects it, and branches', () => {
    const s = debugSession()
    expect(s.flaggedStep).toBe(4)
    expect(s.rules).toEqual(['ENS-EMB-FRAMEDROP-2', 'ENS-FRAME-DROP-1', 'INV-ACCT-2', 'INV-SLOT-5'])
    expect([s.refCountBefore, s.refCountAfter]).toEqual([1, 0])
    expect(s.diffText).toContain('0x1000: 1 → 0')
    expect(s.branch).toEqual({ step: 4, event: 'frame.drop', rules: s.rules })
  })

  it('the faulty drop variant is caught, at the faulty step, by the clauses it breaks', () => {
    const violations = runFaulty()
    expect(new Set(violations.map((v) => v.step))).toEqual(new Set([3]))
    expect([...new Set(violations.map((v) => v.rule))].sort()).toEqual(['ENS-EMB-FRAMEDROP-2', 'ENS-FRAME-DROP-1', 'INV-ACCT-2', 'INV-SLOT-5'])
  })

  it('the backwards split strategy is caught by the split postcondition, and maps the range backwards', () => {
    const good = runSplit(false)
    expect(good.violations).toEqual([])
    expect(good.walk?.pa).toBe(0x20_1234)
    const bad = runSplit(true)
    expect(bad.walk?.pa).toBe(0x3f_e234) // sub-page 1 maps page 510
    expect(bad.violations.map((v) => v.rule)).toContain('ENS-ENTRY-SPLIT-13')
    expect(bad.violations.find((v) => v.rule === 'ENS-ENTRY-SPLIT-13')!.event).toBe('entry.split_if_mapped_huge')
  })

  it('the medium trace (2,000 random events over every layer, ostd-model gen --seed 11) replays clean', async () => {
    const r = await replayFile('examples/traces/medium.ndjson')
    expect(r.error).toBeNull()
    expect(r.applied).toBe(2000)
    expect(r.violations).toEqual([])
    expect(Object.keys(r.eventCounts).length).toBeGreaterThan(60)
  })
})
