/**
 * Rules of the boot page table (reducers/page_table/boot_pt.ts), all the model's:
 *
 * - INV-BOOTPT-1 (group A, global) — the boot page table's tables are its own forgotten frames:
 *   `frames` starts with the root and has no duplicate, and every frame in it is live (a shared
 *   ref count), usage `Frame`, with a forgotten reference (`raw_count >= 1`, from `into_raw`).
 * - ENS-BOOTPT-NEW-1, -MAP-1, -PROTECT-1, -PAGEWALK-1, -DROP-1.
 *
 * The postconditions are stated through the software MMU walk (src/model/pt_walk.ts): what
 * `map_base_page` / `protect_base_page` promise is a translation, and the walk is what the MMU
 * would do with the words.
 */
import equal from 'fast-deep-equal/es6/index.js'
import { indexToFrame, NR_ENTRIES, NR_LEVELS, PAGE_SIZE, pageSize, PageUsage, REF_COUNT_MAX, REF_COUNT_UNUSED, refCountName } from '../../../arch/constants.js'
import { isLast, isPresent, newPage, ptePaddr, pteProp } from '../../../arch/pte.js'
import type { PageProperty } from '../../../arch/page_prop.js'
import { readPte } from '../../../model/memory.js'
import type { BootPageTableState } from '../../../model/page_table.js'
import { pageWalk, vaBig, vaPageOffset, walkTrace, type Va } from '../../../model/pt_walk.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { ownerOf } from '../../../model/slots.js'
import type { Snapshot } from '../../../model/snapshot.js'
import type { VaddrArg } from '../../../../reducers/page_table/page_table.js'
import { vaArg } from './entry_reads.js'
import { protectedProperty, type ProtectOpArg } from './cursor_args.js'
import type { EnsContext, EnsRule, InvRule } from '../../rule.js'
import { ens, inv } from '../helpers.js'

function bootFindings(s: Snapshot): Finding[] {
  const boot = s.pt.boot
  if (boot === null) return []
  const rule = 'INV-BOOTPT-1'
  const out: Finding[] = []
  if (boot.frames[0] !== boot.rootPt) out.push(finding(rule, 'pt.boot.frames', 'the root is not the first table the boot page table records', boot.rootPt, boot.frames[0] ?? null))
  const seen = new Set<number>()
  boot.frames.forEach((f, i) => {
    if (seen.has(f)) out.push(finding(rule, `pt.boot.frames[${i}]`, `frame ${f} is recorded twice`))
    seen.add(f)
    const o = ownerOf(s, f)
    const rc = o.innerPerms.refCount
    if (!(rc >= 1 && rc <= REF_COUNT_MAX) || o.usage !== PageUsage.Frame || o.rawCount < 1) {
      out.push(finding(rule, `pt.boot.frames[${i}]`, `boot table frame ${f} is not a live forgotten frame (rc ${refCountName(rc)}, usage ${o.usage}, raw_count ${o.rawCount})`, { rc: '>= 1', usage: PageUsage.Frame, rawCount: '>= 1' }, { rc, usage: o.usage, rawCount: o.rawCount }))
    }
  })
  return out
}

export const bootPtInvariants: InvRule[] = [
  inv(
    'INV-BOOTPT-1',
    'A',
    'global',
    (s) => bootFindings(s),
    "[model] The boot page table's tables are its own: `frames` starts with the root and lists each table once, and each is a live frame (shared rc, usage Frame) whose reference was forgotten into the table (`raw_count >= 1`, `alloc_frame().into_raw()`).",
  ),
]

// ---- postconditions ------------------------------------------------------------------------------

function bootOf(s: Snapshot): BootPageTableState | null {
  return s.pt.boot
}

function eventVa(ctx: EnsContext): Va {
  return vaArg((ctx.event as unknown as { va: VaddrArg }).va)
}

/** The 4 KiB-aligned VA of `va` as a bigint-or-number (page of the same kind). */
function pageOf(va: Va): Va {
  return typeof va === 'bigint' ? va - BigInt(vaPageOffset(va, 1)) : va - vaPageOffset(va, 1)
}

/** The property a leaf written with `prop` decodes to (the PTE keeps only what it can encode). */
function encoded(pa: number, prop: PageProperty): PageProperty {
  return pteProp(newPage(pa, 1, prop))
}

/** The tables a step may write: those on the post-state walk of `va` (new ones included). */
function writesOnlyWalk(ctx: EnsContext, rule: string, boot: BootPageTableState, va: Va): Finding[] {
  const onWalk = new Set(walkTrace(ctx.post, indexToFrame(boot.rootPt), va).steps.map((st) => st.slot))
  const out: Finding[] = []
  for (const i of ctx.changes.memory) if (!onWalk.has(i) && !(bootOf(ctx.post)?.frames.includes(i) && !bootOf(ctx.pre)?.frames.includes(i))) out.push(finding(rule, `memory[${i}]`, `frame ${i}, which is not a table on the walk of the page, was written`))
  return out
}

/** The tables the step allocated are appended to `frames`, each a fresh forgotten frame. */
function framesGrew(ctx: EnsContext, rule: string, before: BootPageTableState, after: BootPageTableState): Finding[] {
  if (after.rootPt !== before.rootPt || !equal(after.frames.slice(0, before.frames.length), before.frames)) {
    return [finding(rule, 'pt.boot', 'the root or the recorded tables changed (tables are only appended)', before, after)]
  }
  const out: Finding[] = []
  for (const f of after.frames.slice(before.frames.length)) {
    if (ownerOf(ctx.pre, f).innerPerms.refCount !== REF_COUNT_UNUSED) out.push(finding(rule, `pt.boot.frames`, `table frame ${f} was not free before`))
  }
  return out
}

/** The bits of a virtual address the 4-level walk reads. */
const WALK_BITS = (1n << 48n) - 1n

interface BootTree {
  /** The tables reached from the root (slots, ascending). */
  readonly tables: number[]
  /** The leaves, by walked VA (hex, ascending). */
  readonly leaves: Array<{ va: string; level: number; pa: number; prop: PageProperty }>
  readonly problems: Array<{ path: string; message: string }>
}

/** Reads the boot page table's words from the root: its tables and leaves, depth first. */
function readBootTree(s: Snapshot, root: number): BootTree {
  const tables = new Set<number>([root])
  const leaves: BootTree['leaves'] = []
  const problems: BootTree['problems'] = []
  const visit = (slot: number, level: number, vaBase: bigint): number => {
    let present = 0
    for (let idx = 0; idx < NR_ENTRIES; idx++) {
      const pte = readPte(s, slot, idx)
      if (!isPresent(pte)) continue
      present++
      const va = vaBase | (BigInt(idx) << BigInt(12 + 9 * (level - 1)))
      if (level === 1 || isLast(pte, level)) {
        leaves.push({ va: va.toString(16), level, pa: ptePaddr(pte), prop: pteProp(pte) })
        continue
      }
      const child = ptePaddr(pte) / PAGE_SIZE
      if (tables.has(child)) {
        problems.push({ path: `memory[${slot}].pte[${idx}]`, message: `table ${child} is reached twice` })
        continue
      }
      tables.add(child)
      if (visit(child, level - 1, va) === 0) problems.push({ path: `memory[${child}]`, message: `table ${child} (level ${level - 1}) is empty` })
    }
    return present
  }
  visit(root, NR_LEVELS, 0n)
  return { tables: [...tables].sort((a, b) => a - b), leaves, problems }
}

const newRules: EnsRule[] = [
  ens(
    'ENS-BOOTPT-NEW-1',
    ['boot_page_table.new'],
    (ctx) => {
      const rule = 'ENS-BOOTPT-NEW-1'
      const boot = bootOf(ctx.post)
      const r = ctx.result as { rootPaddr?: unknown } | null
      if (boot === null) return [finding(rule, 'pt.boot', 'there is no boot page table after the call')]
      const out: Finding[] = []
      if (boot.frames[0] !== boot.rootPt || r?.rootPaddr !== indexToFrame(boot.rootPt)) out.push(finding(rule, 'pt.boot', 'the root is not the first recorded table, returned as rootPaddr', { rootPaddr: indexToFrame(boot.rootPt), first: boot.rootPt }, { result: ctx.result, frames: boot.frames }))
      for (const f of boot.frames) if (ownerOf(ctx.pre, f).innerPerms.refCount !== REF_COUNT_UNUSED) out.push(finding(rule, `regions.slotOwners[${f}]`, `table frame ${f} was not free before`))
      const fresh = new Set(boot.frames)
      for (const i of ctx.changes.memory) if (!fresh.has(i)) out.push(finding(rule, `memory[${i}]`, `frame ${i}, which is not one of the new tables, was written`))
      // The tree the words describe: exactly the recorded tables, none but the root empty, and its leaves exactly the firmware's.
      const tree = readBootTree(ctx.post, boot.rootPt)
      out.push(...tree.problems.map((p) => finding(rule, p.path, p.message)))
      const recorded = [...boot.frames].sort((a, b) => a - b)
      if (!equal(tree.tables, recorded)) out.push(finding(rule, 'pt.boot.frames', 'the tables reachable from the root are not the recorded ones', recorded, tree.tables))
      const firmware = (ctx.event as unknown as { firmware?: ReadonlyArray<{ va: VaddrArg; paddr: number; level: number; prop: PageProperty }> }).firmware ?? []
      const want = firmware
        .map((m) => ({ va: (vaBig(vaArg(m.va)) & WALK_BITS).toString(16), level: m.level, pa: m.paddr, prop: pteProp(newPage(m.paddr, m.level, m.prop)) }))
        .sort((a, b) => (BigInt(`0x${a.va}`) < BigInt(`0x${b.va}`) ? -1 : 1))
      if (!equal(tree.leaves, want)) out.push(finding(rule, 'pt.boot', "the boot page table's leaves are not the firmware's mappings", want, tree.leaves))
      return out
    },
    "[model] `boot_page_table.new`: a boot page table whose root is the first recorded table, returned as `rootPaddr`; every recorded table was a free frame; only they were written; the tables reachable from the root are exactly the recorded ones, none but the root empty, and their leaves exactly the firmware's mappings (page, level, address and property as the PTE encodes it).",
  ),
  ens(
    'ENS-BOOTPT-MAP-1',
    ['boot_page_table.map_base_page'],
    (ctx) => {
      const rule = 'ENS-BOOTPT-MAP-1'
      const before = bootOf(ctx.pre)!
      const after = bootOf(ctx.post)
      if (after === null) return [finding(rule, 'pt.boot', 'the boot page table is gone')]
      const e = ctx.event as unknown as { va: VaddrArg; frameNumber: number; prop: PageProperty }
      const va = pageOf(eventVa(ctx))
      const pa = e.frameNumber * PAGE_SIZE
      const want = { pa, prop: encoded(pa, e.prop) }
      const got = pageWalk(ctx.post, indexToFrame(after.rootPt), va)
      const trace = walkTrace(ctx.post, indexToFrame(after.rootPt), va)
      const out: Finding[] = []
      if (!equal(got, want) || trace.leaf?.level !== 1) out.push(finding(rule, 'result', `the page at ${String(e.va)} does not translate to frame ${e.frameNumber} with the property as a 4 KiB leaf`, want, got))
      out.push(...framesGrew(ctx, rule, before, after), ...writesOnlyWalk(ctx, rule, after, va))
      return out
    },
    '[model] `map_base_page(from, to, prop)`: afterwards the page at `from` translates (walk) to `to * PAGE_SIZE` through a level-1 leaf with `prop` (as the PTE encodes it); new tables are appended to `frames` (fresh frames); only tables on that walk were written.',
  ),
  ens(
    'ENS-BOOTPT-PROTECT-1',
    ['boot_page_table.protect_base_page'],
    (ctx) => {
      const rule = 'ENS-BOOTPT-PROTECT-1'
      const before = bootOf(ctx.pre)!
      const after = bootOf(ctx.post)
      if (after === null) return [finding(rule, 'pt.boot', 'the boot page table is gone')]
      const va = pageOf(eventVa(ctx))
      const old = walkTrace(ctx.pre, indexToFrame(before.rootPt), va).leaf
      const out: Finding[] = []
      if (old === null) return [finding(rule, 'pre', 'the page was not mapped')]
      const newProp = protectedProperty(ctx.event as unknown as ProtectOpArg, old.prop)
      const want = { pa: old.pa, prop: encoded(old.pa, newProp) }
      const post = walkTrace(ctx.post, indexToFrame(after.rootPt), va)
      const got = post.leaf === null ? null : { pa: post.leaf.pa, prop: post.leaf.prop }
      if (!equal(got, want) || post.leaf?.level !== 1) out.push(finding(rule, 'result', 'the page does not keep its frame with op(prop) as a 4 KiB leaf', want, got))
      // A split huge page keeps its other pages: each table the split made (on the post-state walk,
      // below the old leaf's level) holds, beside the walk's own entry, `new_page` of the next
      // pages of the huge page at the table's level, with the old property.
      if (old.level > 1) {
        for (const st of post.steps) {
          if (st.level >= old.level) continue
          const paBase = old.pa - vaPageOffset(va, st.level + 1)
          for (let i = 0; i < NR_ENTRIES; i++) {
            if (i === st.idx) continue
            const want = newPage(paBase + i * pageSize(st.level), st.level, old.prop)
            const got = readPte(ctx.post, st.slot, i)
            if (got !== want) {
              out.push(finding(rule, `memory[${st.slot}].pte[${i}]`, `the split table at level ${st.level} does not map page ${i} of the huge page as new_page(0x${(paBase + i * pageSize(st.level)).toString(16)}, ${st.level}, old prop)`, want.toString(16), got.toString(16)))
              break
            }
          }
        }
      }
      out.push(...framesGrew(ctx, rule, before, after), ...writesOnlyWalk(ctx, rule, after, va))
      return out
    },
    "[model] `protect_base_page(va, op)`: afterwards the page at `va` translates to the same physical address through a level-1 leaf with `op(old prop)` (as the PTE encodes it); each table a split made maps the other pages of the huge page as `new_page(pa, level, old prop)` at its own level; split tables are appended to `frames`; only tables on the walk were written.",
  ),
  ens(
    'ENS-BOOTPT-PAGEWALK-1',
    ['boot_page_table.page_walk'],
    (ctx) => {
      const rule = 'ENS-BOOTPT-PAGEWALK-1'
      const boot = bootOf(ctx.pre)!
      const out: Finding[] = []
      if (ctx.pre !== ctx.post) out.push(finding(rule, 'snapshot', 'page_walk changed the state'))
      const want = pageWalk(ctx.pre, indexToFrame(boot.rootPt), eventVa(ctx))
      if (!equal(ctx.result, want)) out.push(finding(rule, 'result', 'the result is not the walk of the PTE words from the boot root', want, ctx.result))
      return out
    },
    '[model] `page_walk` on the boot page table changes nothing and returns the software MMU walk from its root.',
  ),
  ens(
    'ENS-BOOTPT-DROP-1',
    ['boot_page_table.drop'],
    (ctx) => {
      const rule = 'ENS-BOOTPT-DROP-1'
      const before = bootOf(ctx.pre)!
      const out: Finding[] = []
      if (bootOf(ctx.post) !== null) out.push(finding(rule, 'pt.boot', 'the boot page table is still there'))
      for (const f of before.frames) {
        const a = ownerOf(ctx.pre, f)
        const b = ownerOf(ctx.post, f)
        const rc = a.innerPerms.refCount
        const want = { refCount: rc === 1 ? REF_COUNT_UNUSED : rc - 1, rawCount: a.rawCount - 1 }
        const got = { refCount: b.innerPerms.refCount, rawCount: b.rawCount }
        if (!equal(got, want)) out.push(finding(rule, `regions.slotOwners[${f}]`, `table frame ${f}'s forgotten reference was not released`, want, got))
      }
      return out
    },
    "[model] Drop of the boot page table: it is gone, and each table frame it recorded has its forgotten reference released (raw_count − 1, rc − 1; the last reference frees the frame).",
  ),
]

export const bootPtRules: Array<EnsRule | InvRule> = [...bootPtInvariants, ...newRules]
