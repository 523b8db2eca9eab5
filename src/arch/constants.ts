/**
 * Constants and address maps of the x86-64 configuration OSTD is verified against
 * (spec/constants.md §1–§4).
 *
 * Numbers: physical addresses, user virtual addresses, lengths and counts are JS numbers (all
 * below 2^53). Kernel virtual addresses (upper half) do not fit a double exactly and are
 * `bigint`. The u64 ref-count sentinels are encoded as negative numbers inside the model and
 * written exactly only at the trace boundary (`refCountToU64` / `refCountFromU64`).
 */

// ---- §1 paging geometry -------------------------------------------------------------------

export const PAGE_SIZE = 0x1000
export const BASE_PAGE_SIZE = PAGE_SIZE
export const NR_ENTRIES = 512
export const NR_LEVELS = 4
/** Depth of the ghost owner tree (`NR_LEVELS + 1`). */
export const INC_LEVELS = 5
export const PTE_SIZE = 8
export const ADDRESS_WIDTH = 48
export const VA_SIGN_EXT = true
/** Highest level at which the user page table may install a leaf (2 MiB). */
export const HIGHEST_TRANSLATION_LEVEL = 2
export const NR_SUBPAGE_PER_HUGE = PAGE_SIZE / PTE_SIZE
export const NR_PTE_INDEX_BITS = 9
/** Exclusive upper bound of a valid frame physical address (2 GiB). */
export const MAX_PADDR = 0x8000_0000
export const MAX_NR_PAGES = MAX_PADDR / PAGE_SIZE

export type PagingLevel = 1 | 2 | 3 | 4 | 5

/** `page_size(level) = PAGE_SIZE * 2^(9 * (level - 1))`, for `1 <= level <= NR_LEVELS + 1`. */
export function pageSize(level: number): number {
  if (!Number.isInteger(level) || level < 1 || level > NR_LEVELS + 1) {
    throw new RangeError(`page_size: level ${level} is outside 1..${NR_LEVELS + 1}`)
  }
  return PAGE_SIZE * 2 ** (NR_PTE_INDEX_BITS * (level - 1))
}

/** Bit offset of the PTE index of `level` in a virtual address: 12, 21, 30, 39. */
export function pteIndexBitOffset(level: number): number {
  return 12 + NR_PTE_INDEX_BITS * (level - 1)
}

/** `pte_index(va, level) = (va >> (12 + 9 (level-1))) & 511`. Works for any va below 2^53. */
export function pteIndex(va: number, level: number): number {
  return Math.floor(va / 2 ** pteIndexBitOffset(level)) % NR_ENTRIES
}

// ---- §2 frame metadata region -------------------------------------------------------------

export const META_SLOT_SIZE = 64
export const FRAME_METADATA_BASE_VADDR = 0xffff_e000_0000_0000n
export const FRAME_METADATA_CAP_VADDR = 0xffff_e100_0000_0000n
/** Bytes spanned by the metadata region (1 TiB). Offsets into it fit a number exactly. */
export const FRAME_METADATA_RANGE_BYTES = Number(FRAME_METADATA_CAP_VADDR - FRAME_METADATA_BASE_VADDR)
/** `max_meta_slots() = (end - start) / 64` = 2^34. */
export const MAX_META_SLOTS = FRAME_METADATA_RANGE_BYTES / META_SLOT_SIZE

/**
 * A meta-slot virtual address, held as its byte offset from `FRAME_METADATA_BASE_VADDR`
 * (the kernel VA itself exceeds 2^53). `metaVaddrOf(offset)` gives the exact VA.
 */
export type MetaAddr = number

export function metaVaddrOf(addr: MetaAddr): bigint {
  return FRAME_METADATA_BASE_VADDR + BigInt(addr)
}

/** `valid_frame_paddr(pa)`: page aligned and below `MAX_PADDR`. */
export function validFramePaddr(pa: number): boolean {
  return Number.isSafeInteger(pa) && pa >= 0 && pa % PAGE_SIZE === 0 && pa < MAX_PADDR
}

/** `frame_to_index(pa) = pa / PAGE_SIZE`. */
export function frameToIndex(pa: number): number {
  return Math.floor(pa / PAGE_SIZE)
}

/** `index_to_frame(i) = i * PAGE_SIZE`. */
export function indexToFrame(idx: number): number {
  return idx * PAGE_SIZE
}

/** `meta_addr(i)` (HEAD: `index_to_meta`), as an offset into the metadata region. */
export function metaAddr(idx: number): MetaAddr {
  return idx * META_SLOT_SIZE
}

/** `frame_to_meta(pa)`, as an offset into the metadata region. */
export function frameToMeta(pa: number): MetaAddr {
  return metaAddr(frameToIndex(pa))
}

/** `meta_to_frame(va)` for a metadata-region offset. */
export function metaToFrame(addr: MetaAddr): number {
  return Math.floor(addr / META_SLOT_SIZE) * PAGE_SIZE
}

/** `meta_to_index(va) = frame_to_index(meta_to_frame(va))`. */
export function metaToIndex(addr: MetaAddr): number {
  return Math.floor(addr / META_SLOT_SIZE)
}

// ---- §3 kernel virtual address layout -----------------------------------------------------

export const KERNEL_BASE_VADDR = 0xffff_8000_0000_0000n
export const KERNEL_END_VADDR = 0xffff_ffff_ffff_0000n
export const LINEAR_MAPPING_BASE_VADDR = 0xffff_8000_0000_0000n
export const LINEAR_MAPPING_END_VADDR = 0xffff_c000_0000_0000n
export const VMALLOC_BASE_VADDR = 0xffff_c000_0000_0000n
export const VMALLOC_END_VADDR = 0xffff_e000_0000_0000n
export const KERNEL_CODE_BASE_VADDR = 0xffff_ffff_8000_0000n
/** Exclusive; the top user page is reserved. */
export const MAX_USERSPACE_VADDR = 0x0000_8000_0000_0000 - PAGE_SIZE
/** Exclusive end of the user page table's VA range (`2^47`). */
export const USER_VADDR_END = 0x0000_8000_0000_0000

/** `paddr_to_vaddr(pa) = pa + LINEAR_MAPPING_BASE_VADDR`. */
export function paddrToVaddr(pa: number): bigint {
  return LINEAR_MAPPING_BASE_VADDR + BigInt(pa)
}

/** `vaddr_to_paddr(va) = va - LINEAR_MAPPING_BASE_VADDR` (spec only). */
export function vaddrToPaddr(va: bigint): number {
  return Number(va - LINEAR_MAPPING_BASE_VADDR)
}

// ---- §4 reference-count sentinels ---------------------------------------------------------

/** A slot's ref count. Non-negative values are counts; the two sentinels are negative. */
export type RefCount = number

/** `u64::MAX`: the slot is free, its metadata uninitialised. */
export const REF_COUNT_UNUSED: RefCount = -1
/** `u64::MAX - 1`: the slot is owned by exactly one `UniqueFrame`. */
export const REF_COUNT_UNIQUE: RefCount = -2
/**
 * `i64::MAX`. 2^63 - 1 is not a double; the nearest double, 2^63, stands for it. Counts the model
 * reaches are exact (below 2^53); the constant only matters for `>=` comparisons.
 */
export const REF_COUNT_MAX: RefCount = 2 ** 63

export const REF_COUNT_UNUSED_U64 = 0xffff_ffff_ffff_ffffn
export const REF_COUNT_UNIQUE_U64 = 0xffff_ffff_ffff_fffen
export const REF_COUNT_MAX_U64 = 0x7fff_ffff_ffff_ffffn

/** Exact u64 value of a ref count, for traces and reports. */
export function refCountToU64(rc: RefCount): bigint {
  if (rc === REF_COUNT_UNUSED) return REF_COUNT_UNUSED_U64
  if (rc === REF_COUNT_UNIQUE) return REF_COUNT_UNIQUE_U64
  if (rc === REF_COUNT_MAX) return REF_COUNT_MAX_U64
  return BigInt(rc)
}

export function refCountFromU64(value: bigint): RefCount {
  if (value === REF_COUNT_UNUSED_U64) return REF_COUNT_UNUSED
  if (value === REF_COUNT_UNIQUE_U64) return REF_COUNT_UNIQUE
  if (value >= REF_COUNT_MAX_U64) return REF_COUNT_MAX
  return Number(value)
}

/** Human form of a ref count: `UNUSED`, `UNIQUE`, or the number. */
export function refCountName(rc: RefCount): string {
  if (rc === REF_COUNT_UNUSED) return 'UNUSED'
  if (rc === REF_COUNT_UNIQUE) return 'UNIQUE'
  if (rc === REF_COUNT_MAX) return 'MAX'
  return String(rc)
}

/** A shared (counted) ref count: `1..=REF_COUNT_MAX`. */
export function isSharedRefCount(rc: RefCount): boolean {
  return rc > 0 && rc <= REF_COUNT_MAX
}

// ---- §3.2 of state.md: PageUsage ----------------------------------------------------------

export const PageUsage = {
  Unused: 'Unused',
  Reserved: 'Reserved',
  Frame: 'Frame',
  PageTable: 'PageTable',
  Meta: 'Meta',
  Kernel: 'Kernel',
  MMIO: 'MMIO',
} as const
export type PageUsage = (typeof PageUsage)[keyof typeof PageUsage]

/** `PageUsage::as_u8` codes ([JUN]). */
export const PAGE_USAGE_CODE: Record<PageUsage, number> = {
  Unused: 0,
  Reserved: 1,
  Frame: 32,
  PageTable: 64,
  Meta: 65,
  Kernel: 66,
  MMIO: 67,
}

/** `GetFrameError` of the `from_unused` / `from_in_use` family. */
export type GetFrameError = 'InUse' | 'Unused' | 'Busy' | 'Unique' | 'OutOfBound' | 'NotAligned'
