/** `Result<T, E>` as the facade returns it (API.md "Conventions"), with `unwrap` and `isOk`. */
import { OstdPanic } from '../arch/errors.js'
import type { Result } from '../../reducers/types.js'

export type { Result }
export { ok, err } from '../../reducers/types.js'

export function isOk<T, E>(r: Result<T, E>): r is { ok: true; value: T } {
  return r.ok
}

/** The value of an `Ok`; an `Err` panics (`Result::unwrap`). */
export function unwrap<T, E>(r: Result<T, E>): T {
  if (r.ok) return r.value
  throw new OstdPanic('REQ-UNWRAP-1', `called unwrap() on an Err value: ${JSON.stringify(r.error)}`)
}

/** Maps the value of an `Ok`. */
export function mapOk<T, U, E>(r: Result<T, E>, f: (v: T) => U): Result<U, E> {
  return r.ok ? { ok: true, value: f(r.value) } : r
}

/** OSTD's `Error` (ostd::Error), as a string union. */
export type OstdErrorKind = 'InvalidArgs' | 'AccessDenied' | 'NoMemory' | 'PageFault' | 'Overflow' | 'MapAlreadyMappedVaddr' | 'KVirtAreaAllocError'
