/**
 * Postconditions of `FrameAllocOptions::alloc_frame` (model rules, behaviour.md §2.7):
 * ENS-FRAMEALLOC-FRAME-1 (which frame, or `Err(NoMemory)`, and where the allocator stands after)
 * and ENS-FRAMEALLOC-FRAME-2 (the frame's contents). The slot's ownership is the internal
 * `frame.from_unused` step's (ENS-EMB-FRAMEFROMUNUSED-1..4); these state what that step does not.
 */
import { frameToIndex, indexToFrame } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { policyFrame } from './allocator_policy.js'
import type { EnsRule } from '../../rule.js'
import { allocatorTook, ens, isErrResult, isOkResult, memoryZeroedOnly, storeUnchanged } from '../helpers.js'

const ALLOC_FRAME = ['frame_alloc.alloc_frame']

export const frameAllocRules: EnsRule[] = [
  ens(
    'ENS-FRAMEALLOC-FRAME-1',
    ALLOC_FRAME,
    (ctx) => {
      const rule = 'ENS-FRAMEALLOC-FRAME-1'
      const pick = policyFrame(ctx.pre)
      const out: Finding[] = []
      if (pick === null) {
        if (!(isErrResult(ctx.result) && ctx.result.error === 'NoMemory')) out.push(finding(rule, 'result', 'no frame is free, so alloc_frame must return Err(NoMemory)', { ok: false, error: 'NoMemory' }, ctx.result))
        out.push(...storeUnchanged(ctx, rule))
        return out
      }
      const paddr = indexToFrame(pick.firstIndex)
      const got = isOkResult(ctx.result) ? (ctx.result.value as { paddr?: unknown }).paddr : undefined
      if (got !== paddr) out.push(finding(rule, 'result', `the allocator policy picks ${paddr} (the most recently freed frame, else the first never-used one)`, { ok: true, value: { paddr } }, ctx.result))
      if (isOkResult(ctx.result)) out.push(...allocatorTook(ctx, rule, pick))
      else out.push(...storeUnchanged(ctx, rule))
      return out
    },
    '[model, behaviour.md §2.7] `alloc_frame`: no free frame ⟹ `Err(NoMemory)`, the state unchanged; otherwise `Ok` with the frame the allocator policy picks (the most recently freed one still free, LIFO; else the first never-used one), the free stack popped to it and the never-used mark past it, the stack\'s entries unwritten.',
  ),
  ens(
    'ENS-FRAMEALLOC-FRAME-2',
    ALLOC_FRAME,
    (ctx) => {
      if (!isOkResult(ctx.result)) return []
      const paddr = (ctx.result.value as { paddr: number }).paddr
      const zeroed = (ctx.event as unknown as { zeroed?: boolean }).zeroed !== false
      return memoryZeroedOnly(ctx, 'ENS-FRAMEALLOC-FRAME-2', new Set(zeroed ? [frameToIndex(paddr)] : []))
    },
    '[model, behaviour.md §2.7] `alloc_frame` `Ok`: the frame reads zero when `zeroed` (the default); with `zeroed(false)` its contents are left as they were; no other page is written.',
  ),
]
