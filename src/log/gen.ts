/**
 * Random valid histories, deterministic from a seed: the generator keeps a model of its own
 * history and picks, at each step, an operation that is valid in the current state (live handles,
 * addresses in range), so a correct model must replay it with zero violations. Shared by the
 * property tests, the benchmarks and `ostd-model gen`.
 */
import { indexToFrame, PAGE_SIZE, REF_COUNT_UNIQUE, REF_COUNT_UNUSED } from '../arch/constants.js'
import type { ModelEvent } from '../../reducers/index.js'
import { ownerOf } from '../model/slots.js'
import { UNIT_META, type FrameMeta, type Snapshot } from '../model/snapshot.js'
import { tableGet, tableKeys } from '../model/table.js'
import { setSnapshotFreezing, snapshotFreezing } from '../model/immer.js'
import { History } from './history.js'

/** A small, fast, seedable PRNG (mulberry32). */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** An integer in `[0, n)`. */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.int(items.length)]
  }
  chance(p: number): boolean {
    return this.next() < p
  }
}

/** Proposes one event valid in `s`, or null when the operation does not apply now. */
export type OpGenerator = (s: Snapshot, rng: Rng) => ModelEvent | null

const META_TYPES: readonly FrameMeta[] = [UNIT_META, { type: 'MockFrameMeta', untyped: false, value: 7 }, { type: 'MockUFrameMeta', untyped: true, value: null }]

function liveFrames(s: Snapshot): number[] {
  return tableKeys(s.frames)
}

function framePaddr(s: Snapshot, id: number): number {
  return tableGet(s.frames, id)!.paddr
}

/** The frame-layer operations and their weights. */
export const FRAME_OPS: Record<string, { weight: number; gen: OpGenerator }> = {
  alloc: {
    weight: 6,
    gen: (_s, rng) => ({ type: 'frame_alloc.alloc_frame', zeroed: rng.chance(0.8), meta: rng.pick(META_TYPES)! }),
  },
  clone: {
    weight: 3,
    gen: (s, rng) => {
      const id = rng.pick(liveFrames(s))
      return id === undefined ? null : { type: 'frame.clone', frame: id }
    },
  },
  drop: {
    weight: 6,
    gen: (s, rng) => {
      const id = rng.pick(liveFrames(s))
      return id === undefined ? null : { type: 'frame.drop', frame: id }
    },
  },
  intoRaw: {
    weight: 1,
    gen: (s, rng) => {
      const id = rng.pick(liveFrames(s))
      return id === undefined ? null : { type: 'frame.into_raw', frame: id }
    },
  },
  fromRaw: {
    weight: 1,
    gen: (s, rng) => {
      // a slot with a forgotten Frame handle (raw_count beyond its covering segments)
      const candidates: number[] = []
      for (const idx of tableKeys(s.regions.slotOwners)) {
        const o = ownerOf(s, idx)
        if (o.rawCount > 0 && o.innerPerms.refCount !== REF_COUNT_UNIQUE && o.innerPerms.refCount !== REF_COUNT_UNUSED && tableKeys(s.segments).length === 0) candidates.push(idx)
        if (candidates.length > 32) break
      }
      const idx = rng.pick(candidates)
      return idx === undefined ? null : { type: 'frame.from_raw', paddr: indexToFrame(idx) }
    },
  },
  fromInUse: {
    weight: 2,
    gen: (s, rng) => {
      const id = rng.pick(liveFrames(s))
      return id === undefined ? null : { type: 'frame.from_in_use', paddr: framePaddr(s, id) }
    },
  },
  fromUnused: {
    weight: 1,
    gen: (s, rng) => {
      // any address: free, in use, misaligned or out of range — all are valid calls (Err or Ok)
      const roll = rng.int(4)
      const paddr = roll === 0 ? rng.int(s.nrFrames) * PAGE_SIZE + 8 : roll === 1 ? s.nrFrames * PAGE_SIZE : rng.int(Math.min(s.nrFrames, 4096)) * PAGE_SIZE
      return { type: 'frame.from_unused', paddr, meta: rng.pick(META_TYPES)! }
    },
  },
}

export interface GenerateOptions {
  seed: number
  /** Number of events. */
  ops: number
  physicalMemory?: number
  /** Operation table (defaults to every registered operation). */
  operations?: Record<string, { weight: number; gen: OpGenerator }>
}

/** Generates `ops` events, each valid in the state the previous ones produce. */
export function generateHistory(options: GenerateOptions): ModelEvent[] {
  const operations = options.operations ?? FRAME_OPS
  const names = Object.keys(operations)
  const total = names.reduce((a, n) => a + operations[n]!.weight, 0)
  const rng = new Rng(options.seed)
  const history = new History({ check: 'off', physicalMemory: options.physicalMemory, validate: false })
  const freezing = snapshotFreezing()
  setSnapshotFreezing(false)
  try {
    let attempts = 0
    while (history.length < options.ops && attempts < options.ops * 20) {
      attempts++
      let r = rng.next() * total
      let name = names[0]!
      for (const n of names) {
        r -= operations[n]!.weight
        if (r <= 0) {
          name = n
          break
        }
      }
      const event = operations[name]!.gen(history.state, rng)
      if (event === null) continue
      history.dispatch(event)
    }
  } finally {
    setSnapshotFreezing(freezing)
  }
  return history.events()
}
