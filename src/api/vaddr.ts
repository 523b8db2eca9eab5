/** Virtual addresses at the facade: `number` when exact, `bigint` for kernel upper-half addresses. */
import type { VaddrArg } from '../../reducers/page_table/page_table.js'
import type { VaOut } from '../../reducers/page_table/cursor.js'
import { InvalidEventError } from '../log/history.js'

/** A virtual address: a `number` (user addresses), or a `bigint` (kernel upper-half addresses, any u64). */
export type VirtAddr = number | bigint

/**
 * The event form of an address: numbers as they are, bigints as `0x…`. What is not a u64 (a
 * negative or fractional number, one beyond 2^53, a bigint beyond 2^64) is rejected here, as the
 * event schema would reject it, before anything is read or dispatched.
 */
export function vaArg(va: VirtAddr, field = 'va'): VaddrArg {
  if (typeof va === 'bigint') {
    if (va < 0n || va >= 1n << 64n) throw new InvalidEventError(field, `expected a u64 virtual address, got ${va}`)
    return `0x${va.toString(16)}`
  }
  if (!Number.isSafeInteger(va) || va < 0) throw new InvalidEventError(field, `expected a non-negative safe integer or a bigint, got ${va}`)
  return va
}

/** An address of an event result (`number`, or `0x…` hex) as a `VirtAddr`. */
export function virtAddrOf(va: VaOut): VirtAddr {
  if (typeof va === 'number') return va
  const big = BigInt(va)
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
}
