/**
 * `PageTableConfig` as data (seed 002, spec/constants.md §5, behaviour.md §2.2): the three
 * configurations the model knows — the user page table, the kernel page table and an untracked
 * configuration for kernel-style and test page tables.
 */
import { FRAME_METADATA_BASE_VADDR, HIGHEST_TRANSLATION_LEVEL, NR_ENTRIES } from './constants.js'

export type PtConfigName = 'user' | 'kernel' | 'untracked'

export interface PtConfig {
  readonly name: PtConfigName
  /** `TOP_LEVEL_INDEX_RANGE`: the root entries the page table manages, `[start, end)`. */
  readonly topLevelIndexRange: readonly [number, number]
  /** `TOP_LEVEL_CAN_UNMAP`: whether top-level entries may be removed (false for the kernel). */
  readonly topLevelCanUnmap: boolean
  /** `LEADING_BITS_spec`: bits 48..64 of every managed virtual address. */
  readonly leadingBits: number
  /** `LOCKED_END_BOUND_spec`: upper bound of a cursor's locked range (exclusive), as a bigint. */
  readonly lockedEndBound: bigint
  /** Highest level at which a leaf (item) may be mapped. */
  readonly highestTranslationLevel: number
  /**
   * Items: `tracked` frames are reference counted (`item_into_raw` forgets a `Frame`;
   * `item_from_raw` revives one; cloning bumps its slot's ref count); `untracked` items are raw
   * `(pa, level, prop)` triples; `both` (the kernel) tells them apart by PageFlags::AVAIL1.
   */
  readonly items: 'tracked' | 'untracked' | 'both'
}

export const USER_PT_CONFIG: PtConfig = Object.freeze({
  name: 'user',
  topLevelIndexRange: [0, 256] as const,
  topLevelCanUnmap: true,
  leadingBits: 0,
  lockedEndBound: 1n << 64n,
  highestTranslationLevel: HIGHEST_TRANSLATION_LEVEL,
  items: 'tracked',
})

export const KERNEL_PT_CONFIG: PtConfig = Object.freeze({
  name: 'kernel',
  topLevelIndexRange: [256, NR_ENTRIES] as const,
  topLevelCanUnmap: false,
  leadingBits: 0xffff,
  lockedEndBound: FRAME_METADATA_BASE_VADDR,
  highestTranslationLevel: HIGHEST_TRANSLATION_LEVEL,
  items: 'both',
})

export const UNTRACKED_PT_CONFIG: PtConfig = Object.freeze({
  name: 'untracked',
  topLevelIndexRange: [0, 256] as const,
  topLevelCanUnmap: true,
  leadingBits: 0,
  lockedEndBound: 1n << 64n,
  highestTranslationLevel: 3,
  items: 'untracked',
})

export const PT_CONFIGS: Readonly<Record<PtConfigName, PtConfig>> = Object.freeze({
  user: USER_PT_CONFIG,
  kernel: KERNEL_PT_CONFIG,
  untracked: UNTRACKED_PT_CONFIG,
})

export function ptConfig(name: PtConfigName): PtConfig {
  return PT_CONFIGS[name]
}

/** The entry indices `on_drop` walks and `TOP_LEVEL_INDEX_RANGE` governs at `level`. */
export function managedIndexRange(config: PtConfig, level: number, nrLevels: number): readonly [number, number] {
  return level === nrLevels ? config.topLevelIndexRange : [0, NR_ENTRIES]
}
