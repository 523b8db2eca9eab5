/**
 * `LinkedList<M>` of unique frames and its `CursorMut` (ostd::mm::frame::linked_list; API.md
 * "LinkedList"). Calls that change the list dispatch one event of reducers/frame/linked_list.ts;
 * `size`, `isEmpty`, `contains`, cursor creation, cursor moves and `currentMeta` read the
 * current snapshot.
 *
 * A cursor holds no reference and needs no drop: it is a position (an element's physical address,
 * or null for the "ghost" past-the-end position) kept here. In Rust it borrows the list mutably,
 * so nothing else can change the list meanwhile; in the model another call can, and using a
 * cursor whose element has left the list panics (REQ-LIST-CURSOR-1).
 */
import { frameToIndex, validFramePaddr } from '../arch/constants.js'
import { OstdPanic } from '../arch/errors.js'
import { isPhysicalSlot, slotOf } from '../model/slots.js'
import type { FrameMeta, LinkedListState } from '../model/snapshot.js'
import { tableGet } from '../model/table.js'
import { Handle } from './handle.js'
import type { Model } from './model.js'
import { UniqueFrame } from './unique_frame.js'

/** The exec link of an element (null when the frame is not linked). */
function linkAt(model: Model, paddr: number): { meta: FrameMeta; nextPaddr: number | null; prevPaddr: number | null; inList: number } | null {
  if (!validFramePaddr(paddr) || !isPhysicalSlot(model.state, frameToIndex(paddr))) return null
  const cells = slotOf(model.state, frameToIndex(paddr))
  const st = cells.storage
  return st?.kind === 'FrameLink' ? { meta: st.meta, nextPaddr: st.nextPaddr, prevPaddr: st.prevPaddr, inList: cells.inList } : null
}

export class LinkedList extends Handle {
  protected get kind(): string {
    return 'LinkedList'
  }

  /** `LinkedList::new()`: an empty list. */
  static new(model: Model): LinkedList {
    const { list } = model.call<{ list: number }>({ type: 'linked_list.new' })
    return new LinkedList(model, list)
  }

  /** @internal The list's entry in the model; throws if the list was dropped. */
  entry(): LinkedListState {
    this.live()
    const e = tableGet(this.model.state.lists, this.id)
    if (e === null) throw new OstdPanic('REQ-LIST-1', `LinkedList ${this.id} is not a live list`, 'requires')
    return e
  }

  /** @internal The model this list lives in. */
  get owner(): Model {
    return this.model
  }

  size(): number {
    return this.entry().size
  }

  isEmpty(): boolean {
    return this.entry().size === 0
  }

  /** Whether the frame at `paddr` is in this list (false for any address that is not a frame's). */
  contains(paddr: number): boolean {
    return linkAt(this.model, paddr)?.inList === this.entry().listId
  }

  /** Links `frame` at the front (consumes it). */
  pushFront(frame: UniqueFrame): void {
    this.entry()
    Handle.take(frame, () => this.model.dispatch({ type: 'linked_list.push_front', list: this.id, unique: frame.id }))
  }

  /** Links `frame` at the back (consumes it). */
  pushBack(frame: UniqueFrame): void {
    this.entry()
    Handle.take(frame, () => this.model.dispatch({ type: 'linked_list.push_back', list: this.id, unique: frame.id }))
  }

  /** Unlinks the front frame; null when the list is empty. The caller owns the returned frame. */
  popFront(): UniqueFrame | null {
    this.entry()
    const r = this.model.call<{ unique: number } | null>({ type: 'linked_list.pop_front', list: this.id })
    return r === null ? null : new UniqueFrame(this.model, r.unique)
  }

  /** Unlinks the back frame; null when the list is empty. */
  popBack(): UniqueFrame | null {
    this.entry()
    const r = this.model.call<{ unique: number } | null>({ type: 'linked_list.pop_back', list: this.id })
    return r === null ? null : new UniqueFrame(this.model, r.unique)
  }

  /** A cursor at the front (at the ghost position when the list is empty). */
  cursorFrontMut(): LinkedListCursorMut {
    return new LinkedListCursorMut(this, this.entry().frontPaddr)
  }

  /** A cursor at the back (at the ghost position when the list is empty). */
  cursorBackMut(): LinkedListCursorMut {
    return new LinkedListCursorMut(this, this.entry().backPaddr)
  }

  /** A cursor at the frame `paddr`, or null when it is not in this list. */
  cursorMutAt(paddr: number): LinkedListCursorMut | null {
    return this.contains(paddr) ? new LinkedListCursorMut(this, paddr) : null
  }

  /** Drops the list and every frame in it (front first). */
  drop(): void {
    this.consume(() => this.model.dispatch({ type: 'linked_list.drop', list: this.id }))
  }
}

/** `CursorMut` of a `LinkedList`: a position between calls; holds no reference. */
export class LinkedListCursorMut {
  constructor(
    private readonly list: LinkedList,
    /** The element's physical address, or null at the ghost (past-the-end) position. */
    private position: number | null,
  ) {}

  /** The element's physical address (null at the ghost position). */
  currentPaddr(): number | null {
    this.check()
    return this.position
  }

  /** The element's own metadata; null at the ghost position. */
  currentMeta(): FrameMeta | null {
    return this.check()?.meta ?? null
  }

  /** To the next element; from the back to the ghost position, from the ghost position to the front. */
  moveNext(): void {
    const link = this.check()
    this.position = link === null ? this.list.entry().frontPaddr : link.nextPaddr
  }

  /** To the previous element; from the front to the ghost position, from the ghost position to the back. */
  movePrev(): void {
    const link = this.check()
    this.position = link === null ? this.list.entry().backPaddr : link.prevPaddr
  }

  /** Links `frame` just before the cursor (at the back from the ghost position); the cursor stays. Consumes `frame`. */
  insertBefore(frame: UniqueFrame): void {
    this.check()
    const model = this.list.owner
    Handle.take(frame, () =>
      model.dispatch({ type: 'linked_list.cursor_mut.insert_before', list: this.list.id, currentPaddr: this.position, unique: frame.id }),
    )
  }

  /** Unlinks the element at the cursor and returns it (null at the ghost position); the cursor moves to the next element. */
  takeCurrent(): UniqueFrame | null {
    this.check()
    const model = this.list.owner
    const r = model.call<{ unique: number; nextPaddr: number | null } | null>({ type: 'linked_list.cursor_mut.take_current', list: this.list.id, currentPaddr: this.position })
    if (r === null) return null
    this.position = r.nextPaddr
    return new UniqueFrame(model, r.unique)
  }

  /** The list this cursor walks. */
  asList(): LinkedList {
    return this.list
  }

  /** The link at the position (null at the ghost position); panics when the element left the list. */
  private check(): ReturnType<typeof linkAt> {
    const list = this.list.entry()
    if (this.position === null) return null
    const link = linkAt(this.list.owner, this.position)
    if (link === null || link.inList !== list.listId) {
      throw new OstdPanic('REQ-LIST-CURSOR-1', `the cursor's element ${this.position} is no longer in LinkedList ${this.list.id}`, 'requires')
    }
    return link
  }
}
