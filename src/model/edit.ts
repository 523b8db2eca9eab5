/**
 * How reducers build the next snapshot: `editSnapshot(pre, (d, t) => …)`. Records (counters,
 * allocator marks, …) are edited through the immer draft `d`; tables through the editors `t`,
 * which copy only the chunks a write touches, each at most once per transaction. The result is a
 * new snapshot sharing every unchanged part with `pre`.
 */
import type { ChildValue, LeafEntryOwner, PageTableHandle, PtEntryHandle, PtGuardHandle, PtNodeHandle, PtNodeOwner } from './page_table.js'
import type { PtCursor } from './pt_cursor.js'
import type { MetaSlot, MetaSlotOwner, Snapshot, UniqueFrameOwner } from './snapshot.js'
import { produce, snapshotFreezing, type Draft } from './immer.js'
import { deepFreeze, TableEditor, type Table } from './table.js'

/** Where each table lives in the snapshot. */
const TABLE_PATHS = {
  metaSlots: ['metaSlots'],
  memory: ['memory'],
  slotOwners: ['regions', 'slotOwners'],
  unparked: ['regions', 'unparked'],
  frameObligations: ['regions', 'frameObligations'],
  uniqueOwners: ['uniqueOwners'],
  frames: ['frames'],
  segments: ['segments'],
  uniqueFrames: ['uniqueFrames'],
  lists: ['lists'],
  vmIos: ['vmIos'],
  freeStack: ['allocator', 'freeStack'],
  ptNodes: ['pt', 'nodes'],
  ptGuards: ['pt', 'guards'],
  ptEntries: ['pt', 'entries'],
  ptChildren: ['pt', 'children'],
  ptOwners: ['pt', 'owners'],
  ptChildOwners: ['pt', 'childOwners'],
  ptLocks: ['pt', 'locks'],
  ptTables: ['pt', 'tables'],
  ptCursors: ['pt', 'cursors'],
} as const

type TableName = keyof typeof TABLE_PATHS

type PtTableValue<K extends TableName> = K extends 'ptNodes'
  ? PtNodeHandle
  : K extends 'ptGuards'
    ? PtGuardHandle
    : K extends 'ptEntries'
      ? PtEntryHandle
      : K extends 'ptChildren'
        ? ChildValue
        : K extends 'ptOwners'
          ? PtNodeOwner
          : K extends 'ptChildOwners'
            ? LeafEntryOwner
            : K extends 'ptLocks'
              ? true
              : K extends 'ptTables'
                ? PageTableHandle
                : K extends 'ptCursors'
                  ? PtCursor
                  : never

type TableValue<K extends TableName> = K extends `pt${string}`
  ? PtTableValue<K>
  : K extends 'metaSlots'
  ? MetaSlot
  : K extends 'memory'
    ? Uint8Array
    : K extends 'slotOwners'
      ? MetaSlotOwner
      : K extends 'unparked'
        ? true
        : K extends 'frameObligations' | 'freeStack'
          ? number
          : K extends 'uniqueOwners'
            ? UniqueFrameOwner
            : K extends 'frames' | 'segments' | 'uniqueFrames' | 'lists' | 'vmIos'
              ? Snapshot[K] extends Table<infer V> ? V : never
              : never

/** Lazily created table editors over the pre-state's tables. */
export type Tables = { readonly [K in TableName]: TableEditor<TableValue<K>> }

function tableAt(s: Snapshot, name: TableName): Table<unknown> {
  let node: unknown = s
  for (const key of TABLE_PATHS[name]) node = (node as Record<string, unknown>)[key]
  return node as Table<unknown>
}

/** The table editors of one transaction, each created on first use. */
class TableSet implements Tables {
  #metaSlots: TableEditor<unknown> | undefined
  #memory: TableEditor<unknown> | undefined
  #slotOwners: TableEditor<unknown> | undefined
  #unparked: TableEditor<unknown> | undefined
  #frameObligations: TableEditor<unknown> | undefined
  #uniqueOwners: TableEditor<unknown> | undefined
  #frames: TableEditor<unknown> | undefined
  #segments: TableEditor<unknown> | undefined
  #uniqueFrames: TableEditor<unknown> | undefined
  #lists: TableEditor<unknown> | undefined
  #vmIos: TableEditor<unknown> | undefined
  #freeStack: TableEditor<unknown> | undefined
  #ptNodes: TableEditor<unknown> | undefined
  #ptGuards: TableEditor<unknown> | undefined
  #ptEntries: TableEditor<unknown> | undefined
  #ptChildren: TableEditor<unknown> | undefined
  #ptOwners: TableEditor<unknown> | undefined
  #ptChildOwners: TableEditor<unknown> | undefined
  #ptLocks: TableEditor<unknown> | undefined
  #ptTables: TableEditor<unknown> | undefined
  #ptCursors: TableEditor<unknown> | undefined
  readonly opened: Array<[TableName, TableEditor<unknown>]> = []

  constructor(
    private readonly pre: Snapshot,
    private readonly freezeValue: ((v: unknown) => void) | null,
  ) {}

  private open(name: TableName): TableEditor<unknown> {
    const ed = new TableEditor(tableAt(this.pre, name), this.freezeValue)
    this.opened.push([name, ed])
    return ed
  }

  get metaSlots(): TableEditor<TableValue<'metaSlots'>> {
    return (this.#metaSlots ??= this.open('metaSlots')) as TableEditor<TableValue<'metaSlots'>>
  }
  get memory(): TableEditor<TableValue<'memory'>> {
    return (this.#memory ??= this.open('memory')) as TableEditor<TableValue<'memory'>>
  }
  get slotOwners(): TableEditor<TableValue<'slotOwners'>> {
    return (this.#slotOwners ??= this.open('slotOwners')) as TableEditor<TableValue<'slotOwners'>>
  }
  get unparked(): TableEditor<TableValue<'unparked'>> {
    return (this.#unparked ??= this.open('unparked')) as TableEditor<TableValue<'unparked'>>
  }
  get frameObligations(): TableEditor<TableValue<'frameObligations'>> {
    return (this.#frameObligations ??= this.open('frameObligations')) as TableEditor<TableValue<'frameObligations'>>
  }
  get uniqueOwners(): TableEditor<TableValue<'uniqueOwners'>> {
    return (this.#uniqueOwners ??= this.open('uniqueOwners')) as TableEditor<TableValue<'uniqueOwners'>>
  }
  get frames(): TableEditor<TableValue<'frames'>> {
    return (this.#frames ??= this.open('frames')) as TableEditor<TableValue<'frames'>>
  }
  get segments(): TableEditor<TableValue<'segments'>> {
    return (this.#segments ??= this.open('segments')) as TableEditor<TableValue<'segments'>>
  }
  get uniqueFrames(): TableEditor<TableValue<'uniqueFrames'>> {
    return (this.#uniqueFrames ??= this.open('uniqueFrames')) as TableEditor<TableValue<'uniqueFrames'>>
  }
  get lists(): TableEditor<TableValue<'lists'>> {
    return (this.#lists ??= this.open('lists')) as TableEditor<TableValue<'lists'>>
  }
  get vmIos(): TableEditor<TableValue<'vmIos'>> {
    return (this.#vmIos ??= this.open('vmIos')) as TableEditor<TableValue<'vmIos'>>
  }
  get freeStack(): TableEditor<TableValue<'freeStack'>> {
    return (this.#freeStack ??= this.open('freeStack')) as TableEditor<TableValue<'freeStack'>>
  }
  get ptNodes(): TableEditor<TableValue<'ptNodes'>> {
    return (this.#ptNodes ??= this.open('ptNodes')) as TableEditor<TableValue<'ptNodes'>>
  }
  get ptGuards(): TableEditor<TableValue<'ptGuards'>> {
    return (this.#ptGuards ??= this.open('ptGuards')) as TableEditor<TableValue<'ptGuards'>>
  }
  get ptEntries(): TableEditor<TableValue<'ptEntries'>> {
    return (this.#ptEntries ??= this.open('ptEntries')) as TableEditor<TableValue<'ptEntries'>>
  }
  get ptChildren(): TableEditor<TableValue<'ptChildren'>> {
    return (this.#ptChildren ??= this.open('ptChildren')) as TableEditor<TableValue<'ptChildren'>>
  }
  get ptOwners(): TableEditor<TableValue<'ptOwners'>> {
    return (this.#ptOwners ??= this.open('ptOwners')) as TableEditor<TableValue<'ptOwners'>>
  }
  get ptChildOwners(): TableEditor<TableValue<'ptChildOwners'>> {
    return (this.#ptChildOwners ??= this.open('ptChildOwners')) as TableEditor<TableValue<'ptChildOwners'>>
  }
  get ptLocks(): TableEditor<TableValue<'ptLocks'>> {
    return (this.#ptLocks ??= this.open('ptLocks')) as TableEditor<TableValue<'ptLocks'>>
  }
  get ptTables(): TableEditor<TableValue<'ptTables'>> {
    return (this.#ptTables ??= this.open('ptTables')) as TableEditor<TableValue<'ptTables'>>
  }
  get ptCursors(): TableEditor<TableValue<'ptCursors'>> {
    return (this.#ptCursors ??= this.open('ptCursors')) as TableEditor<TableValue<'ptCursors'>>
  }
}

export function editSnapshot(pre: Snapshot, recipe: (d: Draft<Snapshot>, t: Tables) => void): Snapshot {
  const tables = new TableSet(pre, snapshotFreezing() ? deepFreeze : null)
  return produce(pre, (d) => {
    recipe(d, tables)
    for (const [name, ed] of tables.opened) {
      const next = ed.done()
      if (next === tableAt(pre, name)) continue
      const path = TABLE_PATHS[name]
      let node = d as unknown as Record<string, unknown>
      for (let k = 0; k < path.length - 1; k++) node = node[path[k]!] as Record<string, unknown>
      node[path[path.length - 1]!] = next
    }
  })
}
