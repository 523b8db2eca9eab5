/**
 * The clauses every Op owes (operations.md §11, "General rules"):
 * - ENS-EMB-ALL-1 `VmStore::inv()` after every step: the umbrella of INV-STORE-1..19 and
 *   INV-ACCT-1..3, which are checked at every boundary (group B or A as each is scoped); a failure
 *   of any of them is reported with ENS-EMB-ALL-1 alongside.
 * - ENS-EMB-ALL-2 cursors stay `metaregion_sound`: the umbrella of INV-SOUND-1..4 on the entries of
 *   nodes a live cursor holds (the same units as INV-STORE-7).
 * - ENS-EMB-ALL-3 `in_list` of every slot and `regions.slots` unchanged, on the Op events, unless a
 *   clause says otherwise: the `UniqueFrame` Ops (`unique_frame.from_unused`, `drop`, `into_shared`,
 *   `try_from_shared`) may change the parking of their own slot (the seed profile's `UniqueFrame`
 *   holds its slot un-parked, §11.24 note; INV-STORE-2 allows both); `frame.from_unused` re-parks
 *   (its slot only).
 */
import { heldByCursor } from '../../../model/pt_cursor.js'
import { frameToIndex } from '../../../arch/constants.js'
import { tableGet } from '../../../model/table.js'
import { entryOfUnit } from '../../pt_changes.js'
import type { EnsContext, EnsRule, UmbrellaRule } from '../../rule.js'
import { ens, ids, num, umbrella } from '../helpers.js'
import { inListKept, parkingKept } from './common.js'
import { EMBEDDING_OP_EVENTS } from './ops.js'

/** Slots whose parking an Op's own clauses let change. */
function parkingAllowed(ctx: EnsContext): number[] {
  switch (ctx.event.type) {
    case 'unique_frame.from_unused':
    case 'frame.from_unused':
      return [frameToIndex(num(ctx.event, 'paddr'))]
    case 'unique_frame.drop':
    case 'unique_frame.into_shared': {
      const u = tableGet(ctx.pre.uniqueFrames, num(ctx.event, 'unique'))
      return u === null ? [] : [frameToIndex(u.paddr)]
    }
    case 'unique_frame.try_from_shared': {
      const f = tableGet(ctx.pre.frames, num(ctx.event, 'frame'))
      return f === null ? [] : [frameToIndex(f.paddr)]
    }
    default:
      return []
  }
}

export const embAllUmbrellas: UmbrellaRule[] = [
  umbrella('ENS-EMB-ALL-1', [...ids('INV-STORE', 1, 19), ...ids('INV-ACCT', 1, 3)]),
  umbrella('ENS-EMB-ALL-2', ids('INV-SOUND', 1, 4), { scope: 'ptEntry', when: (s, unit) => heldByCursor(s, entryOfUnit(unit).node) !== null }),
]

export const embAllRules: EnsRule[] = [
  ens('ENS-EMB-ALL-3', EMBEDDING_OP_EVENTS, (ctx) => [...inListKept(ctx, 'ENS-EMB-ALL-3'), ...parkingKept(ctx, 'ENS-EMB-ALL-3', parkingAllowed(ctx))]),
]
