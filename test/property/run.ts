/** Shared pieces of the property tests: run counts, weighting, and replaying a history in one mode. */
import type { AnyEventSpec, ModelEvent } from '../../reducers/index.js'
import type { CheckMode } from '../../src/check/rule.js'
import type { Op } from '../../src/log/gen.js'
import { History } from '../../src/log/history.js'

/**
 * Number of random clean histories per property (`MODES_RUNS`, default 40). The fault properties
 * run `max(3, MODES_RUNS / 8)` histories per fault. A soak run sets e.g. `MODES_RUNS=1000`.
 */
export const RUNS = Math.max(1, Number(process.env['MODES_RUNS'] ?? 40))
export const RUNS_PER_FAULT = Math.max(3, Math.ceil(RUNS / 8))
/** The fast-check seed (`MODES_SEED`); fixed by default so that a run is reproducible. */
export const SEED = Number(process.env['MODES_SEED'] ?? 20261122)

/** 4 MiB (1,024 frames): small enough that allocations reuse pages and run out of never-used ones. */
export const PHYSICAL_MEMORY = 1 << 22

/** MMIO ranges inside `PHYSICAL_MEMORY` (the allocator skips them; `from_in_use` there is `Err(Unused)`). */
export const MMIO_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x4_0000, 0x6_0000],
  [0x20_0000, 0x21_0000],
]

/** `ops` with the weights of the operations of the groups `prefixes` (`frame`, `list`, …) multiplied by `factor`. */
export function focus(ops: Record<string, Op>, prefixes: readonly string[], factor: number): Record<string, Op> {
  const inFocus = (k: string): boolean => prefixes.some((p) => k.startsWith(`${p}.`))
  return Object.fromEntries(Object.entries(ops).map(([k, op]) => [k, inFocus(k) ? { ...op, weight: op.weight * factor } : op]))
}

export interface Replay {
  /** Events applied (all of them unless a dispatch threw). */
  readonly applied: number
  /** The first dispatch that threw: its index and error (a faulty reducer can make a later event invalid). */
  readonly stopped: { readonly at: number; readonly error: string } | null
  /** The violations, as JSON (what the two modes must agree on, byte for byte). */
  readonly violations: string
  readonly count: number
}

/** Replays `events` (validated against the schema) in one checking mode, with reducer variants. */
export function replay(
  events: readonly ModelEvent[],
  check: CheckMode,
  variants: readonly AnyEventSpec[] = [],
  mmioRanges: ReadonlyArray<readonly [number, number]> = [],
): Replay {
  const h = new History({ check, variants, physicalMemory: PHYSICAL_MEMORY, mmioRanges })
  let stopped: Replay['stopped'] = null
  for (let i = 0; i < events.length; i++) {
    try {
      h.dispatch(events[i]!)
    } catch (e) {
      stopped = { at: i, error: String(e) }
      break
    }
  }
  const v = h.violations()
  return { applied: h.length, stopped, violations: JSON.stringify(v), count: v.length }
}
