/**
 * Invariants of meta slots and `MetaRegionOwners` (state.md §3.3, §4): INV-SLOT-1..9,
 * INV-REGIONS-1..6. All group A: they hold after every step, internal ones included.
 */
import { MAX_META_SLOTS, PageUsage, REF_COUNT_UNIQUE, refCountName } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { SLOT_OWNER_CLAUSES, slotAddrFixed, slotWf } from '../../../model/spec/slot.js'
import { isParked, ownerOf, slotOf } from '../../../model/slots.js'
import type { MetaSlotOwner } from '../../../model/snapshot.js'
import { tableGet } from '../../../model/table.js'
import type { InvRule, UmbrellaRule } from '../../rule.js'
import { ids, inv, umbrella } from '../helpers.js'

const USAGES = new Set<string>(Object.values(PageUsage))

/** INV-REGIONS-1 in TS terms: the owner map is total over the slot indices and every entry is an owner. */
function ownerShape(owner: MetaSlotOwner, idx: number): Finding[] {
  const path = `regions.slotOwners[${idx}]`
  if (!(Number.isInteger(idx) && idx >= 0 && idx < MAX_META_SLOTS)) {
    return [finding('INV-REGIONS-1', path, `slot index ${idx} is outside [0, max_meta_slots())`)]
  }
  const cells = owner?.innerPerms
  const ok =
    typeof owner === 'object' &&
    owner !== null &&
    typeof cells === 'object' &&
    cells !== null &&
    typeof cells.refCount === 'number' &&
    typeof cells.inList === 'number' &&
    typeof owner.selfAddr === 'number' &&
    USAGES.has(owner.usage) &&
    Number.isInteger(owner.rawCount) &&
    owner.rawCount >= 0 &&
    Array.isArray(owner.pathsInPt)
  return ok ? [] : [finding('INV-REGIONS-1', path, `slot_owners[${idx}] is not a well-formed MetaSlotOwner`, 'MetaSlotOwner', owner)]
}

export const slotInvariants: InvRule[] = [
  ...Object.entries(SLOT_OWNER_CLAUSES).map(([id, clause]) =>
    inv(id, 'A', 'slot', (s, idx) => clause(ownerOf(s, idx), idx, s.config)),
  ),
  inv('INV-SLOT-9', 'A', 'slot', (s, idx) => slotWf(slotOf(s, idx), ownerOf(s, idx), idx)),
  inv('INV-REGIONS-1', 'A', 'slot', (s, idx) => ownerShape(ownerOf(s, idx), idx)),
  inv('INV-REGIONS-2', 'A', 'slot', (s, idx) => {
    const entry = tableGet(s.regions.unparked, idx)
    if (entry === null) return []
    return entry === true && idx >= 0 && idx < s.nrFrames
      ? []
      : [finding('INV-REGIONS-2', `regions.slots[${idx}]`, `the slot-permission map has a malformed entry at ${idx}`, 'a slot index of physical memory', entry)]
  }),
  inv('INV-REGIONS-5', 'A', 'slot', (s, idx) => {
    if (isParked(s, idx)) return []
    const rc = ownerOf(s, idx).innerPerms.refCount
    return rc === REF_COUNT_UNIQUE
      ? []
      : [finding('INV-REGIONS-5', `regions.slots[${idx}]`, `slot ${idx} is not parked but its rc is ${refCountName(rc)}, not UNIQUE (MD-2)`, 'UNIQUE', rc)]
  }),
  inv('INV-REGIONS-6', 'A', 'slot', (s, idx) => slotAddrFixed(ownerOf(s, idx), idx)),
]

export const slotUmbrellas: UmbrellaRule[] = [
  umbrella('INV-REGIONS-3', [...ids('INV-SLOT', 1, 9), 'INV-REGIONS-6'], { scope: 'slot', when: (s, idx) => isParked(s, idx) }),
  umbrella('INV-REGIONS-4', ids('INV-SLOT', 1, 8), { scope: 'slot' }),
]
