/**
 * bisect: the first step where a predicate holds — the first violation (recorded, or re-checked
 * on an unchecked history), the first snapshot where a VA maps a PA, the first time a slot's ref
 * count reaches a value — at event and at internal-step granularity.
 */
import { describe, expect, it } from 'vitest'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { createModel } from '../../src/api/model.js'
import { unwrap } from '../../src/api/result.js'
import { bisect, firstViolation, parsePredicate, refCountReaches, vaMapsTo, violatesInvariant } from '../../src/log/bisect.js'
import { ALL_OPS, FRAME_OPS, generateHistory } from '../../src/log/gen.js'
import { History } from '../../src/log/history.js'
import { variantOf } from '../../reducers/index.js'
import { frameClone } from '../../reducers/frame/frame.js'
import { slotOf } from '../../src/model/slots.js'
import { FAULTS } from '../property/faults.js'
import { focus } from '../property/run.js'
import { tableEntries } from '../../src/model/table.js'
import { viewOf } from '../../src/model/pt_view.js'
import { Checker } from '../../src/check/checker.js'
import { defaultRegistry } from '../../src/check/rules/index.js'

const MEMORY = 1 << 22
const RW = newUser(PageFlags.R | PageFlags.W)

/** Frame::clone that forgets to count the reference (ENS-FRAME-CLONE-1, INV-ACCT-3). */
const cloneForgetsRc = FAULTS['cloneForgetsRc']!.spec

describe('bisect', () => {
  const events = generateHistory({ seed: 9, ops: 300, physicalMemory: MEMORY })

  it('first violation, persistent: the step a full scan finds, whether the fault starts early, midway or late', () => {
    // a fault starting at the first frame.clone after 10%, 50% and 90% of the history: the frame
    // counter there marks it (counters only grow, so `counters.frame >= at` holds from there on)
    const frameEvents = generateHistory({ seed: 9, ops: 400, physicalMemory: MEMORY, operations: FRAME_OPS })
    const clean = new History({ physicalMemory: MEMORY, check: 'off' })
    const atClones: Array<{ at: number; counter: number }> = []
    for (const [i, e] of frameEvents.entries()) {
      if (e.type === 'frame.clone') atClones.push({ at: i, counter: clean.state.counters.frame })
      clean.dispatch(e)
    }
    const found: number[] = []
    for (const fraction of [0.1, 0.5, 0.9]) {
      // the history goes on after the fault (the events it makes invalid are left out), so the
      // broken stretch runs to the end
      const from = atClones.find((c) => c.at >= fraction * frameEvents.length)!.counter
      const late = variantOf(frameClone, (st, e) => (st.counters.frame >= from ? cloneForgetsRc.reduce(st, e) : frameClone.reduce(st, e)))
      const h = new History({ physicalMemory: MEMORY, variants: [late], check: 'off', checkpointIntervalEvents: 8 })
      for (const e of frameEvents) {
        try {
          h.dispatch(e)
        } catch {
          continue
        }
      }
      const scanned = firstViolation(h)
      expect(scanned, `fault from frame ${from}`).not.toBeNull()
      expect(firstViolation(h, { persistent: true }), `fault from frame ${from}`).toEqual(scanned)
      found.push(scanned!.index / h.length)
    }
    // the three faults really are early, midway and late in their histories
    expect(found[0]).toBeLessThan(0.4)
    expect(found[2]).toBeGreaterThan(0.8)
  })

  it('first violation: from the record of a checked history, by re-checking an unchecked one — the same step', () => {
    const checked = new History({ physicalMemory: MEMORY, variants: [cloneForgetsRc], checkpointIntervalEvents: 16 })
    const unchecked = new History({ physicalMemory: MEMORY, variants: [cloneForgetsRc], check: 'off', checkpointIntervalEvents: 16 })
    // the fault can make a later event invalid: stop there (in both)
    for (const e of events) {
      try {
        checked.dispatch(e)
      } catch {
        break
      }
      unchecked.dispatch(e)
    }
    const first = firstViolation(checked)
    expect(first).not.toBeNull()
    expect(first!.rechecked).toBe(false)
    expect(checked.at(first!.index).event.type).toBe('frame.clone')
    expect(checked.violations()[0]).toEqual(first!.violation)
    const again = firstViolation(unchecked)
    expect(again).toMatchObject({ index: first!.index, rechecked: true, violation: { rule: first!.violation.rule } })
    expect(firstViolation(checked, { rule: 'NO-SUCH-RULE' })).toBeNull()
    // the fault leaves the state broken (INV-ACCT-3): the checkpoints' states are bisected, then one interval is scanned
    expect(unchecked.checkpoints().length).toBeGreaterThan(4)
    const scannedFrom: number[] = []
    const scan = unchecked.scan.bind(unchecked)
    unchecked.scan = (from, to, checker) => {
      scannedFrom.push(from ?? 0)
      return scan(from, to, checker)
    }
    expect(firstViolation(unchecked, { persistent: true })).toEqual(again)
    expect(again!.index).toBeGreaterThan(32)
    // it scanned only from the checkpoint before the first violation
    expect(scannedFrom[0]).toBeGreaterThan(again!.index - 17)
    expect(scannedFrom[0]).toBeLessThanOrEqual(again!.index)
    expect(firstViolation(unchecked, { persistent: true, rule: 'INV-ACCT-3' })).toEqual(firstViolation(unchecked, { rule: 'INV-ACCT-3' }))
    expect(firstViolation(unchecked, { persistent: true, rule: 'NO-SUCH-RULE' })).toBeNull()
    // the invariant predicate finds the first state that breaks an invariant, not before it
    const firstInv = checked.violatingSteps().find((i) => checked.violationsAt(i).some((v) => v.kind === 'INV'))
    expect(firstInv).toBeDefined()
    expect(bisect(checked, violatesInvariant())?.index).toBe(firstInv)
  })

  it('violationsNear: a state\'s violations measured from any evaluated state equal a full evaluation of it', () => {
    // an all-layer history with a fault that leaves the state broken from some step on
    const h = new History({ physicalMemory: MEMORY, variants: [cloneForgetsRc], check: 'off', checkpointIntervalEvents: 8 })
    for (const e of generateHistory({ seed: 4, ops: 400, physicalMemory: MEMORY })) {
      try {
        h.dispatch(e)
      } catch {
        break
      }
    }
    const states = h.checkpoints().map((c) => c.snapshot)
    expect(states.length).toBeGreaterThan(10)
    const full = new Checker(defaultRegistry(), 'full')
    const want = states.map((st) => full.violationsIn(st))
    expect(want.some((v) => v.length > 0)).toBe(true) // broken states among them
    expect(want[0]).toEqual([])
    // probes in a bisection's order (near = an evaluated one, before or after), and backwards
    const near = new Checker(defaultRegistry(), 'incremental')
    const order = [0, states.length - 1, Math.floor(states.length / 2), Math.floor(states.length / 4), Math.floor((3 * states.length) / 4), 1, states.length - 2]
    let last = order[0]!
    for (const k of order) {
      expect(near.violationsNear(states[k]!, states[last]!)).toEqual(want[k])
      last = k
    }
    const back = new Checker(defaultRegistry(), 'incremental')
    for (let k = states.length - 1; k >= 0; k -= 3) expect(back.violationsNear(states[k]!, states[Math.min(states.length - 1, k + 3)]!)).toEqual(want[k])
  })

  it("the first time a slot's ref count reaches a value; unrelated steps reuse the verdict", () => {
    const m = createModel({ physicalMemory: MEMORY, checkpointIntervalEvents: 4 })
    for (let i = 0; i < 6; i++) unwrap(m.frames.allocFrame())
    const f = unwrap(m.frames.allocFrame())
    for (let i = 0; i < 9; i++) unwrap(m.frames.allocFrame())
    f.clone()
    unwrap(m.frames.allocFrame())
    f.clone()
    const hit = bisect(m.history, refCountReaches(f.startPaddr(), 3))
    expect(hit).toMatchObject({ index: 18, internal: null })
    expect(slotOf(hit!.snapshot, f.startPaddr() / 4096).refCount).toBe(3)
    expect(hit!.stats.reused).toBeGreaterThan(10)
    expect(bisect(m.history, refCountReaches(f.startPaddr(), 4))).toBeNull()
    // monotone: the checkpoints narrow the scan, same answer
    const mono = bisect(m.history, refCountReaches(f.startPaddr(), 3), { monotone: true })
    expect(mono).toMatchObject({ index: 18 })
    expect(mono!.stats.replayed).toBeLessThan(hit!.stats.replayed)
    // internal granularity: inside alloc_frame, the count becomes 1 at an internal step
    const inside = bisect(m.history, refCountReaches(f.startPaddr(), 1), { internal: true })
    expect(inside).toMatchObject({ index: 6, internal: 0, path: [0, 0] })
  })

  it('the first snapshot where a VA maps a given PA (PTE walk)', () => {
    const m = createModel({ physicalMemory: MEMORY })
    const boot = m.pageTables.boot()
    boot.mapBasePage(0x40_1000, 5, RW)
    boot.mapBasePage(0x40_2000, 9, RW)
    boot.mapBasePage(0x40_3000, 7, RW)
    const root = boot.id
    const pte = bisect(m.history, vaMapsTo(root, 0x40_2abc, 0x9abc))
    expect(pte).not.toBeNull()
    expect(m.history.at(pte!.index!).event).toMatchObject({ type: 'boot_page_table.map_base_page', va: 0x40_2000 })
    expect(bisect(m.history, vaMapsTo(root, 0x40_2abc, 0x5abc))).toBeNull()
  })
})

describe('predicates as text (bisect --where)', () => {
  it('parses refcount, maps and invariant predicates, and names what is wrong', () => {
    const m = createModel({ physicalMemory: MEMORY })
    const f = unwrap(m.frames.allocFrame())
    f.clone()
    expect(bisect(m.history, parsePredicate(`refcount:0x${f.startPaddr().toString(16)}=2`))).toMatchObject({ index: 1 })
    expect(bisect(m.history, parsePredicate(`refcount:${f.startPaddr()}=-1`))).toMatchObject({ index: null }) // unused at genesis
    expect(parsePredicate('maps:0x1000:0x40_2000=0x9000:ghost').describe).toBe('VA 0x402000 maps PA 0x9000 (root 0x1000, ghost)')
    expect(parsePredicate('invariant:INV-ACCT-3').describe).toBe('INV-ACCT-3 is violated')
    expect(() => parsePredicate('refcount:zero=1')).toThrow(/the paddr must be an integer/)
    expect(() => parsePredicate('mapped 1 2')).toThrow(/expected refcount/)
  })
})

describe('VA → PA over a generated page-table history', () => {
  it('the PTE walk and the abstract view find the same first step, and it did not hold just before', () => {
    const ops = focus(ALL_OPS, ['pagetable', 'cursor'], 30)
    let found: { rootPaddr: number; va: number; pa: number } | null = null
    let h: History | null = null
    for (let seed = 1; seed < 20 && found === null; seed++) {
      h = new History({ physicalMemory: MEMORY, check: 'off' })
      for (const e of generateHistory({ seed, ops: 150, physicalMemory: MEMORY, operations: ops })) h.dispatch(e)
      for (const step of h.scan()) {
        for (const [, t] of tableEntries(step.after.pt.tables)) {
          const m = viewOf(step.after, t.rootPaddr / 4096)[0]
          if (m !== undefined) found = { rootPaddr: t.rootPaddr, va: m.vaRange.start + 0x18, pa: m.paRange.start + 0x18 }
        }
        if (found !== null) break
      }
    }
    expect(found).not.toBeNull()
    const { rootPaddr, va, pa } = found!
    const byPte = bisect(h!, vaMapsTo(rootPaddr, va, pa, 'pte'))
    const byView = bisect(h!, vaMapsTo(rootPaddr, va, pa, 'ghost'))
    expect(byPte).not.toBeNull()
    expect(byView?.index).toBe(byPte!.index)
    expect(vaMapsTo(rootPaddr, va, pa).test(h!.snapshotAt(byPte!.index!))).toBe(false)
    expect(vaMapsTo(rootPaddr, va, pa).test(byPte!.snapshot)).toBe(true)
  })
})
