/**
 * Firing cases of page-table cursors (reducers/page_table/cursor.ts, cursor_mut.ts;
 * src/check/rules/page_table/cursor.ts): the preconditions (bad arguments and corrupted cursor
 * states), the invariants INV-CURSOR-1..14, INV-VIEW-3 and INV-PTCURSOR-1 (corrupted snapshots),
 * and the postconditions (faulty reducer variants). The spec's `Cursor` and `CursorMut` ids are
 * generated for both kinds from one fault each.
 *
 * `take_next` / `unmap` / `protect_next` (`windowCases`) take the 4 KiB leaf at 0x1000 (a window
 * [0, 0x2000)) or the level-1 node (a window [0, 2 MiB)), and protect the leaf at 0x1000.
 *
 * Scenes are built with events: an untracked page table with a cursor over [0, 4 MiB) (its guard
 * node the level-2 node), a 4 KiB leaf at 0x1000 and a 2 MiB leaf at 2 MiB; a user page table
 * with a frame mapped at 0x1000.
 */
import type { Draft } from 'immer'
import { frameToIndex, PAGE_SIZE, pageSize, REF_COUNT_MAX } from '../../../src/arch/constants.js'
import { newUser, PageFlags, type PageProperty } from '../../../src/arch/page_prop.js'
import { newPage } from '../../../src/arch/pte.js'
import type { Model } from '../../../src/api/model.js'
import type { PtConfigName } from '../../../src/arch/pt_config.js'
import type { LeafEntryOwner } from '../../../src/model/page_table.js'
import { clonedItem, setVa } from '../../../reducers/page_table/cursor.js'
import { fullVa, managedViewRange, nodeSpan, type PtCursor } from '../../../src/model/pt_cursor.js'
import { nodeOwnerAt } from '../../../src/model/spec/page_table.js'
import type { Snapshot } from '../../../src/model/snapshot.js'
import { tableGet, tableKeys, tableWith, type Table } from '../../../src/model/table.js'
import { StepRecorder, variantOf, type EventSpec, type ModelEvent, type Outcome } from '../../../reducers/types.js'
import { cursorDrop, cursorFindNext, cursorJump, cursorNext, cursorQuery, cursorVirtAddr, pageTableCursor, pageTableCursorMut } from '../../../reducers/page_table/cursor.js'
import { cursorMutMap, cursorMutProtectNext, cursorMutTakeNext, cursorMutUnmap } from '../../../reducers/page_table/cursor_mut.js'
import { edit, rejected, withVariantBothModes, corrupted, type FiringCase, type FiringOutcome } from '../harness.js'
import { plain, recordIn, setEntryOwner, setPteIn } from './pt_util.js'
import { setCells, stateWith, tableSet } from './util.js'

const K4 = PAGE_SIZE
const M2 = pageSize(2)
const RW = newUser(PageFlags.RW)
const RX = newUser(PageFlags.RX)

type Kind = 'Cursor' | 'CursorMut'
const KINDS: readonly Kind[] = ['Cursor', 'CursorMut']
const P = (kind: Kind, what: string): string => `${kind === 'Cursor' ? 'ENS-CURSOR' : 'ENS-CURSORMUT'}-${what}`
const R = (kind: Kind, what: string): string => `${kind === 'Cursor' ? 'REQ-CURSOR' : 'REQ-CURSORMUT'}-${what}`

// ---- scenes --------------------------------------------------------------------------------------

interface Scene {
  readonly pt: number
  readonly c: number
}

function newPt(m: Model, config: PtConfigName): number {
  return m.call<{ pageTable: number }>({ type: 'page_table.new', config }).pageTable
}

function open(m: Model, pt: number, start: number, end: number, kind: Kind = 'CursorMut'): number {
  return m.call<{ value: { cursor: number } }>({ type: kind === 'Cursor' ? 'page_table.cursor' : 'page_table.cursor_mut', pageTable: pt, vaStart: start, vaEnd: end }).value.cursor
}

function jump(m: Model, c: number, va: number): void {
  m.call({ type: 'cursor.jump', cursor: c, va })
}

/**
 * Untracked page table, a cursor of `kind` over [0, 4 MiB) at 0 (level 2 = guard level), a 4 KiB
 * leaf at 0x1000 (pa 1 MiB, in a level-1 node under level-2 entry 0) and a 2 MiB leaf at 2 MiB (pa 4 MiB).
 */
function scene(m: Model, kind: Kind = 'CursorMut'): Scene {
  const pt = newPt(m, 'untracked')
  let c = open(m, pt, 0, 2 * M2)
  jump(m, c, K4)
  m.call({ type: 'cursor_mut.map', cursor: c, item: { pa: 0x10_0000, level: 1, prop: RW } })
  jump(m, c, M2)
  m.call({ type: 'cursor_mut.map', cursor: c, item: { pa: 2 * M2, level: 2, prop: RW } })
  if (kind === 'Cursor') {
    m.call({ type: 'cursor.drop', cursor: c })
    c = open(m, pt, 0, 2 * M2, 'Cursor')
  } else jump(m, c, 0)
  return { pt, c }
}

/** `scene`, with the cursor at 0x1000 after a query there (level 1, below its guard level 2). */
function deepScene(m: Model, kind: Kind = 'CursorMut'): Scene {
  const s = scene(m, kind)
  jump(m, s.c, K4)
  m.call({ type: 'cursor.query', cursor: s.c })
  return s
}

/** User page table, a cursor of `kind` over [0, 4 MiB) at 0x1000, a frame mapped at 0x1000 (its paddr). */
function userScene(m: Model, kind: Kind = 'CursorMut'): Scene & { paddr: number } {
  const pt = newPt(m, 'user')
  let c = open(m, pt, 0, 2 * M2)
  const f = m.call<{ value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value
  jump(m, c, K4)
  m.call({ type: 'cursor_mut.map', cursor: c, item: { frame: f.frame, prop: RW } })
  if (kind === 'Cursor') {
    m.call({ type: 'cursor.drop', cursor: c })
    c = open(m, pt, 0, 2 * M2, 'Cursor')
  }
  jump(m, c, K4)
  return { pt, c, paddr: f.paddr }
}

/** Kernel page table, a CursorMut over 4 MiB at the start of its half, a frame mapped 4 KiB in (AVAIL1 in its PTE). */
function kernelScene(m: Model): Scene & { va: string } {
  const { pageTable: pt } = m.call<{ pageTable: number }>({ type: 'page_table.new_kernel' })
  const base = managedViewRange('kernel').start
  const c = m.call<{ value: { cursor: number } }>({ type: 'page_table.cursor_mut', pageTable: pt, vaStart: fullVa('kernel', base), vaEnd: fullVa('kernel', base + 2 * M2) } as ModelEvent).value.cursor
  const f = m.call<{ value: { frame: number } }>({ type: 'frame_alloc.alloc_frame' }).value
  const va = fullVa('kernel', base + K4) as string
  m.call({ type: 'cursor.jump', cursor: c, va } as ModelEvent)
  m.call({ type: 'cursor_mut.map', cursor: c, item: { frame: f.frame, prop: RW } })
  m.call({ type: 'cursor.jump', cursor: c, va } as ModelEvent)
  return { pt, c, va }
}

/** An item returned with AVAIL1 in its property (the kernel's PTE-only mark of a tracked item). */
function withAvail1<R>(r: R): R {
  const item = (r as { item?: { prop: PageProperty } } | null)?.item
  return item === undefined ? r : ({ ...r, item: { ...item, prop: { ...item.prop, flags: item.prop.flags | PageFlags.AVAIL1 } } } as R)
}

// ---- editing drafts --------------------------------------------------------------------------------

function cursorIn(d: Draft<Snapshot>, id: number): PtCursor {
  return plain(tableGet(d.pt.cursors as Table<PtCursor>, id)!)
}

function setCursor(d: Draft<Snapshot>, id: number, f: (c: PtCursor) => PtCursor): void {
  tableSet(d.pt.cursors, id, f(cursorIn(d, id)))
}

/** Sets fields of a cursor's ghost owner. */
function setOwner(d: Draft<Snapshot>, id: number, patch: Partial<PtCursor['owner']>): void {
  setCursor(d, id, (c) => ({ ...c, owner: { ...c.owner, ...patch } }))
}

/** The slot of a cursor's continuation at `level`. */
function contSlot(d: Draft<Snapshot>, id: number, level: number): number {
  return cursorIn(d, id).owner.continuations[level - 1]!.slot
}

/** Rewrites leaf `idx` of the node at `slot` with `prop` (owner and PTE word together: a consistent state). */
function retag(d: Draft<Snapshot>, slot: number, idx: number, prop: PageProperty): void {
  const r = recordIn(d, slot)
  const o = plain(tableGet(r.children, idx)) as Extract<LeafEntryOwner, { kind: 'frame' }>
  setEntryOwner(d, slot, idx, { ...o, frame: { ...o.frame, prop } })
  setPteIn(d, slot, idx, newPage(o.frame.mappedPa, r.level, prop))
}

/** Drops the guard node out of Guards (the lock byte stays 1: the cursor still holds it). */
function dropGuardLock(d: Draft<Snapshot>, id: number): void {
  const c = cursorIn(d, id)
  tableSet(d.pt.locks, c.owner.continuations[c.guardLevel - 1]!.slot, null)
}

// ---- running -----------------------------------------------------------------------------------------

type Variant = ReturnType<typeof variantOf>

/** `rejected` on the state `build` makes, edited by `fn` when given. */
function rejectedOn<T>(build: (m: Model) => T, event: (t: T) => ModelEvent, fn?: (d: Draft<Snapshot>, t: T) => void): FiringOutcome {
  let t: T | undefined
  const setup = (m: Model): void => void (t = build(m))
  if (fn === undefined) return rejected(setup, () => event(t!))
  return rejected(() => {}, () => event(t!), { initial: stateWith(setup, (d) => fn(d, t!)) })
}

/** Runs `act` with `variants` from the state `build` makes, in both modes. */
function variantOn<T>(variants: readonly Variant[], build: (m: Model) => T, act: (m: Model, t: T) => void): FiringOutcome {
  let t: T | undefined
  const initial = (m: Model): Snapshot => {
    t = build(m)
    return m.state
  }
  return withVariantBothModes(variants, (m) => act(m, t!), { initial })
}

/** A variant of `spec` whose outcome is edited by `f`. */
function after<E extends ModelEvent, R>(spec: EventSpec<E, R>, f: (s: Snapshot, e: E, out: Outcome<R>) => Outcome<R>): Variant {
  return variantOf(spec, (s, e) => f(s, e, spec.reduce(s, e)))
}

/** A variant whose post-state is edited by `fn`. */
function editing<E extends ModelEvent, R>(spec: EventSpec<E, R>, fn: (d: Draft<Snapshot>, e: NoInfer<E>, pre: Snapshot) => void): Variant {
  return after(spec, (s, e, out) => ({ ...out, snapshot: edit(out.snapshot, (d) => fn(d, e, s)) }))
}

/** A variant whose result is replaced. */
function returning<E extends ModelEvent, R>(spec: EventSpec<E, R>, fn: (r: R, s: Snapshot, e: E) => unknown): Variant {
  return after(spec, (s, e, out) => ({ ...out, result: fn(out.result, s, e) as R }))
}

const query = (m: Model, t: Scene): void => void m.call({ type: 'cursor.query', cursor: t.c })
/** The generic broken owner: leading bits that are not the configuration's (INV-CURSOR-8, nothing else). */
const breakOwner = (d: Draft<Snapshot>, e: { cursor: number }): void => setOwner(d, e.cursor, { leadingBits: 1 })

// ---- preconditions ---------------------------------------------------------------------------------

const reqCases: FiringCase[] = [
  {
    rule: 'REQ-VMSPACE-CURSOR-1',
    title: "cursor creation over a page table whose root owner breaks NodeOwner::inv (pt_own.inv())",
    run: () =>
      rejectedOn(
        (m) => newPt(m, 'untracked'),
        (pt) => ({ type: 'page_table.cursor', pageTable: pt, vaStart: 0, vaEnd: K4 }),
        (d, pt) => {
          const slot = tableGet(d.pt.tables as Table<{ rootPaddr: number }>, pt)!.rootPaddr / PAGE_SIZE
          tableSet(d.pt.owners, slot, { ...recordIn(d, slot), treeLevel: 3 })
        },
      ),
  },
  {
    rule: 'REQ-PTCURSOR-NEW-1',
    title: 'a second cursor over an overlapping range (OSTD would block forever)',
    run: () => rejectedOn(scene, (t) => ({ type: 'page_table.cursor', pageTable: t.pt, vaStart: M2, vaEnd: 3 * M2 })),
  },
  {
    rule: 'REQ-PTCURSOR-NEW-2',
    title: 'a cursor whose descent locks a node of the tree marked stray (OSTD would retry forever)',
    run: () =>
      rejectedOn(
        (m) => {
          const pt = newPt(m, 'untracked')
          const { rootPaddr } = tableGet(m.state.pt.tables, pt)!
          const { guard } = m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: rootPaddr })
          m.call({ type: 'page_table_guard.stray_mut.write', guard, value: true })
          m.call({ type: 'page_table_guard.drop', guard })
          return pt
        },
        (pt) => ({ type: 'page_table.cursor', pageTable: pt, vaStart: 0, vaEnd: pageSize(4) * 2 }),
      ),
  },
  {
    rule: 'REQ-PTCURSOR-FORGET-1',
    title: "a cursor forgets the guard of another page table's node",
    run: () =>
      rejectedOn(
        (m) => {
          const s = scene(m)
          const other = m.call<{ rootPaddr: number }>({ type: 'page_table.new', config: 'untracked' })
          return { ...s, guard: m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: other.rootPaddr }).guard }
        },
        (t) => ({ type: 'cursor.forget_guard', cursor: t.c, guard: t.guard }),
      ),
  },
  {
    rule: 'REQ-PTCURSOR-FORGET-1',
    title: "a cursor forgets the guard of its own page table's root, above its guard node (level 2)",
    run: () =>
      rejectedOn(
        (m) => {
          const s = scene(m)
          const { rootPaddr } = tableGet(m.state.pt.tables, s.pt)!
          return { ...s, guard: m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: rootPaddr }).guard }
        },
        (t) => ({ type: 'cursor.forget_guard', cursor: t.c, guard: t.guard }),
      ),
  },
  {
    rule: 'REQ-PTCURSOR-FORGET-1',
    title: "a cursor over [0, 4 MiB) forgets the guard of the level-1 node at 4 MiB: inside its guard node's span, off its range",
    run: () =>
      rejectedOn(
        (m) => {
          const pt = newPt(m, 'untracked')
          const made = open(m, pt, 2 * M2, 2 * M2 + K4)
          m.call({ type: 'cursor_mut.map', cursor: made, item: { pa: 0x10_0000, level: 1, prop: RW } })
          m.call({ type: 'cursor.drop', cursor: made })
          const c = open(m, pt, 0, 2 * M2)
          const node = tableKeys(m.state.pt.owners).find((slot) => {
            const r = nodeOwnerAt(m.state, slot)
            return r !== null && r.level === 1 && nodeSpan(r).start === 2 * M2
          })!
          return { c, guard: m.call<{ guard: number }>({ type: 'page_table_node_ref.lock', paddr: node * PAGE_SIZE }).guard }
        },
        (t) => ({ type: 'cursor.forget_guard', cursor: t.c, guard: t.guard }),
      ),
  },
  {
    rule: 'REQ-PTCURSOR-BORROW-1',
    title: 'dropping a page table while a cursor over it is live',
    run: () => rejectedOn(scene, (t) => ({ type: 'page_table.drop', pageTable: t.pt })),
  },
  {
    rule: 'REQ-PTCURSOR-KIND-1',
    title: 'map on a read-only Cursor',
    run: () => rejectedOn((m) => scene(m, 'Cursor'), (t) => ({ type: 'cursor_mut.map', cursor: t.c, item: { pa: 0, level: 1, prop: RW } })),
  },
  {
    rule: 'REQ-PTCURSOR-ITEM-1',
    title: 'a raw (pa, level, prop) item for a user page table',
    run: () => rejectedOn(userScene, (t) => ({ type: 'cursor_mut.map', cursor: t.c, item: { pa: 0, level: 1, prop: RW } })),
  },
  {
    rule: 'REQ-CURSOR-QUERY-2',
    title: "query of a tracked frame whose ref count is at REF_COUNT_MAX (the clone's overflow panic)",
    run: () => rejectedOn((m) => userScene(m, 'Cursor'), (t) => ({ type: 'cursor.query', cursor: t.c }), (d, t) => setCells(d, frameToIndex(t.paddr), { refCount: REF_COUNT_MAX })),
  },
  {
    rule: 'REQ-CURSOR-QUERY-1',
    title: "query on a Cursor whose owner breaks CursorOwner::inv (CI)",
    run: () => rejectedOn((m) => scene(m, 'Cursor'), (t) => ({ type: 'cursor.query', cursor: t.c }), (d, t) => breakOwner(d, { cursor: t.c })),
  },
  {
    rule: 'REQ-CURSORMUT-QUERY-1',
    title: "query on a CursorMut whose owner breaks CursorOwner::inv",
    run: () => rejectedOn(scene, (t) => ({ type: 'cursor.query', cursor: t.c }), (d, t) => breakOwner(d, { cursor: t.c })),
  },
  {
    rule: 'REQ-CURSORMUT-QUERY-2',
    title: 'query on a CursorMut whose guard node is not in Guards (nodes_locked)',
    run: () => rejectedOn(scene, (t) => ({ type: 'cursor.query', cursor: t.c }), (d, t) => dropGuardLock(d, t.c)),
  },
  {
    rule: 'REQ-CURSOR-JUMP-1',
    title: "jump on a Cursor whose owner breaks CursorOwner::inv",
    run: () => rejectedOn((m) => scene(m, 'Cursor'), (t) => ({ type: 'cursor.jump', cursor: t.c, va: K4 }), (d, t) => breakOwner(d, { cursor: t.c })),
  },
  {
    rule: 'REQ-CURSORMUT-JUMP-1',
    title: "jump on a CursorMut whose owner breaks CursorOwner::inv",
    run: () => rejectedOn(scene, (t) => ({ type: 'cursor.jump', cursor: t.c, va: K4 }), (d, t) => breakOwner(d, { cursor: t.c })),
  },
  {
    rule: 'REQ-CURSOR-JUMP-2',
    title: 'jump by a cursor whose guard node is not in Guards (nodes_locked)',
    run: () => rejectedOn((m) => scene(m, 'Cursor'), (t) => ({ type: 'cursor.jump', cursor: t.c, va: K4 }), (d, t) => dropGuardLock(d, t.c)),
  },
  {
    rule: 'REQ-CURSOR-JUMP-3',
    title: 'jump to an unaligned address (assert_eq! panics)',
    run: () => rejectedOn(scene, (t) => ({ type: 'cursor.jump', cursor: t.c, va: 0x1800 })),
  },
  ...KINDS.flatMap((kind): FiringCase[] => {
    const build = (m: Model): Scene => scene(m, kind)
    const ev = (len: number) => (t: Scene): ModelEvent => ({ type: 'cursor.find_next', cursor: t.c, len })
    return [
      { rule: R(kind, 'FINDNEXT-1'), title: `find_next on a ${kind} whose owner breaks CursorOwner::inv`, run: () => rejectedOn(build, ev(K4), (d, t) => breakOwner(d, { cursor: t.c })) },
      {
        rule: R(kind, 'FINDNEXT-2'),
        title: `find_next on a ${kind} that popped above its guard level (popped_too_high)`,
        run: () => rejectedOn(build, ev(K4), (d, t) => setOwner(d, t.c, { poppedTooHigh: true })),
      },
      { rule: R(kind, 'FINDNEXT-3'), title: `find_next on a ${kind} whose guard node is not in Guards`, run: () => rejectedOn(build, ev(K4), (d, t) => dropGuardLock(d, t.c)) },
      { rule: R(kind, 'FINDNEXT-4'), title: `find_next on a ${kind} with an unaligned length (panics)`, run: () => rejectedOn(build, ev(0x800)) },
    ]
  }),
  {
    rule: 'REQ-CURSORMUT-MAP-5',
    title: 'map of an item above the highest translation level (panics)',
    run: () => rejectedOn(scene, (t) => ({ type: 'cursor_mut.map', cursor: t.c, item: { pa: 0, level: 4, prop: RW } })),
  },
  {
    rule: 'REQ-CURSORMUT-MAP-1',
    title: 'map by a cursor above its guard level (map_cursor_requires)',
    run: () =>
      rejectedOn(scene, (t) => ({ type: 'cursor_mut.map', cursor: t.c, item: { pa: 0, level: 1, prop: RW } }), (d, t) => {
        setCursor(d, t.c, (c) => ({ ...c, level: 3, owner: { ...c.owner, level: 3 } }))
      }),
  },
  {
    rule: 'REQ-CURSORMUT-MAP-2',
    title: "map by a cursor whose owner breaks CursorOwner::inv (map_cursor_inv)",
    run: () => rejectedOn(scene, (t) => ({ type: 'cursor_mut.map', cursor: t.c, item: { pa: 0, level: 1, prop: RW } }), (d, t) => breakOwner(d, { cursor: t.c })),
  },
  {
    rule: 'REQ-CURSORMUT-MAP-3',
    title: 'map of an item whose property lacks R (it cannot be encoded)',
    run: () => rejectedOn(scene, (t) => ({ type: 'cursor_mut.map', cursor: t.c, item: { pa: 0, level: 1, prop: { ...RW, flags: PageFlags.W } } })),
  },
  {
    rule: 'REQ-CURSORMUT-MAP-4',
    title: "map of a tracked frame whose slot is not parked (item_slot_in_regions)",
    run: () =>
      rejectedOn(
        (m) => ({ ...userScene(m), f: m.call<{ value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value }),
        (t) => ({ type: 'cursor_mut.map', cursor: t.c, item: { frame: t.f.frame, prop: RW } }),
        (d, t) => tableSet(d.regions.unparked, frameToIndex(t.f.paddr), true),
      ),
  },
]

// ---- invariants ------------------------------------------------------------------------------------

/** A corrupted `scene` (or `deepScene`) cursor. */
function corruptCursor(edit: (d: Draft<Snapshot>, c: number) => void, deep = false): FiringOutcome {
  let c = -1
  return corrupted(
    (m) => void (c = (deep ? deepScene(m) : scene(m)).c),
    (d) => edit(d, c),
  )
}

/** Moves a cursor one level above its guard level without `popped_too_high`, its guard gone. */
function popAbove(d: Draft<Snapshot>, id: number): void {
  const c = cursorIn(d, id)
  const g = c.path[c.guardLevel - 1]!
  const slot = contSlot(d, id, c.guardLevel)
  const path = [...c.path]
  path[c.guardLevel - 1] = null
  const continuations = [...c.owner.continuations]
  continuations[c.guardLevel - 1] = null
  const level = c.guardLevel + 1
  tableSet(d.pt.cursors, id, { ...c, level, path, owner: { ...c.owner, level, continuations } })
  tableSet(d.pt.guards, g, null)
  tableSet(d.pt.locks, slot, null)
}

const invCases: FiringCase[] = [
  {
    rule: 'INV-CURSOR-1',
    title: "the cursor's address is not 4 KiB-aligned (va.offset != 0)",
    expect: ['INV-CURSOR-1', 'INV-CURSOR-12'],
    run: () => corruptCursor((d, c) => setCursor(d, c, (x) => ({ ...x, va: 0x800, owner: { ...x.owner, va: 0x800 } }))),
  },
  {
    rule: 'INV-CURSOR-2',
    title: "the cursor's address is past the managed root range",
    run: () => corruptCursor((d, c) => setCursor(d, c, (x) => ({ ...x, va: 257 * pageSize(4), owner: { ...x.owner, va: 257 * pageSize(4) } }))),
  },
  {
    rule: 'INV-CURSOR-3',
    title: "the owner's locked range starts above the cursor's address",
    expect: ['INV-CURSOR-13', 'INV-CURSOR-3'],
    run: () => corruptCursor((d, c) => setOwner(d, c, { lockedRange: { start: 2 * K4, end: 2 * M2 } })),
  },
  {
    rule: 'INV-CURSOR-4',
    title: 'the cursor is above its guard level inside its range without popped_too_high',
    run: () => corruptCursor((d, c) => popAbove(d, c)),
  },
  {
    rule: 'INV-CURSOR-5',
    title: "the entry the cursor descended through is a cursor-held (`locked`) owner, not the node it holds",
    run: () =>
      corruptCursor((d, c) => {
        const l2 = contSlot(d, c, 2)
        const r = recordIn(d, l2)
        setEntryOwner(d, l2, 0, { kind: 'locked', tree: r.tree, path: `${r.path}.0`, parentLevel: 2, inScope: false })
      }, true),
  },
  {
    rule: 'INV-CURSOR-6',
    title: "prefix is not the guard node's base (aligned to page_size(guard_level + 1)): the nodes the cursor holds are then outside it",
    expect: ['INV-CURSOR-6', 'INV-PTCURSOR-1'],
    run: () => corruptCursor((d, c) => setOwner(d, c, { prefix: K4 })),
  },
  {
    rule: 'INV-CURSOR-7',
    title: "the locked range ends past the configuration's VA range",
    run: () => corruptCursor((d, c) => setCursor(d, c, (x) => ({ ...x, barrierVa: { ...x.barrierVa, end: 2 ** 47 + K4 }, owner: { ...x.owner, lockedRange: { ...x.owner.lockedRange, end: 2 ** 47 + K4 } } }))),
  },
  {
    rule: 'INV-CURSOR-8',
    title: "the owner's leading bits are not the configuration's",
    run: () => corruptCursor((d, c) => setOwner(d, c, { leadingBits: 1 })),
  },
  {
    rule: 'INV-CURSOR-9',
    title: "below its guard level, the cursor's index in the guard node is not the guard continuation's",
    run: () => corruptCursor((d, c) => setCursor(d, c, (x) => ({ ...x, va: 2 * M2, owner: { ...x.owner, va: 2 * M2 } })), true),
  },
  {
    rule: 'INV-CURSOR-10',
    title: "inside its range, the current continuation's index is not the address's",
    run: () =>
      corruptCursor((d, c) => {
        const x = cursorIn(d, c)
        const continuations = [...x.owner.continuations]
        continuations[1] = { ...continuations[1]!, idx: 1 }
        setOwner(d, c, { continuations })
      }),
  },
  {
    rule: 'INV-CURSOR-11',
    title: "a continuation's guard does not lock its node",
    run: () =>
      corruptCursor((d, c) => {
        const x = cursorIn(d, c)
        const continuations = [...x.owner.continuations]
        continuations[1] = { ...continuations[1]!, guard: 99 }
        const path = [...x.path]
        path[1] = 99
        tableSet(d.pt.cursors, c, { ...x, path, owner: { ...x.owner, continuations } })
      }),
  },
  {
    rule: 'INV-CURSOR-12',
    title: 'the exec cursor is below its barrier range (with the owner agreeing)',
    expect: ['INV-CURSOR-12', 'INV-CURSOR-3'],
    run: () =>
      corruptCursor((d, c) => setCursor(d, c, (x) => ({ ...x, barrierVa: { ...x.barrierVa, start: 2 * K4 }, owner: { ...x.owner, lockedRange: { ...x.owner.lockedRange, start: 2 * K4 } } }))),
  },
  {
    rule: 'INV-CURSOR-13',
    title: "the exec address does not reflect the owner's",
    run: () => corruptCursor((d, c) => setCursor(d, c, (x) => ({ ...x, va: K4 }))),
  },
  {
    rule: 'INV-CURSOR-14',
    title: 'a node the cursor holds off its path has a guard (children_not_locked)',
    run: () =>
      corruptCursor((d, c) => {
        const l2 = contSlot(d, c, 2)
        const l1 = (plain(tableGet(recordIn(d, l2).children, 0)) as { slot: number }).slot
        tableSet(d.pt.locks, l1, true)
        tableSet(d.pt.guards, 99, { paddr: l1 * PAGE_SIZE })
      }),
  },
  {
    rule: 'INV-PTCURSOR-1',
    title: 'a cursor holds the root node, outside its guard node (with the lock byte set)',
    run: () =>
      corruptCursor((d, c) => {
        const root = contSlot(d, c, 4)
        setCursor(d, c, (x) => ({ ...x, locked: tableWith(x.locked, root, true) }))
        const cells = plain(tableGet(d.metaSlots as Table<{ storage: { kind: string } }>, root))!
        setCells(d, root, { storage: { ...(cells.storage as object), lock: 1 } as never })
      }),
  },
  {
    rule: 'INV-VIEW-3',
    title: "a frame entry of a user page table's node claimed by the kernel configuration maps outside the kernel VA range",
    expect: ['INV-VIEW-3'],
    run: () => {
      let slot = -1
      return corrupted(
        (m) => {
          const s = userScene(m)
          m.call({ type: 'cursor.drop', cursor: s.c })
          slot = [...Array(m.state.nrFrames).keys()].find((i) => nodeOwnerAt(m.state, i)?.level === 1)!
        },
        (d) => {
          const r = recordIn(d, slot)
          tableSet(d.pt.owners, slot, { ...r, config: 'kernel' })
          const cells = plain(tableGet(d.metaSlots as Table<{ storage: object }>, slot))!
          setCells(d, slot, { storage: { ...(cells.storage as object), config: 'kernel' } as never })
        },
      )
    },
  },
]

// ---- postconditions ---------------------------------------------------------------------------------

const newCursor = (m: Model, t: { pt: number }): void => void m.call({ type: 'page_table.cursor_mut', pageTable: t.pt, vaStart: 0, vaEnd: 2 * M2 })

const ensCreation: FiringCase[] = [
  {
    rule: 'ENS-VMSPACE-CURSOR-1',
    title: 'the new cursor starts one page into its range',
    run: () =>
      variantOn(
        [after(pageTableCursorMut, (_s, _e, out) => (out.result.ok ? { ...out, snapshot: setVa(out.snapshot, out.result.value.cursor, K4) } : out))],
        (m) => ({ pt: newPt(m, 'untracked') }),
        newCursor,
      ),
  },
  {
    rule: 'ENS-VMSPACE-CURSOR-2',
    title: 'an out-of-range creation reports UnalignedVaddr (the range check comes first)',
    run: () =>
      variantOn(
        [returning(pageTableCursor, (r) => (r.ok ? r : { ok: false, error: { kind: 'UnalignedVaddr' } }))],
        (m) => ({ pt: newPt(m, 'untracked') }),
        (m, t) => void m.call({ type: 'page_table.cursor', pageTable: t.pt, vaStart: 0, vaEnd: 2 ** 48 }),
      ),
  },
  {
    rule: 'ENS-VMSPACE-CURSOR-3',
    title: "creation adds a path to the root node's slot (in use before)",
    expect: ['ENS-VMSPACE-CURSOR-3', 'INV-TREE-6'],
    run: () =>
      variantOn(
        [
          editing(pageTableCursorMut, (d, e) => {
            const slot = tableGet(d.pt.tables as Table<{ rootPaddr: number }>, e.pageTable)!.rootPaddr / PAGE_SIZE
            const o = plain(tableGet(d.regions.slotOwners as Table<{ pathsInPt: string[] }>, slot))!
            tableSet(d.regions.slotOwners, slot, { ...(o as object), pathsInPt: ['0:9'] } as never)
          }),
        ],
        (m) => ({ pt: newPt(m, 'untracked') }),
        newCursor,
      ),
  },
  {
    rule: 'ENS-VMSPACE-CURSOR-4',
    title: "creation saturates a free slot's ref count",
    expect: ['ENS-VMSPACE-CURSOR-4', 'INV-SLOT-3'],
    run: () => variantOn([editing(pageTableCursorMut, (d) => setCells(d, 1000, { refCount: REF_COUNT_MAX }))], (m) => ({ pt: newPt(m, 'untracked') }), newCursor),
  },
  {
    rule: 'ENS-PTCURSOR-NEW-1',
    title: 'page_table.cursor makes a CursorMut',
    run: () =>
      variantOn(
        [editing(pageTableCursor, (d) => setCursor(d, 0, (c) => ({ ...c, kind: 'CursorMut' })))],
        (m) => ({ pt: newPt(m, 'untracked') }),
        (m, t) => void m.call({ type: 'page_table.cursor', pageTable: t.pt, vaStart: 0, vaEnd: 2 * M2 }),
      ),
  },
  {
    rule: 'ENS-PTCURSOR-DROP-1',
    title: 'the drop forgets the cursor without releasing its locks',
    expect: ['ENS-PTCURSOR-DROP-1', 'INV-GUARD-1'],
    run: () =>
      variantOn(
        [variantOf(cursorDrop, (s, e) => ({ snapshot: edit(s, (d) => tableSet(d.pt.cursors, e.cursor, null)), result: null }))],
        (m) => scene(m),
        (m, t) => void m.call({ type: 'cursor.drop', cursor: t.c }),
      ),
  },
]

function ensQueryCases(kind: Kind): FiringCase[] {
  const build = (m: Model): Scene => scene(m, kind)
  const at = (va: number) => (m: Model, t: Scene): void => {
    jump(m, t.c, va)
    query(m, t)
  }
  return [
    {
      rule: P(kind, 'VIRTADDR-1'),
      title: `virt_addr of a ${kind} returns the next page`,
      run: () => variantOn([returning(cursorVirtAddr, (r) => (r as number) + K4)], build, (m, t) => void m.call({ type: 'cursor.virt_addr', cursor: t.c })),
    },
    {
      rule: P(kind, 'QUERY-1'),
      title: `query leaves the ${kind}'s owner broken`,
      expect: [P(kind, 'QUERY-1'), 'INV-CURSOR-8'],
      run: () => variantOn([editing(cursorQuery, breakOwner)], build, query),
    },
    {
      rule: P(kind, 'QUERY-2'),
      title: `query of a ${kind} inside its range fails`,
      expect: [P(kind, 'QUERY-2'), P(kind, 'QUERY-4')],
      run: () => variantOn([variantOf(cursorQuery, (s) => ({ snapshot: s, result: { ok: false as const, error: { kind: 'InvalidVaddr' as const, va: 0 } } }))], build, query),
    },
    {
      rule: P(kind, 'QUERY-2'),
      title: `query by a ${kind} at the end of its range reports another address than the cursor's (InvalidVaddr(va))`,
      run: () =>
        variantOn(
          [returning(cursorQuery, (r) => (r.ok ? r : { ok: false as const, error: { kind: 'InvalidVaddr' as const, va: 0 } }))],
          build,
          (m, t) => {
            while (m.call<unknown>({ type: 'cursor.next', cursor: t.c }) !== null);
            query(m, t)
          },
        ),
    },
    {
      rule: P(kind, 'QUERY-3'),
      title: `query of an absent slot by a ${kind} returns a range that does not contain the address`,
      run: () => variantOn([returning(cursorQuery, (r) => (r.ok ? { ok: true, value: [{ start: 0x4000, end: 0x5000 }, null] } : r))], build, at(0x3000)),
    },
    {
      rule: P(kind, 'QUERY-4'),
      title: `query of a ${kind} in its locked range returns an error (the same clause as -2 while barrier_va == locked_range)`,
      expect: [P(kind, 'QUERY-2'), P(kind, 'QUERY-4')],
      run: () => variantOn([variantOf(cursorQuery, (s) => ({ snapshot: s, result: { ok: false as const, error: { kind: 'InvalidVaddr' as const, va: 0 } } }))], build, at(K4)),
    },
    {
      rule: P(kind, 'QUERY-5'),
      title: `query by a ${kind} returns the mapping with another property (query_item_spec)`,
      run: () => variantOn([returning(cursorQuery, (r) => (r.ok && r.value[1] !== null ? { ok: true, value: [r.value[0], { ...r.value[1], prop: RX }] } : r))], build, at(K4)),
    },
    {
      rule: P(kind, 'QUERY-6'),
      title: `query by a ${kind} changes another mapping's property`,
      run: () =>
        variantOn(
          [editing(cursorQuery, (d, e) => retag(d, (plain(tableGet(recordIn(d, contSlot(d, e.cursor, 2)).children, 0)) as { slot: number }).slot, 1, RX))],
          build,
          at(M2),
        ),
    },
  ]
}

/** Untracked page table, a cursor of `kind` over [0, 4 MiB) at 0x1000, where an untracked leaf maps a frame in use (untracked items may map any page). */
function untrackedOverFrameScene(m: Model, kind: Kind): Scene {
  const pt = newPt(m, 'untracked')
  let c = open(m, pt, 0, 2 * M2)
  const f = m.call<{ value: { frame: number; paddr: number } }>({ type: 'frame_alloc.alloc_frame' }).value
  jump(m, c, K4)
  m.call({ type: 'cursor_mut.map', cursor: c, item: { pa: f.paddr, level: 1, prop: RW } })
  if (kind === 'Cursor') {
    m.call({ type: 'cursor.drop', cursor: c })
    c = open(m, pt, 0, 2 * M2, 'Cursor')
  }
  jump(m, c, K4)
  return { pt, c }
}

/**
 * `query` that clones an untracked leaf as if it were tracked (its `item_from_raw` reading the
 * untracked configuration's item as a `Frame`): a new Frame handle of the page, one more reference
 * and obligation on it — every count consistent, only the item's kind wrong.
 */
const queryClonesUntracked = after(cursorQuery, (_s, _e, out) => {
  const r = out.result
  const item = r.ok ? r.value[1] : null
  if (!r.ok || item === null || !('pa' in item)) return out
  const rec = new StepRecorder(out.snapshot)
  const frame = clonedItem(rec, 'user', { kind: 'Frame', paddr: item.pa, level: item.level, prop: item.prop, config: 'user' })
  return { snapshot: rec.snapshot, result: { ok: true as const, value: [r.value[0], frame] as const }, steps: [...(out.steps ?? []), ...rec.steps] }
})

function ensQueryKind(kind: Kind): FiringCase {
  return {
    rule: P(kind, 'QUERY-5'),
    title: `query by a ${kind} returns an untracked leaf over a frame in use as a Frame (the untracked configuration's item_from_raw gives the raw triple)`,
    run: () => variantOn([queryClonesUntracked], (m) => untrackedOverFrameScene(m, kind), query),
  }
}

function ensQueryTracked(kind: Kind): FiringCase {
  return {
    rule: P(kind, 'QUERY-7'),
    title: `query by a ${kind} hands out a Frame handle without taking a reference`,
    expect: [P(kind, 'QUERY-7'), 'INV-ACCT-3'],
    run: () =>
      variantOn(
        [
          editing(cursorQuery, (d, _e, pre) => {
            // undo the clone's reference: rc back to its pre-state value (the handle and obligation stay)
            const f = [...Array(64).keys()].find((k) => tableGet(pre.frames, k) === null && tableGet(d.frames as Table<{ paddr: number }>, k) !== null)!
            const paddr = tableGet(d.frames as Table<{ paddr: number }>, f)!.paddr
            setCells(d, frameToIndex(paddr), { refCount: tableGet(pre.metaSlots, frameToIndex(paddr))!.refCount })
          }),
        ],
        (m) => userScene(m, kind),
        query,
      ),
  }
}

function ensJumpCases(kind: Kind): FiringCase[] {
  const build = (m: Model): Scene => scene(m, kind)
  const to = (va: number) => (m: Model, t: Scene): void => void m.call({ type: 'cursor.jump', cursor: t.c, va })
  return [
    { rule: P(kind, 'JUMP-1'), title: `jump leaves the ${kind}'s owner broken`, expect: [P(kind, 'JUMP-1'), 'INV-CURSOR-8'], run: () => variantOn([editing(cursorJump, breakOwner)], build, to(K4)) },
    {
      rule: P(kind, 'JUMP-2'),
      title: `a ${kind} jumps one page past the target`,
      run: () => variantOn([after(cursorJump, (_s, e, out) => (out.result.ok ? { ...out, snapshot: setVa(out.snapshot, e.cursor, (e.va as number) + K4) } : out))], build, to(K4)),
    },
    {
      rule: P(kind, 'JUMP-3'),
      title: `a ${kind}'s jump outside its range reports Ok`,
      run: () => variantOn([returning(cursorJump, () => ({ ok: true, value: null }))], build, to(3 * M2)),
    },
    {
      rule: P(kind, 'JUMP-3'),
      title: `a ${kind}'s jump outside its range reports another address than the one jumped to (InvalidVaddr(va))`,
      run: () => variantOn([returning(cursorJump, (r) => (r.ok ? r : { ok: false, error: { kind: 'InvalidVaddr', va: 0 } }))], build, to(3 * M2)),
    },
    {
      rule: P(kind, 'JUMP-4'),
      title: `a ${kind}'s jump changes a mapping's property`,
      run: () => variantOn([editing(cursorJump, (d, e) => retag(d, contSlot(d, e.cursor, 2), 1, RX))], build, to(K4)),
    },
  ]
}

function ensFindNextCases(kind: Kind): FiringCase[] {
  const build = (m: Model): Scene => scene(m, kind)
  const find = (len: number) => (m: Model, t: Scene): void => void m.call({ type: 'cursor.find_next', cursor: t.c, len })
  return [
    {
      rule: P(kind, 'FINDNEXT-1'),
      title: `find_next leaves the ${kind}'s owner broken`,
      expect: [P(kind, 'FINDNEXT-1'), P(kind, 'FINDNEXT-2'), 'INV-CURSOR-8'],
      run: () => variantOn([editing(cursorFindNext, breakOwner)], build, find(2 * M2)),
    },
    {
      rule: P(kind, 'FINDNEXT-2'),
      title: `find_next leaves the ${kind} popped_too_high`,
      expect: [P(kind, 'FINDNEXT-2'), 'INV-CURSOR-14'],
      // found at the guard level (the 2 MiB leaf): popped_too_high is then consistent with INV-CURSOR-4
      run: () =>
        variantOn([editing(cursorFindNext, (d, e) => setOwner(d, e.cursor, { poppedTooHigh: true }))], build, (m, t) => {
          jump(m, t.c, M2)
          find(M2)(m, t)
        }),
    },
    {
      rule: P(kind, 'FINDNEXT-3'),
      title: `find_next by a ${kind} reports the leaf one page later than where the cursor stopped`,
      expect: [P(kind, 'FINDNEXT-3'), P(kind, 'FINDNEXT-5')],
      run: () => variantOn([returning(cursorFindNext, (r) => (r === null ? r : (r as number) + K4))], build, find(2 * M2)),
    },
    {
      rule: P(kind, 'FINDNEXT-4'),
      title: `find_next by a ${kind} finds nothing but stays at its start`,
      run: () => variantOn([after(cursorFindNext, (s, e, out) => (out.result === null ? { ...out, snapshot: setVa(out.snapshot, e.cursor, tableGet(s.pt.cursors, e.cursor)!.va) } : out))], build, (m, t) => {
        jump(m, t.c, 0x2000)
        find(0x2000)(m, t)
      }),
    },
    {
      rule: P(kind, 'FINDNEXT-5'),
      title: `find_next by a ${kind} skips the leaf in its window (None, the cursor at the window end)`,
      run: () =>
        variantOn(
          [variantOf(cursorFindNext, (s, e) => ({ snapshot: setVa(s, e.cursor, tableGet(s.pt.cursors, e.cursor)!.va + e.len), result: null }))],
          build,
          find(0x4000),
        ),
    },
  ]
}

const ensNext: FiringCase = {
  rule: 'ENS-PTCURSOR-NEXT-1',
  title: 'next advances one page past the end of the slot it returned',
  run: () =>
    variantOn(
      [after(cursorNext, (_s, e, out) => (out.result === null ? out : { ...out, snapshot: setVa(out.snapshot, e.cursor, tableGet(out.snapshot.pt.cursors, e.cursor)!.va + K4) }))],
      (m) => scene(m),
      (m, t) => {
        jump(m, t.c, 0x3000)
        m.call({ type: 'cursor.next', cursor: t.c })
      },
    ),
}

/** A physical address no slot of the scenes is at (untracked items may map any address). */
const PA = 0x80_0000

const map1 = (va: number, item: object) => (m: Model, t: Scene): void => {
  jump(m, t.c, va)
  m.call({ type: 'cursor_mut.map', cursor: t.c, item })
}

const ensMap: FiringCase[] = [
  { rule: 'ENS-CURSORMUT-MAP-1', title: "map leaves the cursor's owner broken", expect: ['ENS-CURSORMUT-MAP-1', 'INV-CURSOR-8'], run: () => variantOn([editing(cursorMutMap, breakOwner)], scene, map1(0x3000, { pa: PA, level: 1, prop: RW })) },
  {
    rule: 'ENS-CURSORMUT-MAP-2',
    title: 'map installs the page with another property than the item (map_spec)',
    run: () => variantOn([editing(cursorMutMap, (d, e) => retag(d, (plain(tableGet(recordIn(d, contSlot(d, e.cursor, 2)).children, 0)) as { slot: number }).slot, 3, RX))], scene, map1(0x3000, { pa: PA, level: 1, prop: RW })),
  },
  {
    rule: 'ENS-CURSORMUT-MAP-3',
    title: 'map of an empty slot returns Err(Mapped)',
    expect: ['ENS-CURSORMUT-MAP-3', 'ENS-PTCURSOR-MAP-1'],
    // the cursor inside the level-1 node, whose entry 3 is absent
    run: () => variantOn([returning(cursorMutMap, () => ({ ok: false, error: { kind: 'Mapped', va: 0x3000, item: { pa: PA, level: 1, prop: RW } } }))], deepScene, map1(0x3000, { pa: PA, level: 1, prop: RW })),
  },
  {
    rule: 'ENS-CURSORMUT-MAP-4',
    title: 'a 4 KiB map reports the leaf it replaced as a stray page table',
    expect: ['ENS-CURSORMUT-MAP-4', 'ENS-PTCURSOR-MAP-1'],
    run: () => variantOn([returning(cursorMutMap, () => ({ ok: false, error: { kind: 'StrayPageTable', va: K4, len: K4, numFrames: 1, pt: 0 } }))], scene, map1(K4, { pa: PA, level: 1, prop: RW })),
  },
  {
    rule: 'ENS-CURSORMUT-MAP-5',
    title: "map adds a path to an unrelated node's slot",
    expect: ['ENS-CURSORMUT-MAP-5', 'INV-TREE-6'],
    run: () =>
      variantOn(
        [
          editing(cursorMutMap, (d, e) => {
            const slot = contSlot(d, e.cursor, 4)
            const o = plain(tableGet(d.regions.slotOwners as Table<{ pathsInPt: string[] }>, slot))!
            tableSet(d.regions.slotOwners, slot, { ...(o as object), pathsInPt: ['0:9'] } as never)
          }),
        ],
        scene,
        map1(0x3000, { pa: PA, level: 1, prop: RW }),
      ),
  },
  {
    rule: 'ENS-CURSORMUT-MAP-6',
    title: "map of a tracked frame takes an extra reference on it",
    expect: ['ENS-CURSORMUT-MAP-6', 'INV-ACCT-3'],
    run: () =>
      variantOn(
        [
          editing(cursorMutMap, (d, e, pre) => {
            const f = (e as unknown as { item: { frame: number } }).item.frame
            const idx = frameToIndex(tableGet(pre.frames, f)!.paddr)
            setCells(d, idx, { refCount: tableGet(pre.metaSlots, idx)!.refCount + 1 })
          }),
        ],
        (m) => ({ ...userScene(m), f: m.call<{ value: { frame: number } }>({ type: 'frame_alloc.alloc_frame' }).value.frame }),
        (m, t) => {
          jump(m, t.c, 0x3000)
          m.call({ type: 'cursor_mut.map', cursor: t.c, item: { frame: t.f, prop: RW } })
        },
      ),
  },
  {
    rule: 'ENS-PTCURSOR-MAP-1',
    title: 'map returns the replaced leaf with another property',
    run: () => variantOn([returning(cursorMutMap, (r) => (r.ok ? r : { ok: false, error: { ...(r.error as object), item: { pa: 0x10_0000, level: 1, prop: RX } } }))], scene, map1(K4, { pa: PA, level: 1, prop: RW })),
  },
]

// ---- take_next / unmap / protect_next ----------------------------------------------------------------

const takeNext = (len: number, va = 0) => (m: Model, t: Scene): void => {
  jump(m, t.c, va)
  m.call({ type: 'cursor_mut.take_next', cursor: t.c, len })
}
const protectNext = (len: number, prop: PageProperty = RX, va = 0) => (m: Model, t: Scene): void => {
  jump(m, t.c, va)
  m.call({ type: 'cursor_mut.protect_next', cursor: t.c, len, prop })
}
const unmap = (len: number, va = 0) => (m: Model, t: Scene): void => {
  jump(m, t.c, va)
  m.call({ type: 'cursor_mut.unmap', cursor: t.c, len })
}

/** A path added to the root node's slot (in use, not touched by the operation): breaks the frame rule and INV-TREE-6. */
function rootGainsPath(d: Draft<Snapshot>, e: { cursor: number }): void {
  const slot = contSlot(d, e.cursor, 4)
  const o = plain(tableGet(d.regions.slotOwners as Table<{ pathsInPt: string[] }>, slot))!
  tableSet(d.regions.slotOwners, slot, { ...(o as object), pathsInPt: ['0:9'] } as never)
}

/** Retags the scene's 2 MiB leaf (entry 1 of the level-2 guard node) with RX. */
function retagHuge(d: Draft<Snapshot>, e: { cursor: number }): void {
  retag(d, contSlot(d, e.cursor, 2), 1, RX)
}

/** `unmap` that forgets to drop the page tables it takes (the detached sub-tree and its handle are left behind). */
const unmapKeepsStray = variantOf(cursorMutUnmap, (s, e) => {
  const rec = new StepRecorder(s)
  const end = tableGet(s.pt.cursors, e.cursor)!.va + e.len
  let count = 0
  for (;;) {
    const frag = rec.run(cursorMutTakeNext, { type: 'cursor_mut.take_next', cursor: e.cursor, len: end - tableGet(rec.snapshot.pt.cursors, e.cursor)!.va })
    if (frag === null) break
    count += frag.kind === 'Mapped' ? 1 : frag.numFrames
  }
  return { snapshot: rec.snapshot, result: count, steps: rec.steps }
})

const windowCases: FiringCase[] = [
  { rule: 'REQ-CURSORMUT-UNMAP-1', title: 'take_next with an unaligned length (panics)', run: () => rejectedOn(scene, (t) => ({ type: 'cursor_mut.take_next', cursor: t.c, len: 0x800 })) },
  { rule: 'REQ-CURSORMUT-UNMAP-3', title: 'unmap past the end of the range (panics)', run: () => rejectedOn(scene, (t) => ({ type: 'cursor_mut.unmap', cursor: t.c, len: 3 * M2 })) },
  {
    rule: 'REQ-CURSORMUT-UNMAP-2',
    title: "take_next by a cursor whose address is not page-aligned",
    run: () => rejectedOn(scene, (t) => ({ type: 'cursor_mut.take_next', cursor: t.c, len: K4 }), (d, t) => setCursor(d, t.c, (x) => ({ ...x, va: 0x1800, owner: { ...x.owner, va: 0x1800 } }))),
  },
  { rule: 'REQ-PTCURSOR-TAKENEXT-1', title: "take_next by a cursor whose owner breaks CursorOwner::inv", run: () => rejectedOn(scene, (t) => ({ type: 'cursor_mut.take_next', cursor: t.c, len: K4 }), (d, t) => breakOwner(d, { cursor: t.c })) },
  { rule: 'REQ-CURSORMUT-PROTECTNEXT-4', title: 'protect_next with an unaligned length (panics)', run: () => rejectedOn(scene, (t) => ({ type: 'cursor_mut.protect_next', cursor: t.c, len: 0x800, prop: RX })) },
  { rule: 'REQ-CURSORMUT-PROTECTNEXT-1', title: "protect_next by a cursor whose owner breaks CursorOwner::inv", run: () => rejectedOn(scene, (t) => ({ type: 'cursor_mut.protect_next', cursor: t.c, len: K4, prop: RX }), (d, t) => breakOwner(d, { cursor: t.c })) },
  { rule: 'REQ-CURSORMUT-PROTECTNEXT-3', title: 'protect_next by a cursor whose guard node is not in Guards (nodes_locked)', run: () => rejectedOn(scene, (t) => ({ type: 'cursor_mut.protect_next', cursor: t.c, len: K4, prop: RX }), (d, t) => dropGuardLock(d, t.c)) },
  {
    rule: 'REQ-CURSORMUT-PROTECTNEXT-5',
    title: 'protect_next whose op removes R from the leaf it finds (the result cannot be a PTE property)',
    run: () => rejectedOn(scene, (t) => ({ type: 'cursor_mut.protect_next', cursor: t.c, len: M2, prop: { ...RW, flags: PageFlags.W } })),
  },
  // take_next of the 4 KiB leaf at 0x1000 (window [0, 0x2000)), or of the level-1 node (window [0, 2 MiB))
  { rule: 'ENS-PTCURSOR-TAKENEXT-1', title: "take_next leaves the cursor's owner broken", expect: ['ENS-PTCURSOR-TAKENEXT-1', 'INV-CURSOR-8'], run: () => variantOn([editing(cursorMutTakeNext, breakOwner)], scene, takeNext(2 * K4)) },
  {
    rule: 'ENS-PTCURSOR-TAKENEXT-3',
    title: 'take_next in a kernel page table returns the tracked item with AVAIL1 still in its property',
    run: () => variantOn([returning(cursorMutTakeNext, (r) => withAvail1(r))], kernelScene, (m, t) => void m.call({ type: 'cursor_mut.take_next', cursor: t.c, len: K4 })),
  },
  {
    rule: P('CursorMut', 'QUERY-5'),
    title: 'query in a kernel page table returns the tracked item with AVAIL1 still in its property',
    run: () =>
      variantOn(
        [returning(cursorQuery, (r) => (r.ok && r.value[1] !== null ? { ok: true, value: [r.value[0], withAvail1({ item: r.value[1] }).item] } : r))],
        kernelScene,
        (m, t) => void m.call({ type: 'cursor.query', cursor: t.c }),
      ),
  },
  { rule: 'ENS-PTCURSOR-TAKENEXT-2', title: 'take_next also changes the property of the 2 MiB leaf outside its window', run: () => variantOn([editing(cursorMutTakeNext, retagHuge)], scene, takeNext(2 * K4)) },
  {
    rule: 'ENS-PTCURSOR-TAKENEXT-3',
    title: 'take_next of a level-1 node reports no frames in it (forgets num_frames)',
    run: () => variantOn([returning(cursorMutTakeNext, (r) => (r !== null && r.kind === 'StrayPageTable' ? { ...r, numFrames: 0 } : r))], scene, takeNext(M2)),
  },
  {
    rule: 'ENS-PTCURSOR-TAKENEXT-4',
    title: 'take_next leaves the cursor one page past the leaf it removed',
    run: () => variantOn([after(cursorMutTakeNext, (_s, e, out) => ({ ...out, snapshot: setVa(out.snapshot, e.cursor, tableGet(out.snapshot.pt.cursors, e.cursor)!.va + K4) }))], scene, takeNext(2 * K4)),
  },
  { rule: 'ENS-PTCURSOR-TAKENEXT-5', title: "take_next adds a path to the root node's slot", expect: ['ENS-PTCURSOR-TAKENEXT-5', 'INV-TREE-6'], run: () => variantOn([editing(cursorMutTakeNext, rootGainsPath)], scene, takeNext(2 * K4)) },
  { rule: 'ENS-CURSORMUT-PROTECTNEXT-1', title: "protect_next leaves the cursor's owner broken", expect: ['ENS-CURSORMUT-PROTECTNEXT-1', 'INV-CURSOR-8'], run: () => variantOn([editing(cursorMutProtectNext, breakOwner)], scene, protectNext(2 * K4)) },
  {
    rule: 'ENS-CURSORMUT-PROTECTNEXT-2',
    title: 'protect_next reports the next slot as the one it protected',
    run: () => variantOn([returning(cursorMutProtectNext, (r) => (r === null ? r : { start: (r.start as number) + K4, end: (r.end as number) + K4 }))], scene, protectNext(2 * K4)),
  },
  { rule: 'ENS-CURSORMUT-PROTECTNEXT-3', title: "protect_next adds a path to the root node's slot", expect: ['ENS-CURSORMUT-PROTECTNEXT-3', 'INV-TREE-6'], run: () => variantOn([editing(cursorMutProtectNext, rootGainsPath)], scene, protectNext(2 * K4)) },
  {
    rule: 'ENS-CURSORMUT-UNMAP-1',
    title: 'unmap leaves the window mapped (it only moves the cursor to the window end)',
    run: () => variantOn([variantOf(cursorMutUnmap, (s, e) => ({ snapshot: setVa(s, e.cursor, tableGet(s.pt.cursors, e.cursor)!.va + e.len), result: 0 }))], scene, unmap(M2)),
  },
  { rule: 'ENS-CURSORMUT-UNMAP-2', title: 'unmap counts one frame more than it unmapped', run: () => variantOn([returning(cursorMutUnmap, (r) => r + 1)], scene, unmap(M2)) },
  { rule: 'ENS-CURSORMUT-UNMAP-3', title: 'unmap forgets to drop the page table it takes (the sub-tree is not freed)', run: () => variantOn([unmapKeepsStray], scene, unmap(M2)) },
]

export const ptCursorCases: FiringCase[] = [
  ...reqCases,
  ...invCases,
  ...ensCreation,
  ...KINDS.flatMap((k) => [...ensQueryCases(k), ensQueryTracked(k), ensQueryKind(k), ...ensJumpCases(k), ...ensFindNextCases(k)]),
  ensNext,
  ...ensMap,
  ...windowCases,
]
