/** The x86-64 PTE codec (D-PTE, constants.md §7.3): worked examples and bit-exact round trips. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_PADDR, PAGE_SIZE, pageSize } from '../../src/arch/constants.js'
import { CACHE_POLICIES, newAbsent, newUser, PageFlags, PrivilegedPageFlags, type PageProperty } from '../../src/arch/page_prop.js'
import {
  isLast,
  isPresent,
  newAbsentPte,
  newPage,
  newPt,
  PHYS_ADDR_MASK,
  PROP_MASK,
  pteFromHex,
  pteProp,
  ptePaddr,
  pteToHex,
  PteBits,
  setProp,
} from '../../src/arch/pte.js'
import { panicRule } from '../util.js'

const encodable = fc.record({
  flags: fc.integer({ min: 0, max: 0xff }).map((f) => (f & PageFlags.ALL) | PageFlags.R),
  cache: fc.constantFrom('Writeback' as const, 'Writethrough' as const, 'Uncacheable' as const),
  privFlags: fc.integer({ min: 0, max: PrivilegedPageFlags.ALL }),
})
const level = fc.integer({ min: 1, max: 3 })
const pageAt = (lvl: number) => fc.integer({ min: 0, max: MAX_PADDR / pageSize(lvl) - 1 }).map((n) => n * pageSize(lvl))

describe('PTE codec', () => {
  it('matches the worked examples of constants.md §7.3', () => {
    expect(newPt(0x1234_5000)).toBe(0x1234_5007n)
    expect(newPage(0x20_0000, 2, { flags: PageFlags.RW, cache: 'Writeback', privFlags: PrivilegedPageFlags.USER })).toBe(0x8000_0000_0020_0087n)
    expect(newPage(0x5000, 1, { flags: PageFlags.R, cache: 'Writeback', privFlags: 0 })).toBe(0x8000_0000_0000_5001n)
    expect(isLast(0n, 1)).toBe(true)
    expect(isPresent(0n)).toBe(false)
    expect(newAbsentPte()).toBe(0n)
    expect(PHYS_ADDR_MASK).toBe(0x000f_ffff_ffff_f000n)
    expect(PROP_MASK).toBe(0xfff0_0000_0000_0f7fn)
  })

  it('NX is bit 63, set exactly when X is absent; AVAIL1/AVAIL2 are bits 52/53', () => {
    const rx = newPage(0x1000, 1, newUser(PageFlags.RX))
    expect(rx & PteBits.NO_EXECUTE).toBe(0n)
    const r = newPage(0x1000, 1, newUser(PageFlags.R))
    expect(r >> 63n).toBe(1n)
    const avail = newPage(0x1000, 1, newUser(PageFlags.R | PageFlags.AVAIL1 | PageFlags.AVAIL2))
    expect((avail >> 52n) & 3n).toBe(3n)
    expect(ptePaddr(avail)).toBe(0x1000) // the high bits never leak into paddr
    expect(pteProp(avail).flags).toBe(PageFlags.R | PageFlags.AVAIL1 | PageFlags.AVAIL2)
  })

  it('new_page round-trips paddr, property, presence and leafness bit-exactly', () => {
    fc.assert(
      fc.property(level.chain((l) => fc.tuple(fc.constant(l), pageAt(l))), encodable, ([l, pa], prop) => {
        const pte = newPage(pa, l, prop)
        expect(pte >= 0n && pte < 1n << 64n).toBe(true)
        expect(ptePaddr(pte)).toBe(pa)
        expect(pteProp(pte)).toEqual(prop)
        expect(isPresent(pte)).toBe(true)
        expect(isLast(pte, l)).toBe(true)
        expect(pteFromHex(pteToHex(pte))).toBe(pte)
      }),
    )
  })

  it('new_pt is present, keeps its paddr and is not last above level 1', () => {
    fc.assert(
      fc.property(pageAt(1), fc.integer({ min: 2, max: 4 }), (pa, l) => {
        const pte = newPt(pa)
        expect(isPresent(pte)).toBe(true)
        expect(ptePaddr(pte)).toBe(pa)
        expect(isLast(pte, l)).toBe(false)
      }),
    )
  })

  it('set_prop changes only the property bits of a present entry and leaves an absent one alone', () => {
    fc.assert(
      fc.property(level.chain((l) => fc.tuple(fc.constant(l), pageAt(l))), encodable, encodable, ([l, pa], p, q) => {
        const pte = newPage(pa, l, p)
        const next = setProp(pte, q)
        expect(pteProp(next)).toEqual(q)
        expect(ptePaddr(next)).toBe(pa)
        expect(next & PteBits.HUGE).toBe(pte & PteBits.HUGE)
        expect(next & ~PROP_MASK).toBe(pte & ~PROP_MASK)
        expect(setProp(0n, q)).toBe(0n)
      }),
    )
  })

  it('rejects bad inputs with the codec preconditions', () => {
    expect(panicRule(() => newPt(PAGE_SIZE + 1))).toBe('REQ-PTE-1')
    expect(panicRule(() => newPage(MAX_PADDR, 1, newUser(PageFlags.R)))).toBe('REQ-PTE-1')
    expect(panicRule(() => newPage(0, 1, newAbsent()))).toBe('REQ-PTE-2') // no R
    expect(panicRule(() => newPage(0, 1, { flags: PageFlags.R | 0x20, cache: 'Writeback', privFlags: 0 }))).toBe('REQ-PTE-2') // undefined bit
    for (const cache of CACHE_POLICIES.filter((c) => c === 'WriteCombining' || c === 'WriteProtected')) {
      expect(panicRule(() => newPage(0, 1, newUser(PageFlags.R, cache)))).toBe('REQ-PTE-3')
    }
  })

  it('decodes every PTE word to a property the encoder reproduces (for present leaves)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (word) => {
        const pte = word | PteBits.PRESENT
        const prop: PageProperty = pteProp(pte)
        expect(pteProp(setProp(pte, prop))).toEqual(prop)
      }),
    )
  })
})
