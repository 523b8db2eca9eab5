/**
 * Fault injection in the page-table entry layer (issue 3): each faulty reducer of
 * test/property/pt_faults.ts is caught on its first faulty step, by the rule that names the slip,
 * in full and in incremental mode alike. The scenario builds root → level 3 → level 2 → level 1
 * and maps one tracked frame; every `entry.replace` and `child.from_frame` of it goes through the
 * fault.
 */
import { describe, expect, it } from 'vitest'
import { isOstdPanic } from '../../src/arch/errors.js'
import { createModel, type Model } from '../../src/api/model.js'
import type { AnyEventSpec } from '../../reducers/index.js'
import { installNode, lockedRoot, mapFrame } from '../firing/cases/pt_util.js'
import { PT_FAULTS } from '../property/pt_faults.js'

/** Runs the scenario under `fault`; the model and the panic that stopped it, if any. */
function scenario(fault: AnyEventSpec, check: 'full' | 'incremental'): { m: Model; panic: string | null } {
  const m = createModel({ check, physicalMemory: 1 << 24, variants: [fault] })
  try {
    const root = lockedRoot(m)
    const l3 = installNode(m, root, 0)
    const l2 = installNode(m, l3, 0)
    const l1 = installNode(m, l2, 0)
    mapFrame(m, l1, 0)
    return { m, panic: null }
  } catch (err) {
    if (!isOstdPanic(err)) throw err
    return { m, panic: err.rule }
  }
}

/** The event type and the rules reported at the first step with violations. */
function firstCaught(m: Model): { event: string; rules: string[] } {
  const v = m.history.violations()
  const step = v[0]!.step
  return { event: m.history.events()[step]!.type, rules: [...new Set(v.filter((x) => x.step === step).map((x) => x.rule))].sort() }
}

const EXPECTED: Record<keyof typeof PT_FAULTS, { event: string; rules: string[]; panic: string | null }> = {
  // The PTE now points at the new node, the owner tree still says absent (and no entry holds the
  // node's record, positioned there: INV-TREE-3).
  replaceForgetsOwnerTree: { event: 'entry.replace', rules: ['ENS-ENTRY-REPLACE-1', 'ENS-ENTRY-REPLACE-6', 'INV-MATCH-3', 'INV-TREE-3'], panic: null },
  // The exec counter and its ghost cell both stay at 0 while a child is present.
  replaceForgetsNrChildren: { event: 'entry.replace', rules: ['ENS-ENTRY-REPLACE-18', 'INV-NODE-6', 'INV-PTMETA-2', 'INV-SLOT-9'], panic: null },
  // The Child::Frame's path is missing from the slot: caught at child.from_frame; the replace that
  // would install it is then refused (its REQ-ENTRY-REPLACE-2, Child::invariants).
  fromFrameForgetsPath: { event: 'child.from_frame', rules: ['ENS-CHILD-FROMFRAME-1', 'INV-ACCT-2', 'INV-SOUND-2', 'INV-TREE-8'], panic: 'REQ-ENTRY-REPLACE-2' },
}

describe('faulty page-table reducers are caught on their first faulty step', () => {
  for (const [name, fault] of Object.entries(PT_FAULTS)) {
    it(`${name}: ${fault.doc}`, () => {
      const want = EXPECTED[name as keyof typeof PT_FAULTS]
      const full = scenario(fault.spec, 'full')
      const incremental = scenario(fault.spec, 'incremental')
      expect(firstCaught(full.m)).toEqual({ event: want.event, rules: want.rules })
      expect(full.panic).toBe(want.panic)
      // the first faulty step is the first step the fault touches: nothing was reported before it
      const firstFaulty = full.m.history.events().findIndex((e) => e.type === want.event)
      expect(full.m.history.violations()[0]!.step).toBe(firstFaulty)
      expect(incremental.m.history.violations()).toEqual(full.m.history.violations())
      expect(incremental.panic).toBe(full.panic)
    })
  }

  it('the correct reducers run the same scenario clean', () => {
    const m = createModel({ check: 'full', physicalMemory: 1 << 24 })
    const root = lockedRoot(m)
    const l1 = installNode(m, installNode(m, installNode(m, root, 0), 0), 0)
    mapFrame(m, l1, 0)
    expect(m.history.violations()).toEqual([])
  })
})
