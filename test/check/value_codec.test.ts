/**
 * The checker's value codec (src/check/rules/io/value_codec.ts) agrees with the reducers' on every
 * valid value, and is not theirs: with the reducers' codec made big-endian (module mock), the
 * checker reports the reads and writes that go through it (issue 7: frame_io mutants 169–189).
 */
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { createModel } from '../../src/api/model.js'
import { base64ToBytes, bytesToBase64, bytesToValue, valueToBytes, valueWidthBytes } from '../../src/check/rules/io/value_codec.js'
import { decodeVal, encodeVal, fromBase64, sizeOfVal, toBase64, type ValType } from '../../reducers/io/frame_io.js'

// Only importers of frame_io see the mock (vm_io.ts's reader / writer value calls); frame_io's own calls keep the real codec.
const bigEndian = vi.hoisted(() => ({ on: false }))
vi.mock('../../reducers/io/frame_io.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../reducers/io/frame_io.js')>()
  return {
    ...real,
    encodeVal: (t: ValType, v: never) => (bigEndian.on ? real.encodeVal(t, v).slice().reverse() : real.encodeVal(t, v)),
    decodeVal: (t: ValType, b: Uint8Array) => (bigEndian.on ? real.decodeVal(t, b.slice(0, real.sizeOfVal(t)).reverse()) : real.decodeVal(t, b)),
  }
})

const INT_TYPES = [['u8', 8], ['u16', 16], ['u32', 32]] as const

describe('the checker value codec', () => {
  it('encodes and decodes integers as the reducers do, little-endian', () => {
    for (const [t, bits] of INT_TYPES) {
      fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** bits - 1 }), (v) => {
        expect([...valueToBytes(t, v)]).toEqual([...encodeVal(t, v)])
        expect(bytesToValue(t, encodeVal(t, v))).toBe(v)
      }))
    }
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
      expect([...valueToBytes('u64', v.toString())]).toEqual([...encodeVal('u64', v.toString())])
      expect(bytesToValue('u64', encodeVal('u64', v.toString()))).toBe(v.toString())
    }))
    expect([...valueToBytes('u32', 0x01020304)]).toEqual([4, 3, 2, 1])
  })

  it('decodes any bytes as the reducers do', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.constantFrom<ValType>('u8', 'u16', 'u32', 'u64', { size: 3 }, { size: 8 }), (b, t) => {
      expect(valueWidthBytes(t)).toBe(sizeOfVal(t))
      expect(bytesToValue(t, b)).toEqual(decodeVal(t, b.slice(0, sizeOfVal(t))))
    }))
  })

  it('reads and writes base64 as the reducers do, and refuses what is not base64', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
      expect(bytesToBase64(b)).toBe(toBase64(b))
      expect([...base64ToBytes(toBase64(b))!]).toEqual([...b])
    }))
    for (const bad of ['A', 'AB=C', 'AB===', '@@@@', 'AA AA']) {
      expect(base64ToBytes(bad)).toBeNull()
      expect(fromBase64(bad)).toBeNull()
    }
    expect([...base64ToBytes('AQI')!]).toEqual([...fromBase64('AQI')!])
  })

  it('is independent of the reducers\' codec: a big-endian codec in the reducers is reported', () => {
    const m = createModel({ check: 'full' })
    const f = m.call<{ ok: true; value: { frame: number } }>({ type: 'frame_alloc.alloc_frame' }).value.frame
    const w = m.call<{ writer: number }>({ type: 'frame.writer', frame: f }).writer
    const r = m.call<{ reader: number }>({ type: 'frame.reader', frame: f }).reader
    bigEndian.on = true
    try {
      m.dispatch({ type: 'vm_writer.write_val', writer: w, valType: 'u32', value: 0x01020304 })
      expect(m.history.violations().map((v) => v.rule)).toEqual(['ENS-MEM-WRITE-1'])
      m.dispatch({ type: 'vm_reader.read_val', reader: r, valType: 'u16' })
      expect([...new Set(m.history.violations().map((v) => v.rule))]).toEqual(['ENS-MEM-WRITE-1', 'ENS-MEM-READ-1'])
    } finally {
      bigEndian.on = false
    }
  })
})
