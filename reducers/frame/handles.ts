/** Looking up handles, and the "live handle" preconditions every handle call starts with. */
import { frameToIndex } from '../../src/arch/constants.js'
import type { FrameEntry, SegmentEntry, Snapshot, UniqueEntry } from '../../src/model/snapshot.js'
import { tableGet, type Table } from '../../src/model/table.js'
import { flusherKeeping } from '../../src/model/vm_space.js'
import type { ModelEvent, Requirement } from '../types.js'

export function frameEntry(s: Snapshot, id: number): FrameEntry | null {
  return tableGet(s.frames, id)
}

export function segmentEntry(s: Snapshot, id: number): SegmentEntry | null {
  return tableGet(s.segments, id)
}

export function uniqueEntry(s: Snapshot, id: number): UniqueEntry | null {
  return tableGet(s.uniqueFrames, id)
}

/** Slot index of a live frame handle (call after its existence requirement). */
export function frameIdx(s: Snapshot, id: number): number {
  return frameToIndex(frameEntry(s, id)!.paddr)
}

/** Why a live handle cannot be taken: a flusher keeps it (moved by `issue_tlb_flush_with`), or null. */
export function keptBehindFlushFailure(s: Snapshot, kind: 'frame' | 'node', id: number): string | null {
  const c = flusherKeeping(s, kind, id)
  return c === null ? null : `${kind === 'frame' ? 'Frame' : 'PageTableNode'} ${id} was moved into VmSpace cursor ${c}'s TLB flusher (issue_tlb_flush_with): it is released by the dispatch, no call may take it`
}

/** Why `Frame` handle `id` cannot be taken: not live (dropped, moved, never created), or kept by a TLB flusher; null if it can. */
export function frameHandleFailure(s: Snapshot, id: number): string | null {
  return tableGet(s.frames, id) === null ? `Frame ${id} is not a live handle (dropped, moved, or never created)` : keptBehindFlushFailure(s, 'frame', id)
}

/** Summary of the model's generic live-handle rule. */
export const HANDLE_SUMMARY = '[model] The handle an operation takes is live: created, and not dropped or moved into another call (Rust ownership).'

type Registry = 'frames' | 'segments' | 'uniqueFrames'
const KIND: Record<Registry, string> = { frames: 'Frame', segments: 'Segment', uniqueFrames: 'UniqueFrame' }

/**
 * `id ∈ registry`: the handle is live (not dropped, not moved into another call or a TLB flusher). `rule` is the
 * digest's id-existence rule where it has one (e.g. REQ-EMB-FRAMEDROP-1), else REQ-HANDLE-1.
 */
export function liveHandle<E extends ModelEvent>(rule: string, registry: Registry, field: keyof E & string): Requirement<E> {
  return {
    rule,
    kind: 'requires',
    ...(rule === 'REQ-HANDLE-1' ? { summary: HANDLE_SUMMARY } : {}),
    check: (s, e) => {
      const id = e[field] as number
      if (registry === 'frames') return frameHandleFailure(s, id)
      return tableGet(s[registry] as Table<unknown>, id) === null ? `${KIND[registry]} ${id} is not a live handle (dropped, moved, or never created)` : null
    },
  }
}
