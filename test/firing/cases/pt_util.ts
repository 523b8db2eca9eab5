/**
 * Small page-table states for the entry / child tests, built with events: nodes from
 * `page_table.empty` / `page_table_node.alloc` and `page_table_node_ref.lock`, entries and
 * children from `page_table_guard.entry`, `child.*` and `entry.replace`. Also draft helpers to
 * corrupt such states.
 */
import { current, isDraft, type Draft } from 'immer'
import { indexToFrame } from '../../../src/arch/constants.js'
import { newUser, PageFlags, type PageProperty } from '../../../src/arch/page_prop.js'
import type { PtConfigName } from '../../../src/arch/pt_config.js'
import type { Model } from '../../../src/api/model.js'
import type { ChildEntryOwner, ChildValue, LeafEntryOwner, PtEntryHandle, PtNodeOwner } from '../../../src/model/page_table.js'
import { childPath } from '../../../src/model/spec/page_table.js'
import type { Snapshot } from '../../../src/model/snapshot.js'
import { tableGet, tableWith, type Table } from '../../../src/model/table.js'
import { tableSet } from './util.js'

export const RW: PageProperty = newUser(PageFlags.RW)
export const RX: PageProperty = newUser(PageFlags.RX)

/** A node the tests hold: its handle (null once it moved into a Child or a PTE), address, slot, guard. */
export interface PtNode {
  readonly node: number | null
  readonly paddr: number
  readonly slot: number
  readonly guard: number | null
}

/** The owner record of the node at `slot`. */
export function record(s: Snapshot, slot: number): PtNodeOwner {
  return tableGet(s.pt.owners, slot)!
}

/** The tree position of entry `idx` of `n` (`{ tree, path, parentLevel }` for a Child at that entry). */
export function positionOf(m: Model, n: PtNode, idx: number): { tree: number; path: string; parentLevel: number } {
  const r = record(m.state, n.slot)
  return { tree: r.tree, path: childPath(r.path, idx), parentLevel: r.level }
}

/** `PageTable::empty()` of `config`, locked. */
export function lockedRoot(m: Model, config: PtConfigName = 'user'): PtNode {
  const { node, paddr } = m.call<{ node: number; paddr: number }>({ type: 'page_table.empty', config })
  const { guard } = m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr })
  return { node, paddr, slot: paddr / 0x1000, guard }
}

/** `PageTableNode::alloc(level)` of `config`, locked unless `lock` is false. */
export function allocNode(m: Model, level: number, config: PtConfigName = 'user', lock = true): PtNode {
  const { node, paddr } = m.call<{ node: number; paddr: number }>({ type: 'page_table_node.alloc', level, config })
  const guard = lock ? m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr }).guard : null
  return { node, paddr, slot: paddr / 0x1000, guard }
}

export function entry(m: Model, guard: number, idx: number): number {
  return m.call<{ entry: number }>({ type: 'page_table_guard.entry', guard, idx }).entry
}

export function replace(m: Model, e: number, child: number): number {
  return m.call<{ child: number }>({ type: 'entry.replace', entry: e, child }).child
}

export function dropChild(m: Model, child: number): void {
  m.call({ type: 'child.drop', child })
}

export function dropEntry(m: Model, e: number): void {
  m.call({ type: 'entry.drop', entry: e })
}

/** A new frame (`alloc_frame`): its handle and address. */
export function newFrame(m: Model): { frame: number; paddr: number } {
  const r = m.call<{ ok: true; value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' })
  return r.value
}

/** A tracked `Child::Frame` of a new frame, positioned for entry `idx` of the level-1 node `n`. */
export function frameChild(m: Model, n: PtNode, idx: number, prop: PageProperty = RW): { child: number; paddr: number } {
  const f = newFrame(m)
  const { tree, path } = positionOf(m, n, idx)
  const { child } = m.call<{ child: number }>({ type: 'child.from_frame', frame: f.frame, prop, tree, path, parentLevel: 1 })
  return { child, paddr: f.paddr }
}

/** A `Child::None` positioned for entry `idx` of `n`. */
export function noneChild(m: Model, n: PtNode, idx: number): number {
  return m.call<{ child: number }>({ type: 'child.none', ...positionOf(m, n, idx) }).child
}

/** Replaces entry `idx` of the locked node `n` with `child`, drops the old child and the Entry. */
export function put(m: Model, n: PtNode, idx: number, child: number): void {
  const e = entry(m, n.guard!, idx)
  dropChild(m, replace(m, e, child))
  dropEntry(m, e)
}

/** Maps a new tracked frame at entry `idx` of the locked level-1 node `n`; its address. */
export function mapFrame(m: Model, n: PtNode, idx: number, prop: PageProperty = RW): number {
  const { child, paddr } = frameChild(m, n, idx, prop)
  put(m, n, idx, child)
  return paddr
}

/** Installs a new node at entry `idx` of the locked node `n` (one level down), locked unless `lock` is false. */
export function installNode(m: Model, n: PtNode, idx: number, lock = true): PtNode {
  const config = record(m.state, n.slot).config
  const sub = allocNode(m, record(m.state, n.slot).level - 1, config, false)
  const { child } = m.call<{ child: number }>({ type: 'child.from_node', node: sub.node })
  put(m, n, idx, child)
  const guard = lock ? m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: sub.paddr }).guard : null
  return { node: null, paddr: sub.paddr, slot: sub.slot, guard }
}

// ---- the states most cases start from ----------------------------------------------------

/** A locked, detached level-1 node of the user configuration with a frame mapped at entry 3. */
export interface Leaf {
  readonly n: PtNode
  readonly frame: number
}

export function leafWithFrame(m: Model, prop: PageProperty = RW): Leaf {
  const n = allocNode(m, 1)
  return { n, frame: mapFrame(m, n, 3, prop) }
}

/** A locked user root with a locked level-3 node installed at entry 2. */
export interface TwoLevels {
  readonly root: PtNode
  readonly sub: PtNode
}

export function twoLevels(m: Model): TwoLevels {
  const root = lockedRoot(m)
  return { root, sub: installNode(m, root, 2) }
}

// ---- corrupting drafts ---------------------------------------------------------------------

/** A value read from a draft, as plain data (tables are frozen: immer never finalizes drafts inside them). */
export function plain<T>(x: T): T {
  return isDraft(x) ? (current(x as object) as T) : x
}

/** The record of the node at `slot` in a draft. */
export function recordIn(d: Draft<Snapshot>, slot: number): PtNodeOwner {
  return plain(tableGet(d.pt.owners as Table<PtNodeOwner>, slot)!)
}

export function setRecord(d: Draft<Snapshot>, slot: number, patch: Partial<PtNodeOwner>): void {
  tableSet(d.pt.owners, slot, { ...recordIn(d, slot), ...patch })
}

/** Sets entry `idx` of the record at `slot` (null: the canonical absent entry). */
export function setEntryOwner(d: Draft<Snapshot>, slot: number, idx: number, owner: ChildEntryOwner | null): void {
  const r = recordIn(d, slot)
  tableSet(d.pt.owners, slot, { ...r, children: tableWith(r.children, idx, owner) })
}

/** Entry `idx` of the record at `slot` (a stored owner; null for the canonical absent entry). */
export function entryOwnerIn(d: Draft<Snapshot>, slot: number, idx: number): ChildEntryOwner | null {
  return plain(tableGet(recordIn(d, slot).children, idx))
}

/** Writes PTE `idx` of the node at `slot` in a draft (a copy of its page). */
export function setPteIn(d: Draft<Snapshot>, slot: number, idx: number, pte: bigint): void {
  const page = plain(tableGet(d.memory as Table<Uint8Array>, slot))
  const next = page === null ? new Uint8Array(0x1000) : page.slice()
  new DataView(next.buffer).setBigUint64(idx * 8, pte, true)
  tableSet(d.memory, slot, next)
}

export function setEntryHandle(d: Draft<Snapshot>, id: number, patch: Partial<PtEntryHandle>): void {
  tableSet(d.pt.entries, id, { ...plain(tableGet(d.pt.entries as Table<PtEntryHandle>, id)!), ...patch })
}

export function childOwnerIn(d: Draft<Snapshot>, id: number): LeafEntryOwner {
  return plain(tableGet(d.pt.childOwners as Table<LeafEntryOwner>, id)!)
}

export function setChildOwner(d: Draft<Snapshot>, id: number, owner: LeafEntryOwner | null): void {
  tableSet(d.pt.childOwners, id, owner)
}

export function setChildValue(d: Draft<Snapshot>, id: number, value: ChildValue | null): void {
  tableSet(d.pt.children, id, value)
}

export { indexToFrame }
