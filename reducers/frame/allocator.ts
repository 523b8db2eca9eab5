/**
 * The deterministic frame allocator (behaviour.md §2.7): the most recently freed frame, or
 * single-frame segment, is handed out next (LIFO); otherwise frames never handed out, in address
 * order; multi-frame segments take the first contiguous run after the never-used mark, else the
 * lowest free run. It is exec state (`Snapshot.allocator`); picking is pure, applying is a draft
 * edit.
 */
import { indexToFrame, REF_COUNT_UNUSED } from '../../src/arch/constants.js'
import type { Draft } from '../../src/model/immer.js'
import { isMmioPaddr, slotOf } from '../../src/model/slots.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { tableGet, type Table } from '../../src/model/table.js'
import type { Tables } from '../../src/model/edit.js'

/** The allocator hands out physical RAM that is free: not MMIO, `rc == UNUSED`. */
export function isAllocatable(s: Snapshot, idx: number): boolean {
  return idx >= 0 && idx < s.nrFrames && slotOf(s, idx).refCount === REF_COUNT_UNUSED && !isMmioPaddr(s.config, indexToFrame(idx))
}

/** Where an allocation comes from, and the allocator state after taking it. */
export interface AllocatorPick {
  readonly firstIndex: number
  readonly nframes: number
  readonly freeStackLen: number
  readonly bumpIndex: number
}

function nextBump(s: Snapshot, from: number): number {
  let idx = from
  while (idx < s.nrFrames && !isAllocatable(s, idx)) idx++
  return idx
}

/** Picks one frame: LIFO from the freed stack (skipping entries in use again), else the bump mark. */
export function pickFrame(s: Snapshot): AllocatorPick | null {
  const { freeStack, bumpIndex } = s.allocator
  let len = s.allocator.freeStackLen
  while (len > 0) {
    const idx = tableGet(freeStack, len - 1)!
    len--
    if (isAllocatable(s, idx)) return { firstIndex: idx, nframes: 1, freeStackLen: len, bumpIndex }
  }
  const idx = nextBump(s, bumpIndex)
  if (idx >= s.nrFrames) return null
  return { firstIndex: idx, nframes: 1, freeStackLen: 0, bumpIndex: idx + 1 }
}

function runAt(s: Snapshot, start: number, nframes: number): boolean {
  if (start + nframes > s.nrFrames) return false
  for (let i = start; i < start + nframes; i++) if (!isAllocatable(s, i)) return false
  return true
}

/** Picks `nframes` contiguous frames (one frame: as `pickFrame`). */
export function pickRun(s: Snapshot, nframes: number): AllocatorPick | null {
  if (nframes === 1) return pickFrame(s)
  if (nframes > s.nrFrames) return null
  const { freeStackLen, bumpIndex } = s.allocator
  // After the never-used mark, the first run of never-used frames.
  for (let start = nextBump(s, bumpIndex); start + nframes <= s.nrFrames; start = nextBump(s, start + 1)) {
    if (runAt(s, start, nframes)) return { firstIndex: start, nframes, freeStackLen, bumpIndex: start + nframes }
  }
  // Otherwise the lowest free run anywhere.
  let runStart = 0
  for (let i = 0; i < s.nrFrames; i++) {
    if (!isAllocatable(s, i)) runStart = i + 1
    else if (i - runStart + 1 === nframes) return { firstIndex: runStart, nframes, freeStackLen, bumpIndex }
  }
  return null
}

/** Commits a pick into the allocator state. */
export function takePick(d: Draft<Snapshot>, pick: AllocatorPick): void {
  d.allocator.freeStackLen = pick.freeStackLen
  d.allocator.bumpIndex = pick.bumpIndex
}

/** Returns a freed frame to the allocator (`dealloc`): it goes on top of the LIFO stack. */
export function releaseFrame(d: Draft<Snapshot>, t: Tables, idx: number): void {
  const len = d.allocator.freeStackLen
  t.freeStack.set(len, idx)
  d.allocator.freeStackLen = len + 1
}

/** Entries above `freeStackLen` are stale; the table keeps them (no deletes). */
export function freeStackTop(s: Snapshot): number | null {
  return s.allocator.freeStackLen === 0 ? null : (tableGet(s.allocator.freeStack as Table<number>, s.allocator.freeStackLen - 1) ?? null)
}
