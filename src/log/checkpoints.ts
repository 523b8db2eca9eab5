/**
 * Checkpoints of a history: some of its snapshots, kept so that any snapshot can be re-derived by
 * replaying forward from the nearest one, within a byte budget.
 *
 * Size estimate. Snapshots share structure (tables are tries of 32-entry arrays, frame pages are
 * copy-on-write `Uint8Array`s), so what keeping one more snapshot costs is what is not shared with
 * the snapshots kept already. `retainedBytes(s, prev)` walks `s` and `prev` side by side, skips
 * every subtree that is the identical object in both (O(1) per shared subtree), and charges the
 * rest at V8's sizes on 64-bit without pointer compression: an object 24 B + 8 B per property, an
 * array 32 B + 8 B per element, a typed array its bytes + 96 B, a string 16 B + its length
 * (numbers, booleans and null are free: small integers are inline). It compares against the
 * previous checkpoint only (not all of them), so it over-estimates a snapshot that shares with an
 * older one; cost of the walk ≈ the size of what changed.
 *
 * Placement. Every `checkpointIntervalEvents`-th event boundary is a checkpoint (0 = genesis always is). When the
 * estimated total exceeds the budget, every other checkpoint is dropped and the interval doubles,
 * so the kept ones stay evenly spaced (seek cost ≤ interval replayed events); the kept ones are
 * re-estimated against their new predecessors.
 */
import type { Snapshot } from '../model/snapshot.js'

export interface Checkpoint {
  /** Number of events before it (0 = genesis). */
  readonly index: number
  readonly snapshot: Snapshot
  /** Estimated bytes it retains beyond the previous checkpoint. */
  readonly bytes: number
}

export interface CheckpointOptions {
  /**
   * Byte budget of the checkpoints (estimated retained size). Default 512 MiB: half of the
   * issue's 1 KiB-per-event bound at 10^6 events, leaving room for the event log (≤ 64 B/event)
   * and the step cache; a shorter history keeps checkpoints denser.
   */
  checkpointBytes?: number
  /** Initial spacing of checkpoints. Default 32. */
  checkpointIntervalEvents?: number
}

export const DEFAULT_CHECKPOINT_BYTES = 512 * 1024 * 1024
export const DEFAULT_CHECKPOINT_INTERVAL = 32

/** Estimated bytes `s` retains that `prev` does not share (see the module doc). */
export function retainedBytes(s: unknown, prev: unknown): number {
  if (s === prev) return 0
  switch (typeof s) {
    case 'string':
      return 16 + s.length
    case 'object':
      break
    default:
      return 0
  }
  if (s === null) return 0
  if (ArrayBuffer.isView(s)) return s.byteLength + 96
  const p = typeof prev === 'object' && prev !== null ? prev : null
  if (Array.isArray(s)) {
    let bytes = 32 + 8 * s.length
    const pa = Array.isArray(p) ? p : null
    for (let i = 0; i < s.length; i++) bytes += retainedBytes(s[i], pa?.[i])
    return bytes
  }
  const o = s as Record<string, unknown>
  const po = p as Record<string, unknown> | null
  let bytes = 24
  for (const k in o) {
    bytes += 8 + retainedBytes(o[k], po?.[k])
  }
  return bytes
}

/** The checkpoints of one branch of a history (sorted by index). */
export class CheckpointStore {
  readonly budgetBytes: number
  private intervalEvents: number
  private list: Checkpoint[]
  private total: number

  constructor(genesis: Snapshot, options: CheckpointOptions = {}, from?: { list: readonly Checkpoint[]; intervalEvents: number }) {
    this.budgetBytes = options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES
    const interval = options.checkpointIntervalEvents ?? DEFAULT_CHECKPOINT_INTERVAL
    if (!Number.isInteger(interval) || interval < 1) throw new RangeError(`checkpointIntervalEvents must be a positive integer (got ${interval})`)
    this.intervalEvents = from?.intervalEvents ?? interval
    this.list = from ? [...from.list] : [{ index: 0, snapshot: genesis, bytes: 0 }]
    this.total = this.list.reduce((a, c) => a + c.bytes, 0)
  }

  /** Current spacing of checkpoints. */
  get spacingEvents(): number {
    return this.intervalEvents
  }

  /** Estimated retained bytes of all checkpoints. */
  get totalBytes(): number {
    return this.total
  }

  get size(): number {
    return this.list.length
  }

  all(): readonly Checkpoint[] {
    return this.list
  }

  /** Whether a checkpoint belongs at event boundary `index`. */
  wants(index: number): boolean {
    return index > 0 && index % this.intervalEvents === 0 && this.list[this.list.length - 1]!.index < index
  }

  /** Records the snapshot after `index` events (call when `wants(index)`). */
  add(index: number, snapshot: Snapshot): void {
    const last = this.list[this.list.length - 1]!
    if (index <= last.index) throw new RangeError(`checkpoint ${index} is not after the last one (${last.index})`)
    const bytes = retainedBytes(snapshot, last.snapshot)
    this.list.push({ index, snapshot, bytes })
    this.total += bytes
    while (this.total > this.budgetBytes && this.list.length > 2) this.thin()
  }

  /** The last checkpoint at or before `index`. */
  nearest(index: number): Checkpoint {
    let lo = 0
    let hi = this.list.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.list[mid]!.index <= index) lo = mid
      else hi = mid - 1
    }
    return this.list[lo]!
  }

  /** A copy holding the checkpoints at or before `index` (a fork shares them). */
  prefix(index: number, options: CheckpointOptions): CheckpointStore {
    return new CheckpointStore(this.list[0]!.snapshot, options, { list: this.list.filter((c) => c.index <= index), intervalEvents: this.intervalEvents })
  }

  /**
   * Keeps every checkpoint at a multiple of twice the interval (genesis stays) and re-estimates
   * the kept ones against their new predecessors (the walk costs what changed between them).
   */
  private thin(): void {
    this.intervalEvents *= 2
    const kept: Checkpoint[] = [this.list[0]!]
    for (let i = 1; i < this.list.length; i++) {
      const c = this.list[i]!
      if (c.index % this.intervalEvents !== 0) continue
      kept.push({ ...c, bytes: retainedBytes(c.snapshot, kept[kept.length - 1]!.snapshot) })
    }
    this.list = kept
    this.total = kept.reduce((a, c) => a + c.bytes, 0)
  }
}

// ---- snapshot hashes ---------------------------------------------------------------------------

/**
 * A structural hash of a snapshot (64 bits as 16 hex digits): equal snapshots (deep equality,
 * object key order ignored, `Uint8Array`s by content) have equal hashes. Memoised per object, so
 * hashing the snapshots of one history costs about what changed between them.
 */
export function snapshotHash(s: Snapshot): string {
  const [h1, h2] = hashValue(s)
  return hex32(h1) + hex32(h2)
}

type Hash = readonly [number, number]

const memo = new WeakMap<object, Hash>()

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0')
}

/** Two 32-bit lanes (FNV-1a style mixing with different primes). */
function mix(h: Hash, x: number): Hash {
  return [Math.imul(h[0] ^ x, 0x01000193) >>> 0, Math.imul((h[1] ^ x) + 0x9e3779b9, 0x85ebca6b) >>> 0]
}

function mixString(h: Hash, s: string): Hash {
  let r = mix(h, s.length)
  for (let i = 0; i < s.length; i++) r = mix(r, s.charCodeAt(i))
  return r
}

const SEED: Hash = [0x811c9dc5, 0x2545f491]

function hashValue(v: unknown): Hash {
  switch (typeof v) {
    case 'undefined':
      return mix(SEED, 1)
    case 'boolean':
      return mix(SEED, v ? 2 : 3)
    case 'number':
      return mixString(mix(SEED, 4), String(v))
    case 'bigint':
      return mixString(mix(SEED, 5), v.toString())
    case 'string':
      return mixString(mix(SEED, 6), v)
    case 'object':
      break
    default:
      throw new TypeError(`cannot hash a ${typeof v} in a snapshot`)
  }
  if (v === null) return mix(SEED, 7)
  const cached = memo.get(v)
  if (cached !== undefined) return cached
  let h: Hash
  if (v instanceof Uint8Array) {
    h = mix(SEED, 8)
    h = mix(h, v.length)
    for (let i = 0; i < v.length; i += 4) h = mix(h, (v[i]! | (v[i + 1]! << 8) | (v[i + 2]! << 16) | (v[i + 3]! << 24)) >>> 0)
  } else if (Array.isArray(v)) {
    h = mix(mix(SEED, 9), v.length)
    for (const x of v) {
      const c = hashValue(x)
      h = mix(mix(h, c[0]), c[1])
    }
  } else {
    h = mix(SEED, 10)
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort()
    for (const k of keys) {
      h = mixString(h, k)
      const c = hashValue((v as Record<string, unknown>)[k])
      h = mix(mix(h, c[0]), c[1])
    }
  }
  memo.set(v, h)
  return h
}
