/**
 * Every event the model understands, by type. One module per OSTD module; this list is the
 * single place that names them (the trace schema, the dispatcher and the checker read it).
 */
import { allocFrame, frameClone, frameDrop, frameFromInUse, frameFromRaw, frameFromUnused, frameIntoRaw } from './frame/frame.js'
import { linkedListEvents } from './frame/linked_list.js'
import { dropLastInPlace, getFromInUse, getFromUnused } from './frame/meta.js'
import { segmentEvents } from './frame/segment.js'
import { uniqueFrameEvents } from './frame/unique.js'
import { frameIoEvents } from './io/frame_io.js'
import { vmIoEvents } from './io/vm_io.js'
import { ptChildEvents } from './page_table/child.js'
import { ptEntryEvents } from './page_table/entry.js'
import { ptEntryCompositeEvents } from './page_table/entry_composite.js'
import { ptGuardEvents } from './page_table/guard.js'
import { ptNodeEvents } from './page_table/node.js'
import { pageTableEvents } from './page_table/page_table.js'
import { bootPtEvents } from './page_table/boot_pt.js'
import { ptCursorEvents } from './page_table/cursor.js'
import { ptCursorMutEvents } from './page_table/cursor_mut.js'
import type { EventSpec, ModelEvent } from './types.js'
import { vmSpaceEvents } from './vm_space/index.js'
import { embeddingIoEvents } from './embedding/io_query.js'

export type AnyEventSpec = EventSpec<ModelEvent, unknown>

export const EVENT_SPECS: readonly AnyEventSpec[] = [
  // ostd::mm::frame::meta
  getFromUnused,
  getFromInUse,
  dropLastInPlace,
  // ostd::mm::frame (Frame, FrameAllocOptions)
  allocFrame,
  frameFromUnused,
  frameFromInUse,
  frameClone,
  frameDrop,
  frameIntoRaw,
  frameFromRaw,
  // ostd::mm::frame::unique
  ...uniqueFrameEvents,
  // ostd::mm::frame::segment
  ...segmentEvents,
  // ostd::mm::frame::linked_list
  ...linkedListEvents,
  // ostd::mm::io (VmIo of frames and segments; VmReader / VmWriter)
  ...frameIoEvents,
  ...vmIoEvents,
  // ostd::mm::page_table::node (PageTableNode, PageTableGuard, PageTablePageMeta)
  ...ptNodeEvents,
  ...ptGuardEvents,
  // ostd::mm::page_table::node::{entry, child}
  ...ptEntryEvents,
  ...ptChildEvents,
  // ostd::mm::page_table::node::entry (the composites alloc_if_none, split_if_mapped_huge)
  ...ptEntryCompositeEvents,
  // ostd::mm::page_table (PageTable, page_walk) and ostd::mm::page_table::boot_pt
  ...pageTableEvents,
  ...bootPtEvents,
  // ostd::mm::page_table::cursor (Cursor, CursorMut)
  ...ptCursorEvents,
  ...ptCursorMutEvents,
  // ostd::mm::vm_space (VmSpace, its cursors and TLB flusher, VmSpaceOwner, user-space VM I/O)
  ...vmSpaceEvents,
  // the embedding's handle-only queries with no other event (ReaderQuery / WriterQuery, operations.md §11.13)
  ...embeddingIoEvents,
] as unknown as readonly AnyEventSpec[]

const BY_TYPE = new Map(EVENT_SPECS.map((s) => [s.type, s]))
if (BY_TYPE.size !== EVENT_SPECS.length) throw new Error('two event specs share a type')

export function eventSpec(type: string): AnyEventSpec | undefined {
  return BY_TYPE.get(type)
}

export function eventTypes(): string[] {
  return [...BY_TYPE.keys()]
}

/**
 * Applies an event the caller dispatches (top level): first the ownership the caller cannot
 * reach past — a `PageTableGuard` a live cursor holds is the cursor's (Rust: a private field of
 * `Cursor`), so only the cursor's own internal steps use it (REQ-HANDLE-1) — then `applyEvent`.
 */
export function applyCall<R>(spec: EventSpec<ModelEvent, R>, s: Snapshot, e: ModelEvent): Outcome<R> {
  const owned = 'guard' in e && typeof e.guard === 'number' ? cursorOwningGuard(s, e.guard) : null
  if (owned !== null) throw new OstdPanic('REQ-HANDLE-1', `PageTableGuard ${String(e.guard)} is held by cursor ${owned} (the cursor owns its guards; drop or move the cursor instead)`, 'requires')
  // A VmSpace cursor's page-table cursor is its private field (`CursorMut { pt_cursor, flusher }`): only the
  // read-only methods reach it directly; map / unmap / protect_next / drop go through the VmSpace events.
  // Likewise a VmSpace's page table (`VmSpace { pt, .. }`): only the software walk reads it directly.
  if (typeof e['pageTable'] === 'number' && e.type !== 'page_table.page_walk' && s.vm.spaces.count > 0) {
    const owner = vmSpaceOwningTable(s, e['pageTable'])
    if (owner !== null) throw new OstdPanic('REQ-HANDLE-1', `PageTable ${String(e['pageTable'])} belongs to VmSpace ${owner} (use the vm_space.* events)`, 'requires')
  }
  if ((e.type.startsWith('cursor_mut.') || e.type === 'cursor.drop') && typeof e['cursor'] === 'number' && vmCursorAt(s, e['cursor']) !== null) {
    throw new OstdPanic('REQ-HANDLE-1', `cursor ${String(e['cursor'])} is a VmSpace cursor: use the vm_cursor_mut.* / vm_cursor.drop events (its page-table cursor is private)`, 'requires')
  }
  return applyEvent(spec, s, e)
}

export * from './types.js'
import { applyEvent, type Outcome } from './types.js'
import { OstdPanic } from '../src/arch/errors.js'
import type { Snapshot } from '../src/model/snapshot.js'
import { cursorOwningGuard } from '../src/model/pt_cursor.js'
import { vmCursorAt, vmSpaceOwningTable } from '../src/model/vm_space.js'
