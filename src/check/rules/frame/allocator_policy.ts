/**
 * The checker's own reading of the model's allocator policy (behaviour.md §2.7, README "Modelling
 * decisions"), written apart from reducers/frame/allocator.ts `pickFrame` / `pickRun` /
 * `freeStackTop`: a rule that predicted the allocation with the reducer's own pick could not see a
 * fault in it (cursor_args.ts says why). It reads only `src/`.
 *
 * The policy: one frame is the topmost free-stack entry that is still free (LIFO reuse; entries in
 * use again are popped past), else the first never-used frame at or after the never-used mark, the
 * stack then empty. `n > 1` frames are the first run of `n` free frames at or after the mark (the
 * mark moves past it), else the lowest run of `n` free frames anywhere (the mark stays); the stack
 * is untouched. A free frame: a physical slot with reference count `REF_COUNT_UNUSED`, not MMIO.
 */
import { indexToFrame, REF_COUNT_UNUSED } from '../../../arch/constants.js'
import { isMmioPaddr, slotOf } from '../../../model/slots.js'
import type { Snapshot } from '../../../model/snapshot.js'
import { tableGet, type Table } from '../../../model/table.js'

/** An allocation as the policy makes it: its first frame index and length, and the allocator after it. */
export interface PolicyPick {
  readonly firstIndex: number
  readonly nframes: number
  readonly freeStackLen: number
  readonly bumpIndex: number
}

function free(s: Snapshot, idx: number): boolean {
  return idx >= 0 && idx < s.nrFrames && slotOf(s, idx).refCount === REF_COUNT_UNUSED && !isMmioPaddr(s.config, indexToFrame(idx))
}

/** The free-stack entry `depth` below the top (0 = the top), or null past the bottom. */
function stackEntry(s: Snapshot, depth: number): number | null {
  const at = s.allocator.freeStackLen - 1 - depth
  return at < 0 ? null : tableGet(s.allocator.freeStack as Table<number>, at)
}

/** The frame index on top of the free stack (the most recently freed frame), or null when it is empty. */
export function freedLast(s: Snapshot): number | null {
  return stackEntry(s, 0)
}

/** The first index of the lowest run of `n` consecutive free frames at or after `from`, or null. */
function firstRun(s: Snapshot, from: number, n: number): number | null {
  let runLen = 0
  for (let idx = from; idx < s.nrFrames; idx++) {
    runLen = free(s, idx) ? runLen + 1 : 0
    if (runLen === n) return idx - n + 1
  }
  return null
}

/** The frame `alloc_frame` gets, and the allocator after it; null when no frame is free (`Err(NoMemory)`). */
export function policyFrame(s: Snapshot): PolicyPick | null {
  for (let depth = 0; depth < s.allocator.freeStackLen; depth++) {
    const idx = stackEntry(s, depth)
    if (idx !== null && free(s, idx)) return { firstIndex: idx, nframes: 1, freeStackLen: s.allocator.freeStackLen - depth - 1, bumpIndex: s.allocator.bumpIndex }
  }
  const fresh = firstRun(s, s.allocator.bumpIndex, 1)
  return fresh === null ? null : { firstIndex: fresh, nframes: 1, freeStackLen: 0, bumpIndex: fresh + 1 }
}

/** The run `alloc_segment(n)` gets (`n ≥ 1`), and the allocator after it; null when no run of `n` free frames exists. */
export function policyRun(s: Snapshot, n: number): PolicyPick | null {
  if (n === 1) return policyFrame(s)
  const { freeStackLen, bumpIndex } = s.allocator
  const fresh = firstRun(s, bumpIndex, n)
  if (fresh !== null) return { firstIndex: fresh, nframes: n, freeStackLen, bumpIndex: fresh + n }
  const reused = firstRun(s, 0, n)
  return reused === null ? null : { firstIndex: reused, nframes: n, freeStackLen, bumpIndex }
}
