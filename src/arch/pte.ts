/**
 * The x86-64 page-table-entry codec of the model: decision D-PTE (spec/constants.md §7.3).
 * Seed-era predicates (`isPresent = bit 0`, `isLast(L) = L == 1 || HUGE`), the HEAD address mask
 * (bits 12–51, so the NX bit never leaks into `paddr`), AVAIL1/AVAIL2 in bits 52/53.
 * PTE words are 64-bit `bigint`s; the NX bit is bit 63.
 */
import { MAX_PADDR, PAGE_SIZE } from './constants.js'
import { OstdPanic } from './errors.js'
import {
  PageFlags,
  PrivilegedPageFlags,
  PTE_CACHE_POLICIES,
  pagePropertyInv,
  type CachePolicy,
  type PageProperty,
} from './page_prop.js'

export type Pte = bigint

const U64 = 0xffff_ffff_ffff_ffffn

export const PteBits = {
  PRESENT: 1n << 0n,
  WRITABLE: 1n << 1n,
  USER: 1n << 2n,
  WRITE_THROUGH: 1n << 3n,
  NO_CACHE: 1n << 4n,
  ACCESSED: 1n << 5n,
  DIRTY: 1n << 6n,
  HUGE: 1n << 7n,
  GLOBAL: 1n << 8n,
  HIGH_IGN1: 1n << 52n,
  HIGH_IGN2: 1n << 53n,
  NO_EXECUTE: 1n << 63n,
} as const

export const PHYS_ADDR_MASK = 0x000f_ffff_ffff_f000n
export const PROP_MASK = ~PHYS_ADDR_MASK & ~PteBits.HUGE & U64

/** `new_absent()`. */
export function newAbsentPte(): Pte {
  return 0n
}

export function isPresent(pte: Pte): boolean {
  return (pte & PteBits.PRESENT) !== 0n
}

/** A level-1 entry is always "last"; test `isPresent` first. */
export function isLast(pte: Pte, level: number): boolean {
  return level === 1 || (pte & PteBits.HUGE) !== 0n
}

export function ptePaddr(pte: Pte): number {
  return Number(pte & PHYS_ADDR_MASK)
}

/** REQ-PTE-1: the target is page aligned and below `MAX_PADDR`. */
function requireTargetPaddr(pa: number, what: string): void {
  if (!Number.isSafeInteger(pa) || pa < 0 || pa % PAGE_SIZE !== 0 || pa >= MAX_PADDR) {
    throw new OstdPanic('REQ-PTE-1', `${what}: physical address ${hex(pa)} is not page aligned below MAX_PADDR`, 'requires')
  }
}

/** REQ-PTE-2 / REQ-PTE-3: `R` present, no undefined bits, an encodable cache policy. */
function requireEncodableProp(prop: PageProperty, what: string): void {
  if (!pagePropertyInv(prop) || (prop.flags & PageFlags.R) === 0) {
    throw new OstdPanic(
      'REQ-PTE-2',
      `${what}: property ${JSON.stringify(prop)} must have R set and no undefined bits`,
      'requires',
    )
  }
  if (!PTE_CACHE_POLICIES.includes(prop.cache)) {
    throw new OstdPanic('REQ-PTE-3', `${what}: unsupported cache policy ${prop.cache}`)
  }
}

/** `format_flags(prop)`: PRESENT always, plus the §7.1 mapping including AVAIL1/AVAIL2. */
export function encodeProp(prop: PageProperty): Pte {
  let bits = PteBits.PRESENT
  if (prop.flags & PageFlags.W) bits |= PteBits.WRITABLE
  if (!(prop.flags & PageFlags.X)) bits |= PteBits.NO_EXECUTE
  if (prop.flags & PageFlags.ACCESSED) bits |= PteBits.ACCESSED
  if (prop.flags & PageFlags.DIRTY) bits |= PteBits.DIRTY
  if (prop.flags & PageFlags.AVAIL1) bits |= PteBits.HIGH_IGN1
  if (prop.flags & PageFlags.AVAIL2) bits |= PteBits.HIGH_IGN2
  if (prop.privFlags & PrivilegedPageFlags.USER) bits |= PteBits.USER
  if (prop.privFlags & PrivilegedPageFlags.GLOBAL) bits |= PteBits.GLOBAL
  if (prop.cache === 'Writethrough') bits |= PteBits.WRITE_THROUGH
  else if (prop.cache === 'Uncacheable') bits |= PteBits.NO_CACHE
  return bits
}

/** `prop(pte)`: §7.1 decoding. */
export function pteProp(pte: Pte): PageProperty {
  let flags = 0
  if (pte & PteBits.PRESENT) flags |= PageFlags.R
  if (pte & PteBits.WRITABLE) flags |= PageFlags.W
  if (!(pte & PteBits.NO_EXECUTE)) flags |= PageFlags.X
  if (pte & PteBits.ACCESSED) flags |= PageFlags.ACCESSED
  if (pte & PteBits.DIRTY) flags |= PageFlags.DIRTY
  if (pte & PteBits.HIGH_IGN1) flags |= PageFlags.AVAIL1
  if (pte & PteBits.HIGH_IGN2) flags |= PageFlags.AVAIL2
  let privFlags = 0
  if (pte & PteBits.USER) privFlags |= PrivilegedPageFlags.USER
  if (pte & PteBits.GLOBAL) privFlags |= PrivilegedPageFlags.GLOBAL
  const cache: CachePolicy = pte & PteBits.NO_CACHE ? 'Uncacheable' : pte & PteBits.WRITE_THROUGH ? 'Writethrough' : 'Writeback'
  return { flags, cache, privFlags }
}

/** `new_pt(pa)`: a present, non-last entry pointing at a child node. */
export function newPt(pa: number): Pte {
  requireTargetPaddr(pa, 'new_pt')
  return (BigInt(pa) & PHYS_ADDR_MASK) | 0x7n
}

/** `new_page(pa, level, prop)`: a leaf; HUGE above level 1. */
export function newPage(pa: number, level: number, prop: PageProperty): Pte {
  requireTargetPaddr(pa, 'new_page')
  requireEncodableProp(prop, 'new_page')
  return (BigInt(pa) & PHYS_ADDR_MASK) | (level > 1 ? PteBits.HUGE : 0n) | encodeProp(prop)
}

/** `set_prop(pte, prop)`: rewrites the property bits of a present entry; absent entries stay. */
export function setProp(pte: Pte, prop: PageProperty): Pte {
  requireEncodableProp(prop, 'set_prop')
  return isPresent(pte) ? (pte & ~PROP_MASK & U64) | encodeProp(prop) : pte
}

/** Exact 64-bit hex form of a PTE word, as written in traces. */
export function pteToHex(pte: Pte): string {
  return '0x' + pte.toString(16).padStart(16, '0')
}

export function pteFromHex(text: string): Pte {
  const value = BigInt(text)
  if (value < 0n || value > U64) throw new RangeError(`PTE word ${text} is not a u64`)
  return value
}

function hex(n: number): string {
  return Number.isFinite(n) ? '0x' + n.toString(16) : String(n)
}
