/**
 * Prototyping a change to the algorithm: run the model with one reducer replaced by a variant and
 * let the checker say which clauses of the specification it breaks.
 *
 * The variant here is a `Frame::drop` that decrements the ref count but forgets to tear the slot
 * down when the last reference goes (the frame leaks: rc stays 0, the metadata stays).
 *
 *   npx tsx examples/faulty_variant.ts
 */
import { pathToFileURL } from 'node:url'
import { frameDrop } from '../reducers/frame/frame.js'
import { variantOf } from '../reducers/index.js'
import { createModel, unwrap, type Violation } from '../src/index.js'
import { editSnapshot } from '../src/model/edit.js'
import { ownerOf, slotOf } from '../src/model/slots.js'
import { tableGet } from '../src/model/table.js'
import { frameToIndex } from '../src/arch/constants.js'

/** `Frame::drop` without the teardown: the last drop leaves rc 0 instead of UNUSED. */
export const leakyDrop = variantOf(frameDrop, (s, e) => {
  const { snapshot, result } = frameDrop.reduce(s, e)
  const idx = frameToIndex(tableGet(s.frames, e.frame)!.paddr)
  if (slotOf(s, idx).refCount !== 1) return { snapshot, result }
  // The faulty part: the last drop keeps the slot as it was, with the count at 0.
  return {
    result,
    snapshot: editSnapshot(snapshot, (_d, t) => {
      t.metaSlots.set(idx, { ...slotOf(s, idx), refCount: 0 })
      t.slotOwners.set(idx, { ...ownerOf(s, idx), innerPerms: { ...ownerOf(s, idx).innerPerms, refCount: 0 } })
    }),
  }
})

export function runFaulty(): Violation[] {
  const model = createModel({ check: 'incremental', variants: [leakyDrop] })
  const frame = unwrap(model.frames.allocFrame())
  frame.clone().drop() // fine: rc 2 -> 1
  frame.drop() // the last reference: the variant leaks the frame
  return model.history.violations()
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const v of runFaulty()) console.log(`step ${v.step} ${v.event}: ${v.rule} — ${v.message}`)
}
