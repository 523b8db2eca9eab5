/**
 * `PageProperty`, `PageFlags`, `PrivilegedPageFlags`, `CachePolicy` (spec/constants.md §6,
 * behaviour.md §2.3).
 */

export const PageFlags = {
  R: 0x01,
  W: 0x02,
  X: 0x04,
  RW: 0x03,
  RX: 0x05,
  RWX: 0x07,
  ACCESSED: 0x08,
  DIRTY: 0x10,
  AVAIL1: 0x40,
  AVAIL2: 0x80,
  /** Every defined flag (bit 0x20 is undefined and must be zero). */
  ALL: 0xdf,
} as const

export const PrivilegedPageFlags = {
  USER: 0x01,
  GLOBAL: 0x02,
  /** Every defined flag (no confidential-VM build, so no SHARED). */
  ALL: 0x03,
} as const

export const CACHE_POLICIES = [
  'Uncacheable',
  'WriteCombining',
  'WriteProtected',
  'Writethrough',
  'Writeback',
] as const
export type CachePolicy = (typeof CACHE_POLICIES)[number]

/** Cache policies the x86-64 PTE can encode; the other two panic in `new_page` / `set_prop`. */
export const PTE_CACHE_POLICIES: readonly CachePolicy[] = ['Writeback', 'Writethrough', 'Uncacheable']

export interface PageProperty {
  /** `PageFlags` bits. */
  readonly flags: number
  readonly cache: CachePolicy
  /** `PrivilegedPageFlags` bits. */
  readonly privFlags: number
}

/** `PageProperty::new_user(flags, cache)`. */
export function newUser(flags: number, cache: CachePolicy = 'Writeback'): PageProperty {
  return { flags, cache, privFlags: PrivilegedPageFlags.USER }
}

/** `PageProperty::new_absent()`. */
export function newAbsent(): PageProperty {
  return { flags: 0, cache: 'Writeback', privFlags: 0 }
}

/** `PageProperty::inv()`: no undefined bits in `flags` or `privFlags`. */
export function pagePropertyInv(prop: PageProperty): boolean {
  return (
    Number.isInteger(prop.flags) &&
    Number.isInteger(prop.privFlags) &&
    (prop.flags & ~PageFlags.ALL) === 0 &&
    prop.flags >= 0 &&
    (prop.privFlags & ~PrivilegedPageFlags.ALL) === 0 &&
    prop.privFlags >= 0 &&
    (CACHE_POLICIES as readonly string[]).includes(prop.cache)
  )
}

/** Property equality compares all three fields (behaviour.md §2.3). */
export function pagePropertyEquals(a: PageProperty, b: PageProperty): boolean {
  return a.flags === b.flags && a.cache === b.cache && a.privFlags === b.privFlags
}

/** `PageProperty` namespace object, as exported from the package root (`PageProperty.newUser`). */
export const PageProperty = { newUser, newAbsent, inv: pagePropertyInv, equals: pagePropertyEquals }
