/**
 * Postconditions of the VmSpaceOwner ghost operations and of the seed's reader/writer functions
 * (reducers/vm_space/owner.ts, reader_writer.ts; operations.md §7, §8.4–8.7):
 * ENS-VMSOWNER-DISPOSE{READER,WRITER}-1..3, ENS-VMSOWNER-REMOVEREADER-1..3,
 * ENS-VMSOWNER-REMOVEWRITER-1..4, ENS-VMSPACE-ACT{READER,WRITER}-1..5,
 * ENS-VMSPACE-CREATE{READER,WRITER}-1..4, and the model's ENS-VMSOWNER-NEWID-1.
 *
 * Deviations: ENS-VMSPACE-ACTWRITER-4/5 use the corrected `split_spec` (src/model/vm_space.ts
 * `splitView`, spec/README.md §4 item 11). "`self.inv()`" clauses exempt the view of a writer on its
 * way back to the space (MD-10, as the precondition of `dispose_writer` does).
 */
import equal from 'fast-deep-equal/es6/index.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import type { Snapshot } from '../../../model/snapshot.js'
import { tableGet } from '../../../model/table.js'
import { borrowAt, joinView, splitView, vmIoInvWith, vmSpaceAt, vmSpaceFindings, type VmSpaceRecord } from '../../../model/vm_space.js'
import type { EnsContext, EnsRule } from '../../rule.js'
import { ens, isOkResult, num } from '../helpers.js'

const OWNER_INV = new Set(['INV-VMSPACE-2', 'INV-VMSPACE-3', 'INV-VMSPACE-4', 'INV-VMSPACE-5', 'INV-VMSPACE-6', 'INV-VMSPACE-7', 'INV-VMSPACE-8', 'INV-VMSPACE-9', 'INV-VMSPACE-10', 'INV-VMSPACE-11'])

function spaces(ctx: EnsContext): { id: number; pre: VmSpaceRecord; post: VmSpaceRecord } | null {
  const id = num(ctx.event, 'vmSpace')
  const pre = vmSpaceAt(ctx.pre, id)
  const post = vmSpaceAt(ctx.post, id)
  return pre === null || post === null ? null : { id, pre, post }
}

/** `self.inv()` of the owner after the step (INV-VMSPACE-2..11), as findings of `rule`. */
function ownerInv(rule: string, s: Snapshot, id: number, r: VmSpaceRecord): Finding[] {
  return vmSpaceFindings(s, id, r)
    .filter((f) => OWNER_INV.has(f.rule))
    .map((f) => finding(rule, f.path, `self.inv() fails after the step: ${f.rule}: ${f.message}`, f.expected, f.actual))
}

function flagsKept(rule: string, pre: VmSpaceRecord, post: VmSpaceRecord, id: number): Finding[] {
  return pre.owner.active === post.owner.active && pre.owner.sharedReader === post.owner.sharedReader
    ? []
    : [finding(rule, `vm.spaces[${id}].owner`, 'active / shared_reader changed', { active: pre.owner.active, sharedReader: pre.owner.sharedReader }, { active: post.owner.active, sharedReader: post.owner.sharedReader })]
}

function listIs(rule: string, id: number, name: 'readers' | 'writers', want: readonly number[], got: readonly number[]): Finding[] {
  return equal(want, got) ? [] : [finding(rule, `vm.spaces[${id}].owner.${name}`, `the owner's ${name} are not what the operation leaves`, want, got)]
}

// ---- dispose / remove -------------------------------------------------------------------------------

function disposeRules(kind: 'reader' | 'writer'): EnsRule[] {
  const K = kind === 'reader' ? 'READER' : 'WRITER'
  const type = `vm_space_owner.dispose_${kind}`
  const name = kind === 'reader' ? 'readers' : 'writers'
  return [
    ens(`ENS-VMSOWNER-DISPOSE${K}-1`, [type], (ctx) => {
      const x = spaces(ctx)
      return x === null ? [] : ownerInv(`ENS-VMSOWNER-DISPOSE${K}-1`, ctx.post, x.id, x.post)
    }),
    ens(`ENS-VMSOWNER-DISPOSE${K}-2`, [type], (ctx) => {
      const x = spaces(ctx)
      return x === null ? [] : flagsKept(`ENS-VMSOWNER-DISPOSE${K}-2`, x.pre, x.post, x.id)
    }),
    ens(`ENS-VMSOWNER-DISPOSE${K}-3`, [type], (ctx) => {
      const x = spaces(ctx)
      if (x === null) return []
      const vio = num(ctx.event, kind)
      const o = tableGet(ctx.pre.vmIos, vio)?.owner
      if (o === undefined) return []
      const want = o.range.start < o.range.end ? [...x.pre.owner[name], vio] : x.pre.owner[name]
      const other = kind === 'reader' ? 'writers' : 'readers'
      return [...listIs(`ENS-VMSOWNER-DISPOSE${K}-3`, x.id, name, want, x.post.owner[name]), ...listIs(`ENS-VMSOWNER-DISPOSE${K}-3`, x.id, other, x.pre.owner[other], x.post.owner[other])]
    }),
  ]
}

function removeRules(kind: 'reader' | 'writer'): EnsRule[] {
  const K = kind === 'reader' ? 'READER' : 'WRITER'
  const type = `vm_space_owner.remove_${kind}`
  const name = kind === 'reader' ? 'readers' : 'writers'
  const rules: EnsRule[] = [
    ens(`ENS-VMSOWNER-REMOVE${K}-1`, [type], (ctx) => {
      const x = spaces(ctx)
      return x === null ? [] : ownerInv(`ENS-VMSOWNER-REMOVE${K}-1`, ctx.post, x.id, x.post)
    }),
    ens(`ENS-VMSOWNER-REMOVE${K}-2`, [type], (ctx) => {
      const x = spaces(ctx)
      return x === null ? [] : flagsKept(`ENS-VMSOWNER-REMOVE${K}-2`, x.pre, x.post, x.id)
    }),
    ens(`ENS-VMSOWNER-REMOVE${K}-3`, [type], (ctx) => {
      const x = spaces(ctx)
      if (x === null) return []
      const idx = num(ctx.event, 'idx')
      const out = listIs(`ENS-VMSOWNER-REMOVE${K}-3`, x.id, name, x.pre.owner[name].filter((_, i) => i !== idx), x.post.owner[name])
      if (kind === 'reader' && !equal(x.pre.owner.memView, x.post.owner.memView)) out.push(finding('ENS-VMSOWNER-REMOVEREADER-3', `vm.spaces[${x.id}].owner.memView`, 'remove_reader changed the remaining view (a read view is borrowed: nothing to give back)'))
      return out
    }),
  ]
  if (kind === 'writer') {
    rules.push(
      ens('ENS-VMSOWNER-REMOVEWRITER-4', [type], (ctx) => {
        const x = spaces(ctx)
        if (x === null) return []
        const vio = x.pre.owner.writers[num(ctx.event, 'idx')]
        const view = vio === undefined ? null : (tableGet(ctx.pre.vmIos, vio)?.owner?.memView ?? null)
        if (view === null || x.pre.owner.memView === null) return []
        const want = joinView(x.pre.owner.memView, view.view)
        return equal(want, x.post.owner.memView) ? [] : [finding('ENS-VMSOWNER-REMOVEWRITER-4', `vm.spaces[${x.id}].owner.memView`, "the remaining view is not the old one joined with the removed writer's view", want.mappings.map((m) => m.vaRange), x.post.owner.memView?.mappings.map((m) => m.vaRange))]
      }),
    )
  }
  return rules
}

// ---- activate_reader / activate_writer -------------------------------------------------------------------

function activateRules(kind: 'reader' | 'writer'): EnsRule[] {
  const K = kind === 'reader' ? 'READER' : 'WRITER'
  const type = `vm_space.activate_${kind}`
  const name = kind === 'reader' ? 'readers' : 'writers'
  const io = (ctx: EnsContext): number => num(ctx.event, kind)
  return [
    ens(`ENS-VMSPACE-ACT${K}-1`, [type], (ctx) => {
      const x = spaces(ctx)
      if (x === null) return []
      const out = vmSpaceFindings(ctx.post, x.id, x.post)
        .filter((f) => f.rule === 'INV-VMSPACE-1')
        .map((f) => finding(`ENS-VMSPACE-ACT${K}-1`, f.path, `self.inv() fails: ${f.message}`))
      if (x.pre.sharedReader !== x.post.sharedReader) out.push(finding(`ENS-VMSPACE-ACT${K}-1`, `vm.spaces[${x.id}].sharedReader`, 'shared_reader changed', x.pre.sharedReader, x.post.sharedReader))
      return out
    }),
    ens(`ENS-VMSPACE-ACT${K}-2`, [type], (ctx) => {
      const x = spaces(ctx)
      if (x === null) return []
      const want = [...x.pre[name], io(ctx)]
      return equal(want, x.post[name]) ? [] : [finding(`ENS-VMSPACE-ACT${K}-2`, `vm.spaces[${x.id}].${name}`, `self.${name} is not old.${name}.push(${kind})`, want, x.post[name])]
    }),
    ens(`ENS-VMSPACE-ACT${K}-3`, [type], (ctx) => {
      const e = tableGet(ctx.post.vmIos, io(ctx))
      if (e === null || e.owner === undefined) return [finding(`ENS-VMSPACE-ACT${K}-3`, `vmIos[${io(ctx)}]`, `the ${kind} or its owner is gone`)]
      return vmIoInvWith(e.owner, io(ctx), e, `vmIos[${io(ctx)}].owner`).map((f) => finding(`ENS-VMSPACE-ACT${K}-3`, f.path, f.message, f.expected, f.actual))
    }),
    ens(`ENS-VMSPACE-ACT${K}-4`, [type], (ctx) => {
      const x = spaces(ctx)
      const pre = tableGet(ctx.pre.vmIos, io(ctx))?.owner
      const post = tableGet(ctx.post.vmIos, io(ctx))?.owner
      if (x === null || pre === undefined || post === undefined || x.pre.owner.memView === null) return []
      const len = pre.range.end - pre.range.start
      const want = kind === 'reader' ? { kind: 'ReadView', view: borrowAt(x.pre.owner.memView, pre.range.start, len) } : { kind: 'WriteView', view: splitView(x.pre.owner.memView, pre.range.start, len)[0] }
      return equal(want, post.memView) ? [] : [finding(`ENS-VMSPACE-ACT${K}-4`, `vmIos[${io(ctx)}].owner.memView`, `the owner's view is not ${kind === 'reader' ? 'ReadView(mem_view.borrow_at(range))' : 'WriteView(mem_view.split(range).0)'}`, want.view.mappings.map((m) => m.vaRange), post.memView?.view.mappings.map((m) => m.vaRange))]
    }),
    ens(`ENS-VMSPACE-ACT${K}-5`, [type], (ctx) => {
      const x = spaces(ctx)
      const pre = tableGet(ctx.pre.vmIos, io(ctx))?.owner
      if (x === null || pre === undefined || x.pre.owner.memView === null) return []
      const want = kind === 'reader' ? x.pre.owner : { ...x.pre.owner, memView: splitView(x.pre.owner.memView, pre.range.start, pre.range.end - pre.range.start)[1] }
      return equal(want, x.post.owner) ? [] : [finding(`ENS-VMSPACE-ACT${K}-5`, `vm.spaces[${x.id}].owner`, kind === 'reader' ? 'activate_reader changed the VmSpaceOwner' : 'the VmSpaceOwner is not the old one with mem_view := split(range).1', want.memView?.mappings.map((m) => m.vaRange), x.post.owner.memView?.mappings.map((m) => m.vaRange))]
    }),
  ]
}

// ---- create_reader / create_writer ----------------------------------------------------------------------

function createRules(kind: 'reader' | 'writer'): EnsRule[] {
  const K = kind === 'reader' ? 'READER' : 'WRITER'
  const type = `vm_space.create_${kind}`
  const newIo = (ctx: EnsContext): number | null => (isOkResult(ctx.result) ? ((ctx.result.value as Record<string, number>)[kind] ?? null) : null)
  return [
    ens(`ENS-VMSPACE-CREATE${K}-1`, [type], (ctx) => {
      const x = spaces(ctx)
      return x === null ? [] : ownerInv(`ENS-VMSPACE-CREATE${K}-1`, ctx.post, x.id, x.post)
    }),
    ens(`ENS-VMSPACE-CREATE${K}-2`, [type], (ctx) => {
      const x = spaces(ctx)
      if (x === null) return []
      return [...listIs(`ENS-VMSPACE-CREATE${K}-2`, x.id, 'readers', x.pre.owner.readers, x.post.owner.readers), ...listIs(`ENS-VMSPACE-CREATE${K}-2`, x.id, 'writers', x.pre.owner.writers, x.post.owner.writers)]
    }),
    ens(`ENS-VMSPACE-CREATE${K}-3`, [type], (ctx) => {
      const id = newIo(ctx)
      if (id === null) return []
      const e = tableGet(ctx.post.vmIos, id)
      if (e === null || e.owner === undefined) return [finding(`ENS-VMSPACE-CREATE${K}-3`, `vmIos[${id}]`, `Ok names no ${kind} with an owner`)]
      const out = vmIoInvWith(e.owner, id, e, `vmIos[${id}].owner`).map((f) => finding(`ENS-VMSPACE-CREATE${K}-3`, f.path, f.message, f.expected, f.actual))
      if (e.cursor > e.end) out.push(finding(`ENS-VMSPACE-CREATE${K}-3`, `vmIos[${id}]`, `the ${kind} is not inv(): cursor past end`))
      if (e.owner.memView !== null) out.push(finding(`ENS-VMSPACE-CREATE${K}-3`, `vmIos[${id}].owner.memView`, 'the new owner holds a view', null, 'a view'))
      return out
    }),
    ens(`ENS-VMSPACE-CREATE${K}-4`, [type], (ctx) => {
      const rule = `ENS-VMSPACE-CREATE${K}-4`
      const id = newIo(ctx)
      if (id === null) return [finding(rule, 'result', `create_${kind} always returns Ok`, 'Ok', ctx.result)]
      const e = tableGet(ctx.post.vmIos, id)
      const va = num(ctx.event, 'va')
      const len = num(ctx.event, 'len')
      const out: Finding[] = []
      if (tableGet(ctx.pre.vmIos, id) !== null) out.push(finding(rule, `vmIos[${id}]`, 'the id is not fresh'))
      if (e === null || e.kind !== (kind === 'reader' ? 'Reader' : 'Writer') || e.cursor !== va || e.end !== va + len || !e.fallible || e.space.kind !== 'user' || e.space.vmSpace !== num(ctx.event, 'vmSpace') || e.owner === undefined || !e.owner.isFallible || e.owner.isKernel) {
        out.push(finding(rule, `vmIos[${id}]`, `the new ${kind} is not a fallible user-space ${kind} of this space over [va, va + len)`, { cursor: va, end: va + len }, e))
      }
      return out
    }),
  ]
}

export const vmSpaceOwnerRules: EnsRule[] = [
  ...disposeRules('reader'),
  ...disposeRules('writer'),
  ...removeRules('reader'),
  ...removeRules('writer'),
  ...activateRules('reader'),
  ...activateRules('writer'),
  ...createRules('reader'),
  ...createRules('writer'),
  ens(
    'ENS-VMSOWNER-NEWID-1',
    ['vm_space_owner.new_vm_io_id'],
    (ctx) => {
      const id = (ctx.result as { id: number }).id
      const out: Finding[] = []
      if (tableGet(ctx.pre.vmIos, id) !== null || id < ctx.pre.counters.vmIo) out.push(finding('ENS-VMSOWNER-NEWID-1', 'result.id', `id ${id} is not fresh (the vmIo counter was ${ctx.pre.counters.vmIo})`))
      if (ctx.post.counters.vmIo <= id) out.push(finding('ENS-VMSOWNER-NEWID-1', 'counters.vmIo', 'the counter did not move past the id', id + 1, ctx.post.counters.vmIo))
      if (ctx.pre.vm !== ctx.post.vm || ctx.pre.vmIos !== ctx.post.vmIos) out.push(finding('ENS-VMSOWNER-NEWID-1', 'vm', 'new_vm_io_id changed more than the counter'))
      return out
    },
    '[model] `new_vm_io_id()` returns an id no reader or writer has (the `vmIo` counter, which moves past it) and changes nothing else.',
  ),
]
