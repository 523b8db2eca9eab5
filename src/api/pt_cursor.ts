/**
 * Page-table cursors (`page_table::Cursor` / `CursorMut`; API.md "Page tables"): thin handles over
 * the `cursor.*` / `cursor_mut.*` events of reducers/page_table/cursor.ts and cursor_mut.ts. Every
 * method dispatches exactly one event (behaviour.md §2.5 is what they do).
 *
 * Addresses come back as `VirtAddr`: a `number` when exact (user and untracked tables), a `bigint`
 * for kernel upper-half addresses. Tracked items come back as `Frame` handles the caller owns
 * (`query` / `next` clone the frame: rc + 1; `map`'s `Err` and `takeNext` hand back the page
 * table's reference). A `StrayPageTable` fragment carries the detached sub-tree's top node as a
 * `PageTableNode` handle; dropping it frees the sub-tree.
 */
import { OstdPanic } from '../arch/errors.js'
import type { PageProperty } from '../arch/page_prop.js'
import { cursorAt, cursorRootSlot, type PtCursor } from '../model/pt_cursor.js'
import { firstMappingFrom, mappingAt } from '../model/pt_view.js'
import type { MappedItemOut, PageTableError, QueryValue, RangeOut, VaOut } from '../../reducers/page_table/cursor.js'
import type { PageTableFragOut } from '../../reducers/page_table/cursor_mut.js'
import { Frame } from './frame.js'
import { Handle } from './handle.js'
import type { Model } from './model.js'
import { mapOk, type Result } from './result.js'
import { vaArg, virtAddrOf, type VirtAddr } from './vaddr.js'

/** `Range<Vaddr>`. */
export interface VaRangeOut {
  readonly start: VirtAddr
  readonly end: VirtAddr
}

/** `MappedItem` (API.md): a tracked frame or an untracked `(pa, level, prop)` triple. */
export type MappedItem = { readonly frame: Frame; readonly prop: PageProperty } | { readonly pa: number; readonly level: number; readonly prop: PageProperty }

/** `PageTableFrag` (API.md). */
export type PageTableFrag =
  | { readonly kind: 'Mapped'; readonly va: VirtAddr; readonly item: MappedItem }
  | { readonly kind: 'StrayPageTable'; readonly va: VirtAddr; readonly len: number; readonly numFrames: number; readonly pt: PageTableNode }

export type { PageTableError }

/** What `map` takes: a `Frame` the page table takes over (moved), or an untracked triple. */
export type MapItem = { readonly frame: Frame; readonly prop: PageProperty } | { readonly pa: number; readonly level: number; readonly prop: PageProperty }

function rangeOf(r: RangeOut): VaRangeOut {
  return { start: virtAddrOf(r.start), end: virtAddrOf(r.end) }
}

function itemOf(model: Model, item: MappedItemOut): MappedItem {
  return 'frame' in item ? { frame: new Frame(model, item.frame), prop: item.prop } : item
}

function fragOf(model: Model, f: PageTableFragOut): PageTableFrag {
  if (f.kind === 'Mapped') return { kind: 'Mapped', va: virtAddrOf(f.va), item: itemOf(model, f.item) }
  return { kind: 'StrayPageTable', va: virtAddrOf(f.va), len: f.len, numFrames: f.numFrames, pt: new PageTableNode(model, f.pt) }
}

function queryOf(model: Model, [range, item]: QueryValue): [VaRangeOut, MappedItem | null] {
  return [rangeOf(range), item === null ? null : itemOf(model, item)]
}

/** A page-table node handle (`PageTableNode<C>`), as a `StrayPageTable` fragment hands it out. */
export class PageTableNode extends Handle {
  protected get kind(): string {
    return 'PageTableNode'
  }

  /** `level()`. */
  level(): number {
    this.live()
    return this.model.call<number>({ type: 'page_table_node.level', node: this.id })
  }

  /** Drops the handle: the last reference frees the node and the sub-tree under it. */
  drop(): void {
    this.consume(() => this.model.dispatch({ type: 'page_table_node.drop', node: this.id }))
  }
}

/** A read-only page-table cursor (`Cursor<'_, C>`). */
export class Cursor extends Handle {
  protected get kind(): string {
    return 'Cursor'
  }

  /** The live cursor's state; throws if the handle was dropped. */
  protected entry(): PtCursor {
    this.live()
    const c = cursorAt(this.model.state, this.id)
    if (c === null) throw new OstdPanic('REQ-HANDLE-1', `${this.kind} ${this.id} is not a live cursor`, 'requires')
    return c
  }

  /** `virt_addr()`: the current address. */
  virtAddr(): VirtAddr {
    this.live()
    return virtAddrOf(this.model.call<VaOut>({ type: 'cursor.virt_addr', cursor: this.id }))
  }

  /** `query()`: the slot at the cursor (its whole range at the leaf's level) and its item; does not move. */
  query(): Result<[VaRangeOut, MappedItem | null], PageTableError> {
    this.live()
    const r = this.model.call<Result<QueryValue, PageTableError>>({ type: 'cursor.query', cursor: this.id })
    return mapOk(r, (v) => queryOf(this.model, v))
  }

  /** `Iterator::next()`: `query()` then advance past the slot; null once past the end. */
  next(): [VaRangeOut, MappedItem | null] | null {
    this.live()
    const r = this.model.call<QueryValue | null>({ type: 'cursor.next', cursor: this.id })
    return r === null ? null : queryOf(this.model, r)
  }

  /** `jump(va)`: `Err(InvalidVaddr)` outside the range; an unaligned `va` panics. */
  jump(va: VirtAddr): Result<null, PageTableError> {
    this.live()
    return this.model.call<Result<null, PageTableError>>({ type: 'cursor.jump', cursor: this.id, va: vaArg(va) })
  }

  /** `find_next(len)`: the start of the first leaf in `[va, va + len)`, the cursor left there; null if none. */
  findNext(lenBytes: number): VirtAddr | null {
    this.live()
    const r = this.model.call<VaOut | null>({ type: 'cursor.find_next', cursor: this.id, len: lenBytes })
    return r === null ? null : virtAddrOf(r)
  }

  /** Drops the cursor, releasing its range lock. */
  drop(): void {
    this.consume(() => this.model.dispatch({ type: 'cursor.drop', cursor: this.id }))
  }
}

/** A page-table cursor that can modify (`CursorMut<'_, C>`). */
export class CursorMut extends Cursor {
  protected override get kind(): string {
    return 'CursorMut'
  }

  /**
   * `map(item)`: maps one page of the item's level at the cursor and advances by its size. An
   * occupied slot is replaced and the old mapping comes back as `Err(Mapped)` — the new mapping is
   * live either way. A frame item is moved into the page table (its handle is consumed); a panic
   * leaves it with the caller, as it leaves the state unchanged.
   */
  map(item: MapItem): Result<null, PageTableFrag> {
    this.live()
    if ('frame' in item) {
      const frame = item.frame
      return Handle.take(frame, (model) => {
        const r = model.call<Result<null, PageTableFragOut>>({ type: 'cursor_mut.map', cursor: this.id, item: { frame: frame.id, prop: item.prop } })
        return r.ok ? r : { ok: false as const, error: fragOf(model, r.error) }
      })
    }
    const r = this.model.call<Result<null, PageTableFragOut>>({ type: 'cursor_mut.map', cursor: this.id, item: { pa: item.pa, level: item.level, prop: item.prop } })
    return r.ok ? r : { ok: false, error: fragOf(this.model, r.error) }
  }

  /** `take_next(len)`: removes the first leaf, or the first sub-tree wholly in the window at the cursor; null if none. */
  takeNext(lenBytes: number): PageTableFrag | null {
    this.live()
    const r = this.model.call<PageTableFragOut | null>({ type: 'cursor_mut.take_next', cursor: this.id, len: lenBytes })
    return r === null ? null : fragOf(this.model, r)
  }

  /**
   * `protect_next(len, op)`: applies `op` to the first leaf in the window (one slot; a huge leaf
   * not wholly inside is split first) and returns its range; null when the window holds no
   * mapping. `op` is called at most once, with that leaf's property; the event records its result.
   */
  protectNext(lenBytes: number, op: (p: PageProperty) => PageProperty): VaRangeOut | null {
    const c = this.entry()
    const target = this.firstLeafProp(c, lenBytes)
    const event =
      target === null
        ? { type: 'cursor_mut.protect_next' as const, cursor: this.id, len: lenBytes, mask: { clear: 0, set: 0 } }
        : { type: 'cursor_mut.protect_next' as const, cursor: this.id, len: lenBytes, prop: op(target) }
    const r = this.model.call<RangeOut | null>(event)
    return r === null ? null : rangeOf(r)
  }

  /** `unmap(len)` over the page table (take_next until none): the number of 4 KiB frames unmapped. */
  unmap(lenBytes: number): number {
    this.live()
    return this.model.call<number>({ type: 'cursor_mut.unmap', cursor: this.id, len: lenBytes })
  }

  /** The property of the leaf `protect_next` will meet: the one covering the cursor, else the first after it in the window. */
  private firstLeafProp(c: PtCursor, lenBytes: number): PageProperty | null {
    const root = cursorRootSlot(this.model.state, c)
    if (root === null || !Number.isSafeInteger(lenBytes) || lenBytes <= 0) return null
    const end = Math.min(c.va + lenBytes, c.barrierVa.end)
    const here = mappingAt(this.model.state, root, c.va)
    if (here !== null) return here.property
    return firstMappingFrom(this.model.state, root, c.va, end)?.property ?? null
  }
}

/** `pt.cursor(range)` / `pt.cursorMut(range)`: one `page_table.cursor(_mut)` event. */
export function openCursor(model: Model, pageTable: number, mutable: boolean, range: { start: VirtAddr; end: VirtAddr }): Result<Cursor | CursorMut, PageTableError> {
  const r = model.call<Result<{ cursor: number }, PageTableError>>({
    type: mutable ? 'page_table.cursor_mut' : 'page_table.cursor',
    pageTable,
    vaStart: vaArg(range.start, 'range.start'),
    vaEnd: vaArg(range.end, 'range.end'),
  })
  return mapOk(r, (v) => (mutable ? new CursorMut(model, v.cursor) : new Cursor(model, v.cursor)))
}
