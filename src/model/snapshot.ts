/**
 * The snapshot: one immutable value holding the executable state of the model (meta slots, frame
 * memory, allocator, linked lists, reader/writer cursors) and its ghost state (slot owners,
 * parking, frame obligations, unique-frame owners, handle registries). spec/state.md §0.
 *
 * Plain data: no classes, no closures. Tables (`Table<T>`) are chunked tries so that a step copies
 * only what it touches. Frame contents are `Uint8Array`s stored per page and never mutated in
 * place (copy on write); a page with no entry is all zero.
 *
 * Ghost state is state: reducers update it explicitly; nothing here is derived from the exec part.
 */
import type { MetaAddr, PageUsage, RefCount } from '../arch/constants.js'
import type { PtConfigName } from '../arch/pt_config.js'
import type { PageTableState } from './page_table.js'
import type { Table } from './table.js'
import type { VmIoOwner, VmState } from './vm_space.js'

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

// ---- frame metadata ------------------------------------------------------------------------

/**
 * The metadata a frame carries (`M: AnyFrameMeta`). `type` names the Rust type; `untyped` says
 * whether it was declared with `impl_untyped_frame_meta_for!` (`()` is untyped); `value` is its
 * contents.
 */
export interface FrameMeta {
  readonly type: string
  readonly untyped: boolean
  readonly value: JsonValue
}

/** Metadata of `alloc_frame()`: the unit type, untyped. */
export const UNIT_META: FrameMeta = Object.freeze({ type: '()', untyped: true, value: null })

/** Metadata of a page-table node (`PageTablePageMeta<C>`), stored in its slot (state.md §2). */
export interface PageTablePageMeta {
  readonly nrChildren: number
  readonly stray: boolean
  readonly level: number
  /** Spin-lock byte: 0 unlocked, 1 locked. */
  readonly lock: number
  /** The configuration `C` the node belongs to (a type parameter in Rust). */
  readonly config: PtConfigName
}

/** `MetaSlotStorage` (state.md §3.1): what the slot's metadata cell holds. */
export type MetaSlotStorage =
  | { readonly kind: 'Frame'; readonly meta: FrameMeta }
  /** `Link<M>` of a frame inside a `LinkedList`; neighbours by physical address. */
  | {
      readonly kind: 'FrameLink'
      readonly meta: FrameMeta
      readonly nextPaddr: number | null
      readonly prevPaddr: number | null
    }
  | ({ readonly kind: 'PTNode' } & PageTablePageMeta)

// ---- meta slots ----------------------------------------------------------------------------

/**
 * The four cells of a `MetaSlot` (state.md §3.1) — the exec slot, and also the values the ghost
 * permissions (`inner_perms`) hold. `null` storage / vtable = uninitialised.
 */
export interface MetaSlotCells {
  readonly refCount: RefCount
  readonly storage: MetaSlotStorage | null
  /** The vtable cell (OSTD writes 0); `null` = uninitialised. */
  readonly vtablePtr: number | null
  /** 0 = in no list, else the id of the `LinkedList` holding the frame. */
  readonly inList: number
}

/** Exec `MetaSlot`. */
export type MetaSlot = MetaSlotCells

/** Ghost `MetaSlotOwner` (MD-1: the union of the seed-era fields). */
export interface MetaSlotOwner {
  readonly innerPerms: MetaSlotCells
  /** `self_addr` (HEAD `slot_vaddr`): offset of the slot in the metadata region. */
  readonly selfAddr: MetaAddr
  readonly usage: PageUsage
  /** Outstanding forgotten raw handles ([FEB/APR] rules, MD-1). */
  readonly rawCount: number
  /** Tree paths whose PTE references this slot, as sorted path keys (`pathKey`). */
  readonly pathsInPt: readonly string[]
}

/** `UniqueFrameOwner` ([FEB], seed unique.rs): holds the slot permission while it is un-parked. */
export interface UniqueFrameOwner {
  readonly slotIndex: number
  /** `meta_perm.addr()`. */
  readonly metaPermAddr: MetaAddr
  /** `meta_perm.inner_perms`: the cell values this owner's permission holds. */
  readonly innerPerms: MetaSlotCells
}

/** `MetaRegionOwners` (state.md §4). */
export interface MetaRegionOwners {
  /** `slot_owners`; `null` entries are the canonical fresh owner (state.md §3.4). */
  readonly slotOwners: Table<MetaSlotOwner>
  /** Complement of `dom(slots)`: the slots whose permission is *not* parked (MD-2). */
  readonly unparked: Table<true>
  /** `frame_obligations` as a count per slot index. */
  readonly frameObligations: Table<number>
}

// ---- allocator -----------------------------------------------------------------------------

/** Deterministic frame allocator: LIFO reuse of freed frames, then never-used frames in order. */
export interface AllocatorState {
  /** Freed frame indices; the top of the stack is at `freeStackLen - 1`. */
  readonly freeStack: Table<number>
  readonly freeStackLen: number
  /** Frames at or above this index have never been handed out. */
  readonly bumpIndex: number
}

// ---- handle registries (the embedding's `VmStore`, state.md §15) -------------------------

/** `FrameEntry`: one outstanding `Frame` handle. */
export interface FrameEntry {
  readonly paddr: number
}

/** `SegmentEntry`: holds one reference to every frame of `[startPaddr, endPaddr)`. */
export interface SegmentEntry {
  readonly startPaddr: number
  readonly endPaddr: number
}

/** `UniqueEntry`: a live `UniqueFrame` handle (its owner is in `uniqueOwners`). */
export interface UniqueEntry {
  readonly paddr: number
}

/** Exec `LinkedList<M>` of unique frames (ostd::mm::frame::linked_list). */
export interface LinkedListState {
  readonly frontPaddr: number | null
  readonly backPaddr: number | null
  readonly size: number
  /** The list id written into the `in_list` cell of its frames (never 0). */
  readonly listId: number
}

/**
 * The address space a reader or writer moves through, and what its positions (`cursor`, `end`)
 * mean there (ostd::mm::io, behaviour.md §2.8). Only kernel space through the linear mapping
 * exists today; the planned variants are
 *   `{ kind: 'user', vmSpace: number }` — a fallible reader/writer of `VmSpace::reader/writer`;
 *     positions are user virtual addresses, translated through the VmSpace's page table at each
 *     access (an unmapped page is `PageFault`), and
 *   `{ kind: 'buffer', buffer: number }` — `VmReader::from(&[u8])` over a kernel buffer held in
 *     the model; positions are byte offsets into the buffer.
 * Every access goes through the space (`reducers/io/frame_io.ts` `spaceRead` / `spaceWrite`),
 * so a new variant adds one case there.
 */
export type VmIoSpace =
  /** Kernel space through the linear mapping; positions are physical addresses. */
  | { readonly kind: 'linear' }
  /**
   * User space of a VmSpace (`VmSpace::reader` / `writer`, fallible): positions are user virtual
   * addresses, translated through the TLB / the activated page table at each access
   * (reducers/vm_space/user_io.ts); an unmapped page is `PageFault`.
   */
  | { readonly kind: 'user'; readonly vmSpace: number }

/**
 * The handle a reader or writer borrows (`VmReader<'a>`): the frame or segment it was created
 * from. The borrow ends when that handle is no longer live (dropped or moved); using the reader
 * or writer after that is a use-after-free in Rust's terms and panics in the model (REQ-BORROW-1).
 * Later: `'vmSpace'` (user readers/writers borrow their VmSpace) and `'buffer'`.
 */
export interface VmIoBorrow {
  /** `vmSpace`: a user reader/writer borrows its VmSpace (`reader(&self, …) -> VmReader<'_>`). */
  readonly kind: 'frame' | 'segment' | 'vmSpace'
  readonly id: number
}

/**
 * Exec `VmReader` / `VmWriter` (state.md §12: `{ cursor, end }`), one entry of `Snapshot.vmIos`
 * (the embedding's `VmIoEntry`). `remain()` / `avail()` = `end - cursor`; INV-VMIO-1:
 * `cursor <= end`. `fallible` is the type parameter (`Infallible` for kernel space).
 */
export interface VmIoEntry {
  readonly kind: 'Reader' | 'Writer'
  readonly fallible: boolean
  readonly space: VmIoSpace
  /** Position of the next byte read or written (in the space's addresses). */
  readonly cursor: number
  /** Exclusive end of the range (in the space's addresses). */
  readonly end: number
  /** The handle whose borrow bounds the entry's lifetime; `null` = not bounded by a handle. */
  readonly borrow: VmIoBorrow | null
  /** Ghost `VmIoOwner` of a user reader/writer (src/model/vm_space.ts); absent for kernel ones. */
  readonly owner?: VmIoOwner
}

/** Fresh-id counters, one per registry (MD-11). */
export interface Counters {
  readonly frame: number
  readonly segment: number
  readonly unique: number
  readonly list: number
  readonly vmIo: number
  readonly ptNode: number
  readonly ptGuard: number
  readonly ptEntry: number
  readonly ptChild: number
  readonly pageTable: number
  readonly ptCursor: number
  readonly vmSpace: number
}

export interface ModelConfig {
  /** Bytes of physical memory; frames are `[0, physicalMemory)`. */
  readonly physicalMemory: number
  /** Physical ranges of MMIO (device) memory, `[start, end)`, page aligned. */
  readonly mmioRanges: ReadonlyArray<readonly [number, number]>
}

export interface Snapshot {
  readonly config: ModelConfig
  /** `physicalMemory / PAGE_SIZE`. */
  readonly nrFrames: number
  readonly counters: Counters

  // exec
  readonly metaSlots: Table<MetaSlot>
  /** Frame contents by slot index; no entry = all zero. */
  readonly memory: Table<Uint8Array>
  readonly allocator: AllocatorState
  readonly lists: Table<LinkedListState>
  readonly vmIos: Table<VmIoEntry>

  // ghost
  readonly regions: MetaRegionOwners
  /** Unique-frame owners by slot index: live, forgotten (`into_raw`) or linked into a list. */
  readonly uniqueOwners: Table<UniqueFrameOwner>

  // handle registries
  readonly frames: Table<FrameEntry>
  readonly segments: Table<SegmentEntry>
  readonly uniqueFrames: Table<UniqueEntry>

  /** Page-table handles and the ghost owner tree (src/model/page_table.ts). */
  readonly pt: PageTableState
  /** VmSpaces, their cursors' flushers, the activated space and the TLB (src/model/vm_space.ts). */
  readonly vm: VmState
}
