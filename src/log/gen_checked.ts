/**
 * Pieces the operation modules of the history generator share: operations whose candidates are
 * tried on the state first (so a generated event is always accepted), and the soft caps on live
 * objects.
 */
import { isOstdPanic } from '../arch/errors.js'
import { applyCall, eventSpec, type ModelEvent } from '../../reducers/index.js'
import type { Snapshot } from '../model/snapshot.js'
import type { GenIndex, Op, Rng } from './gen.js'

/** `e` if the model accepts it in `s` (no failed precondition, no panic), else null. */
export function admissible(s: Snapshot, e: ModelEvent | null): ModelEvent | null {
  if (e === null) return null
  const spec = eventSpec(e.type)
  if (spec === undefined) throw new Error(`generator proposed an unknown event type ${e.type}`)
  try {
    applyCall(spec, s, e)
    return e
  } catch (err) {
    if (isOstdPanic(err)) return null
    throw err
  }
}

/** An operation whose candidates go through `admissible`. */
export function op(weight: number, propose: (s: Snapshot, rng: Rng, g: GenIndex) => ModelEvent | null): Op {
  return { weight, gen: (s, rng, g) => admissible(s, propose(s, rng, g)) }
}

/** A soft cap: true (room for one more) with a probability falling from 1 at `n = 0` to 0 at `n = cap`. */
export function room(rng: Rng, n: number, cap: number): boolean {
  return n < cap && rng.next() * cap >= n
}
