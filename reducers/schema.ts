/** zod building blocks for event arguments (the trace schema is assembled from these). */
import { z } from 'zod'
import type { FrameMeta, JsonValue } from '../src/model/snapshot.js'

/** A physical address or byte count: a non-negative integer (alignment and range are the reducer's business). */
export const Addr = z.number().int().nonnegative()
/**
 * A length or count that OSTD takes as `usize`. Traces carry it as a JSON number; it must be a
 * safe integer (below 2^53), which every length a 2 GiB machine can act on is. (Where a huge value
 * itself matters, as the overflow panic of `alloc_segment`, the event declares its own schema.)
 */
export const Usize = z.number().int().nonnegative()
/** A handle id: the key of a registry entry. */
export const HandleId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

export const Json: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(Json), z.record(z.string(), Json)]),
)

export const FrameMetaSchema: z.ZodType<FrameMeta> = z.object({
  type: z.string().min(1),
  untyped: z.boolean(),
  value: Json,
})

/** Bytes in an event: base64. */
export const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64 bytes')

/** A value type of `read_val` / `write_val`: `u8`…`u64` or a byte struct of `size` bytes. */
export const ValType = z.union([
  z.enum(['u8', 'u16', 'u32', 'u64']),
  z.object({ size: z.number().int().nonnegative().max(1 << 20) }),
])
export type ValType = z.infer<typeof ValType>

/**
 * A value for `write_val`: a number for u8/u16/u32, a decimal string (u64, exact) or number, or
 * base64 bytes for a struct.
 */
export const ValValue = z.union([z.number(), z.string()])
