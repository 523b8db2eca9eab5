/**
 * Postconditions of the meta-slot transitions (operations.md §1.1–§1.3): ENS-META-GETUNUSED-1..5,
 * ENS-META-GETINUSE-1..2, ENS-META-DROPLAST-1. Clauses that restate `regions.inv()` are left to
 * the INV-SLOT / INV-REGIONS invariants, which run after every step.
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, frameToMeta, PAGE_SIZE, PageUsage, REF_COUNT_UNIQUE, REF_COUNT_UNUSED, refCountName, validFramePaddr } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { isMmioPaddr, isPhysicalSlot, ownerOf } from '../../../model/slots.js'
import type { FrameMeta, Snapshot } from '../../../model/snapshot.js'
import type { EnsContext, EnsRule } from '../../rule.js'
import {
  cellsUnchanged,
  ens,
  isErrResult,
  isOkResult,
  num,
  obligationsChanged,
  otherSlotsChanged,
  outcomeIs,
  ownerFieldsUnchanged,
  parkingChanged,
  rcIs,
} from '../helpers.js'

const GET_FROM_UNUSED = ['meta_slot.get_from_unused']
const GET_FROM_IN_USE = ['meta_slot.get_from_in_use']

function regionsUnchanged(ctx: EnsContext, rule: string): Finding[] {
  return [...otherSlotsChanged(ctx, rule, []), ...parkingChanged(ctx, rule), ...obligationsChanged(ctx, rule, new Map())]
}

function okResultAddr(ctx: EnsContext, rule: string): Finding[] {
  const paddr = num(ctx.event, 'paddr')
  const out: Finding[] = []
  if (!validFramePaddr(paddr)) out.push(finding(rule, 'event.paddr', `Ok for an invalid frame address ${paddr}`, 'valid_frame_paddr', paddr))
  const got = (ctx.result as { value: { metaAddr: number } }).value.metaAddr
  if (got !== frameToMeta(paddr)) out.push(finding(rule, 'result.value.metaAddr', 'the returned slot pointer is not frame_to_meta(paddr)', frameToMeta(paddr), got))
  return out
}

/** The address checks both `get_from_*` make first (the spec's, not the reducer's `addressError`). */
function addressOutcome(s: Snapshot, paddr: number): 'NotAligned' | 'OutOfBound' | null {
  if (paddr % PAGE_SIZE !== 0) return 'NotAligned'
  if (!validFramePaddr(paddr) || !isPhysicalSlot(s, frameToIndex(paddr))) return 'OutOfBound'
  return null
}

/**
 * What `get_from_in_use(paddr)` returns, as operations.md §1.2 (a) states it: the address checks
 * (`NotAligned`, `OutOfBound`), then the ref count (`UNUSED` → `Unused`, `UNIQUE` → `Unique`,
 * `0` → `Busy`), else `Ok`. Read from the ghost ref count, not the reducers' helpers.
 */
export function getFromInUseOutcome(s: Snapshot, paddr: number): 'Ok' | 'NotAligned' | 'OutOfBound' | 'Unused' | 'Unique' | 'Busy' {
  const bad = addressOutcome(s, paddr)
  if (bad !== null) return bad
  const rc = ownerOf(s, frameToIndex(paddr)).innerPerms.refCount
  return rc === REF_COUNT_UNUSED ? 'Unused' : rc === REF_COUNT_UNIQUE ? 'Unique' : rc === 0 ? 'Busy' : 'Ok'
}

/**
 * What `get_from_unused(paddr, …)` returns (operations.md §1.1 (a)): the address checks, then the
 * CAS `UNUSED → 0` — `Err(Unique)` on a UNIQUE slot, `Err(Busy)` on 0, `Err(InUse)` otherwise.
 * An MMIO page is `Err(InUse)` (the model's deviation, reducers/frame/meta.ts `unusedCasError`).
 * Read from the ghost owner, not from the cells the reducer reads.
 */
export function getFromUnusedOutcome(s: Snapshot, paddr: number): 'Ok' | 'NotAligned' | 'OutOfBound' | 'InUse' | 'Unique' | 'Busy' {
  const bad = addressOutcome(s, paddr)
  if (bad !== null) return bad
  if (isMmioPaddr(s.config, paddr)) return 'InUse'
  const rc = ownerOf(s, frameToIndex(paddr)).innerPerms.refCount
  return rc === REF_COUNT_UNUSED ? 'Ok' : rc === REF_COUNT_UNIQUE ? 'Unique' : rc === 0 ? 'Busy' : 'InUse'
}

export const metaEnsRules: EnsRule[] = [
  ens('ENS-META-GETUNUSED-1', GET_FROM_UNUSED, (ctx) => (isErrResult(ctx.result) ? regionsUnchanged(ctx, 'ENS-META-GETUNUSED-1') : [])),
  ens('ENS-META-GETUNUSED-2', GET_FROM_UNUSED, (ctx) => (isOkResult(ctx.result) ? okResultAddr(ctx, 'ENS-META-GETUNUSED-2') : [])),
  ens('ENS-META-GETUNUSED-3', GET_FROM_UNUSED, (ctx) => {
    if (!isOkResult(ctx.result)) return []
    const rule = 'ENS-META-GETUNUSED-3'
    const idx = frameToIndex(num(ctx.event, 'paddr'))
    const e = ctx.event as unknown as { meta: FrameMeta; asUnique: boolean }
    const pre = ownerOf(ctx.pre, idx)
    const post = ownerOf(ctx.post, idx)
    const out: Finding[] = []
    if (pre.innerPerms.refCount !== REF_COUNT_UNUSED) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.refCount`, `Ok although the slot was not UNUSED (rc ${refCountName(pre.innerPerms.refCount)})`, 'UNUSED', pre.innerPerms.refCount))
    out.push(...rcIs(ctx, rule, idx, e.asUnique ? REF_COUNT_UNIQUE : 1, 'after get_from_unused'))
    if (post.innerPerms.inList !== 0) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.inList`, 'in_list is not 0', 0, post.innerPerms.inList))
    const storage = post.innerPerms.storage
    if (storage === null || storage.kind !== 'Frame' || !equal(storage.meta, e.meta)) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.storage`, 'the storage does not hold the given metadata', { kind: 'Frame', meta: e.meta }, storage))
    if (post.innerPerms.vtablePtr === null) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.vtablePtr`, 'the vtable cell is not initialised', 'init', null))
    if (post.usage !== PageUsage.Frame) out.push(finding(rule, `regions.slotOwners[${idx}].usage`, 'usage is not Frame', 'Frame', post.usage))
    out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'pathsInPt']))
    out.push(...otherSlotsChanged(ctx, rule, [idx]))
    return out
  }),
  ens(
    'ENS-META-GETUNUSED-6',
    GET_FROM_UNUSED,
    (ctx) => outcomeIs(ctx, 'ENS-META-GETUNUSED-6', getFromUnusedOutcome(ctx.pre, num(ctx.event, 'paddr'))),
    '[model, operations.md §1.1 (a)] `get_from_unused(paddr)` returns `Err(NotAligned)` for an unaligned address, `Err(OutOfBound)` beyond physical memory, `Err(InUse)` for an MMIO page (model deviation), then by the ref count `Ok` (UNUSED), `Err(Unique)` (UNIQUE), `Err(Busy)` (0), else `Err(InUse)`.',
  ),
  ens('ENS-META-GETUNUSED-4', GET_FROM_UNUSED, (ctx) => (isOkResult(ctx.result) ? parkingChanged(ctx, 'ENS-META-GETUNUSED-4') : [])),
  ens('ENS-META-GETUNUSED-5', ['frame.from_unused'], (ctx) => {
    const idx = frameToIndex(num(ctx.event, 'paddr'))
    return obligationsChanged(ctx, 'ENS-META-GETUNUSED-5', isOkResult(ctx.result) ? new Map([[idx, 1]]) : new Map())
  }),
  ens('ENS-META-GETINUSE-1', GET_FROM_IN_USE, (ctx) => [
    ...(isErrResult(ctx.result) ? regionsUnchanged(ctx, 'ENS-META-GETINUSE-1') : []),
    ...obligationsChanged(ctx, 'ENS-META-GETINUSE-1', new Map()),
  ]),
  ens(
    'ENS-META-GETINUSE-3',
    GET_FROM_IN_USE,
    (ctx) => outcomeIs(ctx, 'ENS-META-GETINUSE-3', getFromInUseOutcome(ctx.pre, num(ctx.event, 'paddr'))),
    '[model, operations.md §1.2 (a)] `get_from_in_use(paddr)` returns `Err(NotAligned)` for an unaligned address, `Err(OutOfBound)` beyond physical memory, then by the ref count `Err(Unused)` (UNUSED), `Err(Unique)` (UNIQUE), `Err(Busy)` (0), else `Ok`.',
  ),
  ens('ENS-META-GETINUSE-2', GET_FROM_IN_USE, (ctx) => {
    if (!isOkResult(ctx.result)) return []
    const rule = 'ENS-META-GETINUSE-2'
    const idx = frameToIndex(num(ctx.event, 'paddr'))
    return [
      ...okResultAddr(ctx, rule),
      ...rcIs(ctx, rule, idx, ownerOf(ctx.pre, idx).innerPerms.refCount + 1, 'get_from_in_use adds one reference'),
      ...cellsUnchanged(ctx, rule, idx, ['storage', 'vtablePtr', 'inList']),
      ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt', 'rawCount']),
      ...otherSlotsChanged(ctx, rule, [idx]),
    ]
  }),
  ens('ENS-META-DROPLAST-1', ['meta_slot.drop_last_in_place'], (ctx) => {
    const rule = 'ENS-META-DROPLAST-1'
    const idx = frameToIndex(num(ctx.event, 'paddr'))
    const post = ownerOf(ctx.post, idx)
    const out = rcIs(ctx, rule, idx, REF_COUNT_UNUSED, 'drop_last_in_place frees the slot')
    if (post.innerPerms.storage !== null) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.storage`, 'the metadata was not dropped', null, post.innerPerms.storage))
    if (post.innerPerms.vtablePtr !== null) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.vtablePtr`, 'the vtable cell is still initialised', null, post.innerPerms.vtablePtr))
    out.push(...cellsUnchanged(ctx, rule, idx, ['inList']))
    out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']))
    return out
  }),
]
