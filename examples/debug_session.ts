/**
 * An undo/redo debugging session: a history runs with a faulty reducer variant (a `Frame::drop`
 * that forgets to tear the slot down — examples/faulty_variant.ts); the checker flags a step;
 * we find it with `firstViolation`, step back with `undo`, look at the state before it, step
 * forward again and render what the step changed, then `branch` the history with that event
 * skipped: the violation moves to the next last drop — the reducer is at fault, not the event.
 *
 *   npx tsx examples/debug_session.ts
 */
import { pathToFileURL } from 'node:url'
import { frameToIndex, REF_COUNT_UNUSED } from '../src/arch/constants.js'
import { createModel, diff, renderDiff, unwrap } from '../src/index.js'
import { firstViolation } from '../src/log/bisect.js'
import { slotOf } from '../src/model/slots.js'
import { leakyDrop } from './faulty_variant.js'

export interface Session {
  /** The step the checker flagged, and the rules. */
  readonly flaggedStep: number
  readonly rules: readonly string[]
  /** The slot's ref count before the flagged step (after `undo`) and after it (after `redo`). */
  readonly refCountBefore: number
  readonly refCountAfter: number
  /** What the faulty step changed, as the diff renders it. */
  readonly diffText: string
  /** On the branch where the flagged drop is skipped: the first flagged step, its event and rules. */
  readonly branch: { readonly step: number; readonly event: string; readonly rules: readonly string[] }
}

export function debugSession(): Session {
  const model = createModel({ check: 'incremental', variants: [leakyDrop] })
  const a = unwrap(model.frames.allocFrame())
  const b = unwrap(model.frames.allocFrame())
  const paddr = b.startPaddr()
  b.clone().drop()
  b.drop() // the faulty one: the last reference leaks the slot
  a.drop()
  const h = model.history

  // 1. Which step broke the specification first?
  const hit = firstViolation(h)!
  const rules = [...new Set(h.violationsAt(hit.index).map((v) => v.rule))].sort()

  // 2. Step back to just before it and look at the frame's slot; step forward again.
  while (h.length > hit.index) h.undo()
  const refCountBefore = slotOf(h.state, frameToIndex(paddr)).refCount
  h.redo()
  const refCountAfter = slotOf(h.state, frameToIndex(paddr)).refCount // 0: should be UNUSED
  const step = h.at(hit.index)
  const diffText = renderDiff(diff(step.before, step.after), { structural: false })

  // 3. What if the faulty drop had not happened? Branch with the event skipped.
  h.branch(hit.index, { skip: true })
  const next = firstViolation(h)!
  const branch = { step: next.index, event: h.at(next.index).event.type, rules: [...new Set(h.violationsAt(next.index).map((v) => v.rule))].sort() }
  return { flaggedStep: hit.index, rules, refCountBefore, refCountAfter, diffText, branch }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const s = debugSession()
  console.log(`the checker flagged step ${s.flaggedStep}: ${s.rules.join(', ')}`)
  console.log(`ref count of the frame's slot: ${s.refCountBefore} before the step, ${s.refCountAfter} after it (expected ${REF_COUNT_UNUSED}, UNUSED)`)
  console.log('what the step changed:')
  console.log(s.diffText)
  console.log(`on the branch without that drop, step ${s.branch.step} (${s.branch.event}) breaks ${s.branch.rules.join(', ')}: the reducer is at fault`)
}
