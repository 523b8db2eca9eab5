/**
 * How reducers build the next snapshot: `editSnapshot(pre, (d, t) => …)`. Records (counters,
 * allocator marks, …) are edited through the immer draft `d`; tables through the editors `t`,
 * which copy only the chunks a write touches, each at most once per transaction. The result is a
 * new snapshot sharing every unchanged part with `pre`.
 */
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
} as const

type TableName = keyof typeof TABLE_PATHS

type TableValue<K extends TableName> = K extends 'metaSlots'
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

/** The table editors of one transaction, created on first use. */
class TableSet {
  readonly editors = new Map<TableName, TableEditor<unknown>>()
  constructor(
    private readonly pre: Snapshot,
    private readonly freezeValue: ((v: unknown) => void) | null,
  ) {}

  editor(name: TableName): TableEditor<unknown> {
    let ed = this.editors.get(name)
    if (ed === undefined) this.editors.set(name, (ed = new TableEditor(tableAt(this.pre, name), this.freezeValue)))
    return ed
  }
}

for (const name of Object.keys(TABLE_PATHS) as TableName[]) {
  Object.defineProperty(TableSet.prototype, name, {
    get(this: TableSet) {
      return this.editor(name)
    },
  })
}

export function editSnapshot(pre: Snapshot, recipe: (d: Draft<Snapshot>, t: Tables) => void): Snapshot {
  const tables = new TableSet(pre, snapshotFreezing() ? deepFreeze : null)
  return produce(pre, (d) => {
    recipe(d, tables as unknown as Tables)
    for (const [name, ed] of tables.editors) {
      const next = ed.done()
      if (next === tableAt(pre, name)) continue
      const path = TABLE_PATHS[name]
      let node = d as unknown as Record<string, unknown>
      for (let k = 0; k < path.length - 1; k++) node = node[path[k]!] as Record<string, unknown>
      node[path[path.length - 1]!] = next
    }
  })
}
