/**
 * The checker's own value codec: widths, little-endian integers and base64, written apart from the
 * reducers' (reducers/io/frame_io.ts `sizeOfVal` / `encodeVal` / `decodeVal` / `fromBase64`).
 *
 * Why: while the I/O rules imported the reducers' codec, a fault in it moved the model and its judge
 * together and no rule could see it (QUALITY.md, frame_io mutants 169–189). Here integers go through
 * `DataView` and base64 through the platform's `atob` / `btoa` (Node ≥ 16 and browsers), so the two
 * codecs share no code. Inputs are event fields the event schemas already validated (REQ-VMIO-VAL-1).
 */
import type { ValType, ValValue } from '../../../../reducers/io/frame_io.js'

const INT_WIDTH_BYTES: Readonly<Record<string, number>> = { u8: 1, u16: 2, u32: 4, u64: 8 }

/** `size_of::<T>()` in bytes: an integer's width, a byte struct's size. */
export function valueWidthBytes(t: ValType): number {
  return typeof t === 'string' ? INT_WIDTH_BYTES[t]! : t.size
}

/** The bytes of standard (padded or unpadded) base64 text; null when it is not base64. */
export function base64ToBytes(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null
  let binary: string
  try {
    binary = atob(text)
  } catch {
    return null
  }
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/** Standard padded base64 of `bytes`. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

/** The little-endian bytes of `value`, a valid value of `t`. */
export function valueToBytes(t: ValType, value: ValValue): Uint8Array {
  if (typeof t !== 'string') return base64ToBytes(value as string) ?? new Uint8Array(0)
  const out = new Uint8Array(INT_WIDTH_BYTES[t]!)
  const view = new DataView(out.buffer)
  if (t === 'u64') view.setBigUint64(0, BigInt(value), true)
  else if (t === 'u32') view.setUint32(0, Number(value), true)
  else if (t === 'u16') view.setUint16(0, Number(value), true)
  else view.setUint8(0, Number(value))
  return out
}

/** The value of `t` held by the first `valueWidthBytes(t)` bytes of `bytes`, little-endian (u64 as a decimal string, a struct as base64). */
export function bytesToValue(t: ValType, bytes: Uint8Array): ValValue {
  const n = valueWidthBytes(t)
  const own = new Uint8Array(n)
  own.set(bytes.subarray(0, n))
  if (typeof t !== 'string') return bytesToBase64(own)
  const view = new DataView(own.buffer)
  if (t === 'u64') return view.getBigUint64(0, true).toString()
  if (t === 'u32') return view.getUint32(0, true)
  if (t === 'u16') return view.getUint16(0, true)
  return view.getUint8(0)
}
