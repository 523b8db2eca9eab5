/**
 * The checker's own readings of cursor arguments (src/check/rules/page_table/cursor_args.ts) agree
 * with the reducers' helpers on random arguments, and with the spec on named ones. They are kept
 * apart so that a fault in either shows as a difference (issue 7).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PageFlags, type PageProperty } from '../../src/arch/page_prop.js'
import type { PtConfigName } from '../../src/arch/pt_config.js'
import { expectedCursorRange, leafIsTracked, protectedProperty, rawOfMapArg } from '../../src/check/rules/page_table/cursor_args.js'
import { createModel } from '../../src/api/model.js'
import { propTracked, validatedRange } from '../../reducers/page_table/cursor.js'
import { itemIntoRaw, protectNextOp, type CursorMutProtectNextEvent } from '../../reducers/page_table/cursor_mut.js'

const CONFIGS: PtConfigName[] = ['user', 'kernel', 'untracked']
const config = fc.constantFrom(...CONFIGS)
const KERNEL_BASE = 0xffff_8000_0000_0000n
/** Addresses around the interesting edges: 0, page multiples, the user top, the kernel half, 2^64 - 1. */
const va = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 0x10_0000 }), fc.constantFrom(0, 0, 1, 0xfff)).map(([n, off]) => n * 0x1000 + off),
  fc.constantFrom(0, 0x1000, 0x7fff_ffff_f000, 0x8000_0000_0000, Number.MAX_SAFE_INTEGER),
  fc.bigInt({ min: 0n, max: (1n << 20n) }).map((n) => `0x${(KERNEL_BASE + n * 0x1000n).toString(16)}`),
  fc.constantFrom('0xffffffffffffffff', '0xfffffffffffff000', '0xffff800000000000', '0x0'),
)
const prop = fc.record({ flags: fc.integer({ min: 0, max: 0xff }), cache: fc.constantFrom('Writeback', 'Uncacheable'), privFlags: fc.integer({ min: 0, max: 3 }) }) as unknown as fc.Arbitrary<PageProperty>

describe('the checker\'s cursor-argument readings', () => {
  it('accept and refuse cursor ranges as validatedRange does', () => {
    fc.assert(fc.property(config, va, va, (c, vaStart, vaEnd) => {
      expect(expectedCursorRange(c, { vaStart, vaEnd })).toEqual(validatedRange(c, { vaStart, vaEnd }))
    }), { numRuns: 2000 })
    expect(expectedCursorRange('user', { vaStart: 0x1000, vaEnd: 0x1000 })).toEqual({ ok: false, error: { kind: 'InvalidVaddrRange', start: 0x1000, end: 0x1000 } })
    expect(expectedCursorRange('user', { vaStart: 0x1001, vaEnd: 0x3000 })).toEqual({ ok: false, error: { kind: 'UnalignedVaddr' } })
    expect(expectedCursorRange('kernel', { vaStart: 0x1000, vaEnd: 0x2000 }).ok).toBe(false)
    expect(expectedCursorRange('user', { vaStart: 0x1000, vaEnd: 0x3000 })).toEqual({ ok: true, value: { start: 0x1000, end: 0x3000 } })
  })

  it('tell tracked leaves as propTracked does', () => {
    fc.assert(fc.property(config, prop, (c, p) => {
      expect(leafIsTracked(c, p)).toBe(propTracked(c, p))
    }))
    expect(leafIsTracked('kernel', { flags: PageFlags.AVAIL1 } as PageProperty)).toBe(true)
    expect(leafIsTracked('kernel', { flags: 0 } as PageProperty)).toBe(false)
    expect(leafIsTracked('untracked', { flags: PageFlags.AVAIL1 } as PageProperty)).toBe(false)
  })

  it('turn map arguments into raw items as itemIntoRaw does', () => {
    const m = createModel({ check: 'off' })
    const f = m.call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame' }).value.frame
    const item = fc.oneof(
      fc.tuple(fc.constantFrom(f, 99), prop).map(([frame, p]) => ({ frame, prop: p })),
      fc.tuple(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 1, max: 3 }), prop).map(([n, level, p]) => ({ pa: n * 0x1000, level, prop: p })),
    )
    fc.assert(fc.property(config, item, (c, it) => {
      expect(rawOfMapArg(m.state, c, it)).toEqual(itemIntoRaw(m.state, c, it))
    }))
  })

  it('apply protect_next\'s op as protectNextOp does', () => {
    const mask = fc.record({ clear: fc.integer({ min: 0, max: 0xff }), set: fc.integer({ min: 0, max: 0xff }) })
    const event = fc.oneof(
      prop.map((p) => ({ type: 'cursor_mut.protect_next', cursor: 0, len: 0x1000, prop: p }) as CursorMutProtectNextEvent),
      mask.map((k) => ({ type: 'cursor_mut.protect_next', cursor: 0, len: 0x1000, mask: k }) as CursorMutProtectNextEvent),
    )
    fc.assert(fc.property(event, prop, (e, p) => {
      expect(protectedProperty(e, p)).toEqual(protectNextOp(e, p))
    }))
    expect(protectedProperty({ mask: { clear: 0b11, set: 0b01 } }, { flags: 0b110 } as PageProperty).flags).toBe(0b101)
  })
})
