/**
 * Postconditions of the `Frame` handle life cycle (operations.md §1.4, §11.16–§11.18):
 * ENS-FRAME-FROMRAW-1..2, ENS-FRAME-DROP-1..2, ENS-FRAME-FORGET-1, ENS-EMB-FRAMEFROMUNUSED-1..4,
 * ENS-EMB-FRAMEFROMINUSE-1..3, ENS-EMB-FRAMEDROP-1..4, and the model's ENS-FRAME-CLONE-1.
 */
import { frameToIndex, PageUsage, REF_COUNT_UNIQUE, REF_COUNT_UNUSED, refCountName, validFramePaddr } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { isMmioPaddr, isParked, isPhysicalSlot, ownerOf } from '../../../model/slots.js'
import { tableGet } from '../../../model/table.js'
import type { EnsContext, EnsRule } from '../../rule.js'
import {
  cellsUnchanged,
  ens,
  isOkResult,
  num,
  obligationsChanged,
  otherSlotsChanged,
  outcomeIs,
  ownerFieldsUnchanged,
  parkingChanged,
  rcIs,
  storeUnchanged,
} from '../helpers.js'
import { getFromInUseOutcome } from './meta.js'

/** Slot of the frame handle named by the event, read from the pre-state. */
function handleIdx(ctx: EnsContext): number {
  return frameToIndex(tableGet(ctx.pre.frames, num(ctx.event, 'frame'))!.paddr)
}

/** The handle id a successful step returned (`{ frame }` or `Ok({ frame })`). */
function returnedFrame(ctx: EnsContext): number | null {
  const r = ctx.result as { frame?: number; ok?: boolean; value?: { frame?: number } }
  if (r === null || typeof r !== 'object') return null
  if (typeof r.frame === 'number') return r.frame
  return r.ok === true && typeof r.value?.frame === 'number' ? r.value.frame : null
}

/** A fresh handle to `paddr` was registered under the returned id (and only that one). */
function freshHandle(ctx: EnsContext, rule: string, paddr: number): Finding[] {
  const id = returnedFrame(ctx)
  const out: Finding[] = []
  if (id === null || tableGet(ctx.pre.frames, id) !== null || tableGet(ctx.post.frames, id)?.paddr !== paddr) {
    out.push(finding(rule, `frames[${id}]`, `no fresh Frame handle to ${paddr} was registered`, { paddr }, id === null ? null : tableGet(ctx.post.frames, id)))
  }
  for (const f of ctx.changes.frames) if (f !== id) out.push(finding(rule, `frames[${f}]`, `frame handle ${f} changed`, tableGet(ctx.pre.frames, f), tableGet(ctx.post.frames, f)))
  return out
}

function handleRemoved(ctx: EnsContext, rule: string): Finding[] {
  const id = num(ctx.event, 'frame')
  const out: Finding[] = []
  if (tableGet(ctx.post.frames, id) !== null) out.push(finding(rule, `frames[${id}]`, `frame handle ${id} is still registered`, null, tableGet(ctx.post.frames, id)))
  for (const f of ctx.changes.frames) if (f !== id) out.push(finding(rule, `frames[${f}]`, `frame handle ${f} changed`, tableGet(ctx.pre.frames, f), tableGet(ctx.post.frames, f)))
  return out
}

function rawCountDelta(ctx: EnsContext, rule: string, idx: number, delta: number): Finding[] {
  const want = ownerOf(ctx.pre, idx).rawCount + delta
  const got = ownerOf(ctx.post, idx).rawCount
  return got === want ? [] : [finding(rule, `regions.slotOwners[${idx}].rawCount`, `raw_count of slot ${idx} changed by ${got - ownerOf(ctx.pre, idx).rawCount}, expected ${delta}`, want, got)]
}

export const frameEnsRules: EnsRule[] = [
  // ---- from_raw
  ens('ENS-FRAME-FROMRAW-1', ['frame.from_raw'], (ctx) => {
    const rule = 'ENS-FRAME-FROMRAW-1'
    const paddr = num(ctx.event, 'paddr')
    const idx = frameToIndex(paddr)
    const out: Finding[] = []
    if (!isParked(ctx.post, idx)) out.push(finding(rule, `regions.slots[${idx}]`, 'the slot is not parked afterwards', true, false))
    out.push(...cellsUnchanged(ctx, rule, idx, ['refCount', 'storage', 'vtablePtr', 'inList']))
    out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']))
    out.push(...otherSlotsChanged(ctx, rule, [idx]), ...parkingChanged(ctx, rule, [idx]))
    out.push(...freshHandle(ctx, rule, paddr))
    return out
  }),
  ens('ENS-FRAME-FROMRAW-2', ['frame.from_raw'], (ctx) => {
    const idx = frameToIndex(num(ctx.event, 'paddr'))
    return [...obligationsChanged(ctx, 'ENS-FRAME-FROMRAW-2', new Map([[idx, 1]])), ...rawCountDelta(ctx, 'ENS-FRAME-FROMRAW-2', idx, -1)]
  }),
  // ---- drop
  ens('ENS-FRAME-DROP-1', ['frame.drop'], (ctx) => {
    const rule = 'ENS-FRAME-DROP-1'
    const idx = handleIdx(ctx)
    const rc = ownerOf(ctx.pre, idx).innerPerms.refCount
    const out = rc === 1 ? rcIs(ctx, rule, idx, REF_COUNT_UNUSED, 'dropping the last reference') : rcIs(ctx, rule, idx, rc - 1, 'dropping one reference')
    out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']))
    out.push(...otherSlotsChanged(ctx, rule, [idx]), ...parkingChanged(ctx, rule))
    return out
  }),
  ens('ENS-FRAME-DROP-2', ['frame.drop'], (ctx) => obligationsChanged(ctx, 'ENS-FRAME-DROP-2', new Map([[handleIdx(ctx), -1]]))),
  // ---- forget (into_raw)
  ens('ENS-FRAME-FORGET-1', ['frame.into_raw'], (ctx) => {
    const rule = 'ENS-FRAME-FORGET-1'
    const idx = handleIdx(ctx)
    return [
      ...obligationsChanged(ctx, rule, new Map([[idx, -1]])),
      ...rawCountDelta(ctx, rule, idx, +1),
      ...cellsUnchanged(ctx, rule, idx, ['refCount', 'storage', 'vtablePtr', 'inList']),
      ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']),
      ...otherSlotsChanged(ctx, rule, [idx]),
      ...parkingChanged(ctx, rule),
    ]
  }),
  // ---- clone (model rule: clone_ensures_concrete for a plain Frame)
  ens(
    'ENS-FRAME-CLONE-1',
    ['frame.clone'],
    (ctx) => {
      const rule = 'ENS-FRAME-CLONE-1'
      const idx = handleIdx(ctx)
      return [
        ...rcIs(ctx, rule, idx, ownerOf(ctx.pre, idx).innerPerms.refCount + 1, 'clone adds one reference'),
        ...cellsUnchanged(ctx, rule, idx, ['storage', 'vtablePtr', 'inList']),
        ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt', 'rawCount']),
        ...otherSlotsChanged(ctx, rule, [idx]),
        ...parkingChanged(ctx, rule),
        ...obligationsChanged(ctx, rule, new Map([[idx, 1]])),
        ...freshHandle(ctx, rule, tableGet(ctx.pre.frames, num(ctx.event, 'frame'))!.paddr),
      ]
    },
    '[model, `clone_ensures_concrete`] `Frame::clone`: rc + 1 at the slot, every other field and slot unchanged, one obligation minted, a fresh handle to the same frame.',
  ),
  // ---- embedding: FrameFromUnused
  ens('ENS-EMB-FRAMEFROMUNUSED-1', ['frame.from_unused'], (ctx) => {
    const paddr = num(ctx.event, 'paddr')
    const idx = frameToIndex(paddr)
    if (validFramePaddr(paddr) && isPhysicalSlot(ctx.pre, idx) && isParked(ctx.pre, idx)) return []
    return isOkResult(ctx.result)
      ? [finding('ENS-EMB-FRAMEFROMUNUSED-1', 'result', `from_unused succeeded on an invalid or un-parked address ${paddr}`, 'failure', ctx.result)]
      : storeUnchanged(ctx, 'ENS-EMB-FRAMEFROMUNUSED-1')
  }),
  ens('ENS-EMB-FRAMEFROMUNUSED-2', ['frame.from_unused'], (ctx) => {
    if (!isOkResult(ctx.result)) return []
    const rule = 'ENS-EMB-FRAMEFROMUNUSED-2'
    const paddr = num(ctx.event, 'paddr')
    const idx = frameToIndex(paddr)
    const post = ownerOf(ctx.post, idx)
    const out = rcIs(ctx, rule, idx, 1, 'a new shared frame')
    if (post.usage !== PageUsage.Frame) out.push(finding(rule, `regions.slotOwners[${idx}].usage`, 'usage is not Frame', 'Frame', post.usage))
    if (post.innerPerms.storage === null || post.innerPerms.vtablePtr === null) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms`, 'storage or vtable not initialised', 'init', post.innerPerms))
    out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'pathsInPt']))
    out.push(...otherSlotsChanged(ctx, rule, [idx]), ...parkingChanged(ctx, rule))
    out.push(...freshHandle(ctx, rule, paddr))
    return out
  }),
  ens('ENS-EMB-FRAMEFROMUNUSED-3', ['frame.from_unused'], (ctx) => (isOkResult(ctx.result) ? [] : storeUnchanged(ctx, 'ENS-EMB-FRAMEFROMUNUSED-3'))),
  ens('ENS-EMB-FRAMEFROMUNUSED-4', ['frame.from_unused'], (ctx) => {
    const paddr = num(ctx.event, 'paddr')
    const idx = frameToIndex(paddr)
    // (MMIO pages are in use for the exec CAS: see `unusedCasError`.)
    const should = validFramePaddr(paddr) && isPhysicalSlot(ctx.pre, idx) && isParked(ctx.pre, idx) && ownerOf(ctx.pre, idx).innerPerms.refCount === REF_COUNT_UNUSED && !isMmioPaddr(ctx.pre.config, paddr)
    const did = isOkResult(ctx.result)
    return should === did ? [] : [finding('ENS-EMB-FRAMEFROMUNUSED-4', 'result', `from_unused(${paddr}) ${did ? 'succeeded' : 'failed'} but the CAS UNUSED -> 0 ${should ? 'holds' : 'fails'}`, should ? 'Ok' : 'Err', ctx.result)]
  }),
  // ---- embedding: FrameFromInUse
  ens('ENS-EMB-FRAMEFROMINUSE-1', ['frame.from_in_use'], (ctx) => {
    const paddr = num(ctx.event, 'paddr')
    const idx = frameToIndex(paddr)
    if (validFramePaddr(paddr) && isPhysicalSlot(ctx.pre, idx) && isParked(ctx.pre, idx)) return []
    return isOkResult(ctx.result)
      ? [finding('ENS-EMB-FRAMEFROMINUSE-1', 'result', `from_in_use succeeded on an invalid or un-parked address ${paddr}`, 'failure', ctx.result)]
      : storeUnchanged(ctx, 'ENS-EMB-FRAMEFROMINUSE-1')
  }),
  ens('ENS-EMB-FRAMEFROMINUSE-2', ['frame.from_in_use'], (ctx) => {
    if (!isOkResult(ctx.result)) return []
    const rule = 'ENS-EMB-FRAMEFROMINUSE-2'
    const paddr = num(ctx.event, 'paddr')
    const idx = frameToIndex(paddr)
    const post = ownerOf(ctx.post, idx)
    const out = rcIs(ctx, rule, idx, ownerOf(ctx.pre, idx).innerPerms.refCount + 1, 'from_in_use adds one reference')
    if (post.usage !== PageUsage.Frame || post.innerPerms.storage === null) out.push(finding(rule, `regions.slotOwners[${idx}]`, 'afterwards the slot is not an initialised Frame', 'Frame, storage init', post))
    out.push(...cellsUnchanged(ctx, rule, idx, ['storage', 'vtablePtr', 'inList']))
    out.push(...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt', 'rawCount']))
    out.push(...otherSlotsChanged(ctx, rule, [idx]), ...parkingChanged(ctx, rule))
    out.push(...freshHandle(ctx, rule, paddr))
    return out
  }),
  ens('ENS-EMB-FRAMEFROMINUSE-3', ['frame.from_in_use'], (ctx) => {
    const paddr = num(ctx.event, 'paddr')
    const idx = frameToIndex(paddr)
    const rc = ownerOf(ctx.pre, idx).innerPerms.refCount
    const should = validFramePaddr(paddr) && isPhysicalSlot(ctx.pre, idx) && isParked(ctx.pre, idx) && ownerOf(ctx.pre, idx).usage === PageUsage.Frame && rc !== REF_COUNT_UNUSED && rc !== REF_COUNT_UNIQUE && rc !== 0
    const did = isOkResult(ctx.result)
    return should === did ? [] : [finding('ENS-EMB-FRAMEFROMINUSE-3', 'result', `from_in_use(${paddr}) ${did ? 'succeeded' : 'failed'} on a slot with usage ${ownerOf(ctx.pre, idx).usage}, rc ${refCountName(rc)}`, should ? 'Ok' : 'Err', ctx.result)]
  }),
  ens(
    'ENS-FRAME-FROMINUSE-1',
    ['frame.from_in_use'],
    (ctx) => {
      const paddr = num(ctx.event, 'paddr')
      let want: string = getFromInUseOutcome(ctx.pre, paddr)
      if (want === 'Ok' && ownerOf(ctx.pre, frameToIndex(paddr)).usage !== PageUsage.Frame) want = 'InUse'
      return outcomeIs(ctx, 'ENS-FRAME-FROMINUSE-1', want)
    },
    '[model, operations.md §1.2 (a), §11.17] `Frame::from_in_use(paddr)` fails as `get_from_in_use` does (`NotAligned`, `OutOfBound`, `Unused`, `Unique`, `Busy`), and with `Err(InUse)` on a shared slot whose usage is not `Frame` (a page-table node: ENS-EMB-FRAMEFROMINUSE-3); otherwise `Ok`.',
  ),
  // ---- embedding: FrameDrop
  ens('ENS-EMB-FRAMEDROP-1', ['frame.drop'], (ctx) => handleRemoved(ctx, 'ENS-EMB-FRAMEDROP-1')),
  ens('ENS-EMB-FRAMEDROP-2', ['frame.drop'], (ctx) => {
    const idx = handleIdx(ctx)
    if (ownerOf(ctx.pre, idx).innerPerms.refCount !== 1) return []
    const rule = 'ENS-EMB-FRAMEDROP-2'
    const post = ownerOf(ctx.post, idx)
    const out = rcIs(ctx, rule, idx, REF_COUNT_UNUSED, 'the last reference tears the slot down')
    if (post.innerPerms.storage !== null || post.innerPerms.vtablePtr !== null) out.push(finding(rule, `regions.slotOwners[${idx}].innerPerms`, 'storage or vtable still initialised after teardown', 'uninit', post.innerPerms))
    if (post.pathsInPt.length !== 0) out.push(finding(rule, `regions.slotOwners[${idx}].pathsInPt`, 'a torn-down frame is still mapped', [], post.pathsInPt))
    return out
  }),
  ens('ENS-EMB-FRAMEDROP-3', ['frame.drop'], (ctx) => {
    const idx = handleIdx(ctx)
    const rc = ownerOf(ctx.pre, idx).innerPerms.refCount
    if (!(rc > 1)) return []
    return [...rcIs(ctx, 'ENS-EMB-FRAMEDROP-3', idx, rc - 1, 'dropping one of several references'), ...cellsUnchanged(ctx, 'ENS-EMB-FRAMEDROP-3', idx, ['storage'])]
  }),
  ens('ENS-EMB-FRAMEDROP-4', ['frame.drop'], (ctx) => {
    const rule = 'ENS-EMB-FRAMEDROP-4'
    const idx = handleIdx(ctx)
    return [
      ...ownerFieldsUnchanged(ctx, rule, idx, ['selfAddr', 'usage', 'pathsInPt']),
      ...cellsUnchanged(ctx, rule, idx, ['inList']),
      ...otherSlotsChanged(ctx, rule, [idx]),
      ...parkingChanged(ctx, rule),
    ]
  }),
]
