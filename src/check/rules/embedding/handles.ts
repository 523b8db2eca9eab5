/**
 * The embedding's handle Ops still missing after the frame layer (operations.md §11.13, §11.15,
 * §11.24, §11.25): ENS-EMB-IOMETHOD-1 (the handle-only reader/writer methods), ENS-EMB-WRITE-1
 * (`vm_writer.write`), ENS-EMB-UNIQUEFROMUNUSED-1..3 (`unique_frame.from_unused`),
 * ENS-EMB-UNIQUEDROP-1 (`unique_frame.drop`).
 *
 * Differences from the spec:
 * - IOMETHOD / WRITE: the embedding keeps the exec cursor outside `VmStore`, so "the store is
 *   unchanged"; the model keeps it in the `VmIoEntry` (behaviour.md §2.8: the cursors advance, and
 *   the bytes move), so what is checked is the rest: the entry keeps its kind, fallibility, space,
 *   borrow and ghost owner identity; no other reader/writer, no handle, no slot, no parking and no
 *   VmSpace or VmSpace cursor changes. (`read_val` of a user reader, `fill_zeros` of a user writer
 *   also refill the TLB, which is outside the store.)
 * - UniqueFromUnused: the success condition is the exec one (valid, parked, `rc == UNUSED`, the
 *   CAS of `get_from_unused`): a torn-down frame slot keeps `usage == Frame` (ENS-EMB-FRAMEDROP-4),
 *   and OSTD reuses it; the embedding's `usage == Unused` is not required. -3: the seed profile's
 *   `UniqueFrame::from_unused` un-parks the slot (§11.24 note), so only that slot's parking may change.
 */
import { frameToIndex, REF_COUNT_UNIQUE, REF_COUNT_UNUSED, validFramePaddr } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { isParked, isPhysicalSlot, ownerOf } from '../../../model/slots.js'
import { tableGet } from '../../../model/table.js'
import type { EnsContext, EnsRule } from '../../rule.js'
import { cellsUnchanged, ens, isOkResult, num, otherSlotsChanged, ownerFieldsUnchanged, rcIs, storeUnchanged } from '../helpers.js'
import { parkingKept, registriesUnchanged, vmUnchanged } from './common.js'

/** The events of the handle-only I/O methods (§11.13), with the field naming the handle. */
export const IO_METHOD_EVENTS: ReadonlyArray<readonly [string, 'reader' | 'writer']> = [
  ['vm_reader.read_val', 'reader'], // ReaderReadVal
  ['vm_reader.collect', 'reader'], // ReaderCollect
  ['vm_reader.remain', 'reader'], // ReaderQuery
  ['vm_writer.write_val', 'writer'], // WriterWriteVal
  ['vm_writer.avail', 'writer'], // WriterQuery
  ['vm_reader.limit', 'reader'], // ReaderLimit
  ['vm_reader.skip', 'reader'], // ReaderSkip
  ['vm_writer.fill_zeros', 'writer'], // WriterFillZeros
  ['vm_writer.limit', 'writer'], // WriterLimit
  ['vm_writer.skip', 'writer'], // WriterSkip
]
const FIELD = new Map(IO_METHOD_EVENTS)

/** The entries `ids` keep everything but their cursor and end; no other vm_io changes; the rest of the store is unchanged. */
function onlyCursorsMove(ctx: EnsContext, rule: string, ids: readonly number[]): Finding[] {
  const out: Finding[] = []
  for (const id of ids) {
    const a = tableGet(ctx.pre.vmIos, id)
    const b = tableGet(ctx.post.vmIos, id)
    if (a === null) continue
    if (b === null) {
      out.push(finding(rule, `vmIos[${id}]`, `vm_io ${id} left the store`, a, null))
      continue
    }
    const sameSpace = JSON.stringify(a.space) === JSON.stringify(b.space) && JSON.stringify(a.borrow) === JSON.stringify(b.borrow)
    const sameOwner = (a.owner === undefined) === (b.owner === undefined) && (a.owner === undefined || (a.owner.id === b.owner!.id && a.owner.isFallible === b.owner!.isFallible && a.owner.isKernel === b.owner!.isKernel))
    if (a.kind !== b.kind || a.fallible !== b.fallible || !sameSpace || !sameOwner) out.push(finding(rule, `vmIos[${id}]`, `vm_io ${id} changed its kind, space, borrow or owner`, a, b))
  }
  for (const k of ctx.changes.vmIos) if (!ids.includes(k)) out.push(finding(rule, `vmIos[${k}]`, `vm_io ${k} changed`, tableGet(ctx.pre.vmIos, k), tableGet(ctx.post.vmIos, k)))
  out.push(...otherSlotsChanged(ctx, rule, []), ...parkingKept(ctx, rule), ...registriesUnchanged(ctx, rule, ['frames', 'segments', 'uniqueFrames', 'lists']), ...vmUnchanged(ctx, rule, ['spaces', 'cursors']))
  return out
}

function uniqueFromUnusedRules(): EnsRule[] {
  const T = ['unique_frame.from_unused']
  const idxOf = (ctx: EnsContext): number => frameToIndex(num(ctx.event, 'paddr'))
  const should = (ctx: EnsContext): boolean => {
    const pa = num(ctx.event, 'paddr')
    const idx = frameToIndex(pa)
    return validFramePaddr(pa) && isPhysicalSlot(ctx.pre, idx) && isParked(ctx.pre, idx) && ownerOf(ctx.pre, idx).innerPerms.refCount === REF_COUNT_UNUSED
  }
  return [
    ens('ENS-EMB-UNIQUEFROMUNUSED-1', T, (ctx) => {
      const rule = 'ENS-EMB-UNIQUEFROMUNUSED-1'
      const want = should(ctx)
      const did = isOkResult(ctx.result)
      if (want !== did) return [finding(rule, 'result', `from_unused(${num(ctx.event, 'paddr')}) ${did ? 'succeeded' : 'failed'}`, want ? 'Ok' : 'Err', ctx.result)]
      return did ? [] : storeUnchanged(ctx, rule)
    }),
    ens('ENS-EMB-UNIQUEFROMUNUSED-2', T, (ctx) => {
      if (!isOkResult(ctx.result)) return []
      const rule = 'ENS-EMB-UNIQUEFROMUNUSED-2'
      const idx = idxOf(ctx)
      const b = ownerOf(ctx.post, idx)
      const out = rcIs(ctx, rule, idx, REF_COUNT_UNIQUE, 'a unique frame')
      if (b.usage !== 'Frame') out.push(finding(rule, `regions.slotOwners[${idx}].usage`, 'usage is not Frame', 'Frame', b.usage))
      if (b.innerPerms.inList !== 0) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.inList`, 'in_list is not 0', 0, b.innerPerms.inList))
      if (b.innerPerms.storage === null) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms.storage`, 'storage is not initialised', 'init', null))
      out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'pathsInPt']), ...otherSlotsChanged(ctx, rule, [idx]))
      const uid = (ctx.result.value as { unique: number }).unique
      if (tableGet(ctx.pre.uniqueFrames, uid) !== null || tableGet(ctx.post.uniqueFrames, uid)?.paddr !== num(ctx.event, 'paddr')) {
        out.push(finding(rule, `uniqueFrames[${uid}]`, `no fresh UniqueFrame entry for ${num(ctx.event, 'paddr')}`, { paddr: num(ctx.event, 'paddr') }, tableGet(ctx.post.uniqueFrames, uid)))
      }
      return out
    }),
    ens('ENS-EMB-UNIQUEFROMUNUSED-3', T, (ctx) => parkingKept(ctx, 'ENS-EMB-UNIQUEFROMUNUSED-3', isOkResult(ctx.result) ? [idxOf(ctx)] : [])),
  ]
}

export const embHandleRules: EnsRule[] = [
  ens('ENS-EMB-IOMETHOD-1', IO_METHOD_EVENTS.map(([t]) => t), (ctx) => onlyCursorsMove(ctx, 'ENS-EMB-IOMETHOD-1', [num(ctx.event, FIELD.get(ctx.event.type)!)])),
  ens('ENS-EMB-WRITE-1', ['vm_writer.write'], (ctx) => onlyCursorsMove(ctx, 'ENS-EMB-WRITE-1', [num(ctx.event, 'writer'), num(ctx.event, 'reader')])),
  ...uniqueFromUnusedRules(),
  ens('ENS-EMB-UNIQUEDROP-1', ['unique_frame.drop'], (ctx) => {
    const rule = 'ENS-EMB-UNIQUEDROP-1'
    const uid = num(ctx.event, 'unique')
    const idx = frameToIndex(tableGet(ctx.pre.uniqueFrames, uid)!.paddr)
    const out: Finding[] = []
    if (tableGet(ctx.post.uniqueFrames, uid) !== null) out.push(finding(rule, `uniqueFrames[${uid}]`, `UniqueFrame ${uid} is still in the store`, null, tableGet(ctx.post.uniqueFrames, uid)))
    out.push(...rcIs(ctx, rule, idx, REF_COUNT_UNUSED, 'dropping the unique frame'))
    out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['usage', 'pathsInPt', 'selfAddr']), ...cellsUnchanged(ctx, rule, idx, ['inList']), ...otherSlotsChanged(ctx, rule, [idx]), ...parkingKept(ctx, rule, [idx]))
    return out
  }),
]
