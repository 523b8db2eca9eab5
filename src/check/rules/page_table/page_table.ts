/**
 * Rules of `PageTable` handles (reducers/page_table/page_table.ts; behaviour.md §2.1–§2.2,
 * §2.5.12). All are the model's (the digest has no rule for the page-table object itself):
 *
 * - INV-PTHANDLE-1 (group A, global) — every `PageTable` handle owns a live root: its
 *   `PageTableNode` handle is live and names `rootPaddr`, the root's record is a tree-owned
 *   level-4 root of the handle's configuration, no two handles share a root, and only a user page
 *   table shares a kernel's top level.
 * - INV-PTSHARE-1 (group B, global) — the kernel-half sharing (src/model/pt_tables.ts): a user page
 *   table made by `create_user_page_table` shares a live kernel page table, and its root's PTE
 *   words 256..512 equal the kernel root's. Group B: `create_user_page_table` copies them one
 *   `write_pte` at a time.
 * - ENS-PT-NEW-1, ENS-PT-NEWKERNEL-1, ENS-PT-CREATEUSER-1, ENS-PT-DROP-1, ENS-PT-PAGEWALK-1..2.
 *
 * The global rules walk the handle table (a few entries); the word comparison is cached per pair
 * of memory pages (pages are immutable and replaced when written), so a step that touches neither
 * root costs a lookup.
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, NR_ENTRIES, NR_LEVELS, REF_COUNT_UNUSED, refCountName } from '../../../arch/constants.js'
import { isPresent, newPt, ptePaddr, pteToHex } from '../../../arch/pte.js'
import { KERNEL_PT_CONFIG, ptConfig, USER_PT_CONFIG, type PtConfigName } from '../../../arch/pt_config.js'
import { readPte } from '../../../model/memory.js'
import type { PageTableHandle } from '../../../model/page_table.js'
import { pageTableHandle } from '../../../model/pt_tables.js'
import { mappingAt } from '../../../model/pt_view.js'
import { pageWalk, vaBig, vaPteIndex } from '../../../model/pt_walk.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import { nodeOwnerAt } from '../../../model/spec/page_table.js'
import { ownerOf, slotOf } from '../../../model/slots.js'
import type { Snapshot } from '../../../model/snapshot.js'
import { tableDiff, tableForEach, tableGet } from '../../../model/table.js'
import type { PageTableResult, VaddrArg } from '../../../../reducers/page_table/page_table.js'
import { vaArg } from './entry_reads.js'
import type { EnsContext, EnsRule, InvRule } from '../../rule.js'
import { ens, inv, num } from '../helpers.js'

const where = (id: number): string => `pt.tables[${id}]`

// ---- invariants ------------------------------------------------------------------------------

const CONFIGS: readonly string[] = ['user', 'kernel', 'untracked']

function handleFindings(s: Snapshot): Finding[] {
  const rule = 'INV-PTHANDLE-1'
  const out: Finding[] = []
  const roots = new Map<number, number>()
  const nodes = new Map<number, number>()
  tableForEach(s.pt.tables, (h, id) => {
    if (!CONFIGS.includes(h.config)) {
      out.push(finding(rule, `${where(id)}.config`, `PageTable ${id} has no configuration ${String(h.config)}`))
      return
    }
    const node = tableGet(s.pt.nodes, h.root)
    if (node === null || node.paddr !== h.rootPaddr) {
      out.push(finding(rule, `${where(id)}.root`, `PageTable ${id} does not own its root: PageTableNode ${h.root} is ${node === null ? 'not live' : `at ${node.paddr}`}`, h.rootPaddr, node?.paddr ?? null))
    }
    const slot = Number.isSafeInteger(h.rootPaddr) && h.rootPaddr >= 0 ? frameToIndex(h.rootPaddr) : -1
    const r = slot >= 0 ? nodeOwnerAt(s, slot) : null
    const got = r === null ? null : { tree: r.tree, path: r.path, inScope: r.inScope, level: r.level, config: r.config }
    const want = { tree: slot, path: '', inScope: false, level: NR_LEVELS, config: h.config }
    if (!equal(got, want)) out.push(finding(rule, `${where(id)}.rootPaddr`, `the root of PageTable ${id} is not a tree-owned level-4 ${h.config} root`, want, got))
    const other = roots.get(slot)
    if (other !== undefined) out.push(finding(rule, `${where(id)}.rootPaddr`, `PageTables ${other} and ${id} own the same root (slot ${slot})`))
    else roots.set(slot, id)
    const otherNode = nodes.get(h.root)
    if (otherNode !== undefined) out.push(finding(rule, `${where(id)}.root`, `PageTables ${otherNode} and ${id} own the same PageTableNode ${h.root}`))
    else nodes.set(h.root, id)
    if (h.sharesKernel !== null && h.config !== 'user') out.push(finding(rule, `${where(id)}.sharesKernel`, `a ${h.config} page table shares a kernel top level (only user page tables do)`, null, h.sharesKernel))
  })
  return out
}

/** First index in `[start, end)` where two pages' words differ, or -1; cached per page pair. */
const ZERO_PAGE = new Uint8Array(0)
const diffCache = new WeakMap<Uint8Array, WeakMap<Uint8Array, number>>()

function firstDifference(s: Snapshot, a: number, b: number): number {
  const pa = tableGet(s.memory, a) ?? ZERO_PAGE
  const pb = tableGet(s.memory, b) ?? ZERO_PAGE
  let inner = diffCache.get(pa)
  if (inner === undefined) diffCache.set(pa, (inner = new WeakMap()))
  let at = inner.get(pb)
  if (at === undefined) {
    at = -1
    const [start, end] = KERNEL_PT_CONFIG.topLevelIndexRange
    for (let i = start; i < end; i++) {
      if (readPte(s, a, i) !== readPte(s, b, i)) {
        at = i
        break
      }
    }
    inner.set(pb, at)
  }
  return at
}

function shareFindings(s: Snapshot): Finding[] {
  const rule = 'INV-PTSHARE-1'
  const out: Finding[] = []
  tableForEach(s.pt.tables, (h, id) => {
    if (h.sharesKernel === null || h.config !== 'user') return
    const k = pageTableHandle(s, h.sharesKernel)
    if (k === null || k.config !== 'kernel') {
      out.push(finding(rule, `${where(id)}.sharesKernel`, `user PageTable ${id} shares the top level of PageTable ${h.sharesKernel}, which is ${k === null ? 'not live' : `a ${k.config} page table`}`))
      return
    }
    const user = frameToIndex(h.rootPaddr)
    const kernel = frameToIndex(k.rootPaddr)
    const i = firstDifference(s, user, kernel)
    if (i >= 0) {
      out.push(finding(rule, `memory[${user}].pte[${i}]`, `user PageTable ${id}'s root entry ${i} is not the kernel root's (shared top level 256..512)`, pteToHex(readPte(s, kernel, i)), pteToHex(readPte(s, user, i))))
    }
  })
  return out
}

export const ptHandleInvariants: InvRule[] = [
  inv(
    'INV-PTHANDLE-1',
    'A',
    'global',
    (s) => handleFindings(s),
    "[model] Every `PageTable` handle owns a live root (`PageTable { root: PageTableNode }`): its PageTableNode handle is live and at `rootPaddr`, the root's record is a tree-owned level-4 root (path [], not in scope) of the handle's configuration, no two handles own the same root or node handle, and only a user page table shares a kernel top level.",
  ),
  inv(
    'INV-PTSHARE-1',
    'B',
    'global',
    (s) => shareFindings(s),
    "[model] Kernel-half sharing (deviation from INV-TREE-4, src/model/pt_tables.ts): a user page table made by `create_user_page_table` shares a live kernel page table, and its root's PTE words 256..512 equal the kernel root's (copied raw by OSTD: no reference, no ghost entries).",
  ),
]

// ---- postconditions ------------------------------------------------------------------------------

function resultOf(ctx: EnsContext, rule: string): { r: PageTableResult; h: PageTableHandle; slot: number } | Finding[] {
  const r = ctx.result as Partial<PageTableResult> | null
  if (r === null || typeof r !== 'object' || typeof r.pageTable !== 'number' || typeof r.rootPaddr !== 'number') return [finding(rule, 'result', 'the call did not return { pageTable, rootPaddr }', '{ pageTable, rootPaddr }', ctx.result)]
  const h = pageTableHandle(ctx.post, r.pageTable)
  if (h === null) return [finding(rule, where(r.pageTable), `the returned PageTable ${r.pageTable} is not live`)]
  return { r: r as PageTableResult, h, slot: frameToIndex(h.rootPaddr) }
}

/** The result names a fresh handle with the expected fields; only that handle was added. */
function freshHandle(ctx: EnsContext, rule: string, r: PageTableResult, h: PageTableHandle, want: { config: PtConfigName; sharesKernel: number | null }): Finding[] {
  const out: Finding[] = []
  if (r.pageTable !== ctx.pre.counters.pageTable || tableGet(ctx.pre.pt.tables, r.pageTable) !== null) out.push(finding(rule, where(r.pageTable), 'the result is not a fresh PageTable id', ctx.pre.counters.pageTable, r.pageTable))
  const got = { config: h.config, rootPaddr: h.rootPaddr, sharesKernel: h.sharesKernel }
  const expected = { config: want.config, rootPaddr: r.rootPaddr, sharesKernel: want.sharesKernel }
  if (!equal(got, expected)) out.push(finding(rule, where(r.pageTable), 'the new PageTable handle is not the expected one', expected, got))
  if (tableGet(ctx.pre.pt.nodes, h.root) !== null) out.push(finding(rule, `${where(r.pageTable)}.root`, 'the root is not owned through a fresh PageTableNode handle', 'a new handle', h.root))
  tableDiff(ctx.pre.pt.tables, ctx.post.pt.tables, (id) => {
    if (id !== r.pageTable) out.push(finding(rule, where(id), `PageTable ${id} changed`, tableGet(ctx.pre.pt.tables, id), tableGet(ctx.post.pt.tables, id)))
  })
  return out
}

/** No guard, Entry, Child value or lock is left behind by a composite (its scope ended). */
function nothingHeld(ctx: EnsContext, rule: string): Finding[] {
  const left = (['guards', 'entries', 'children', 'childOwners', 'locks'] as const).filter((k) => ctx.pre.pt[k] !== ctx.post.pt[k] && !equalTables(ctx, k))
  return left.length === 0 ? [] : [finding(rule, 'pt', `the call left page-table handles or locks behind: ${left.join(', ')}`)]
}

function equalTables(ctx: EnsContext, k: 'guards' | 'entries' | 'children' | 'childOwners' | 'locks'): boolean {
  let same = true
  tableDiff(ctx.pre.pt[k] as never, ctx.post.pt[k] as never, () => void (same = false))
  return same
}

/** Words `[from, to)` of the node at `slot` are absent. */
function absentWords(s: Snapshot, slot: number, from: number, to: number): number | null {
  for (let i = from; i < to; i++) if (readPte(s, slot, i) !== 0n) return i
  return null
}

function nrChildrenOf(s: Snapshot, slot: number): number | null {
  const st = slotOf(s, slot).storage
  return st?.kind === 'PTNode' ? st.nrChildren : null
}

const newRules: EnsRule[] = [
  ens(
    'ENS-PT-NEW-1',
    ['page_table.new'],
    (ctx) => {
      const rule = 'ENS-PT-NEW-1'
      const got = resultOf(ctx, rule)
      if (Array.isArray(got)) return got
      const { r, h, slot } = got
      const config = (ctx.event as unknown as { config: PtConfigName }).config
      const out = freshHandle(ctx, rule, r, h, { config, sharesKernel: null })
      const bad = absentWords(ctx.post, slot, 0, NR_ENTRIES)
      if (bad !== null) out.push(finding(rule, `memory[${slot}].pte[${bad}]`, 'the new page table maps something', '0x0', pteToHex(readPte(ctx.post, slot, bad))))
      if ((nodeOwnerAt(ctx.post, slot)?.children.count ?? -1) !== 0) out.push(finding(rule, `pt.owners[${slot}]`, 'the new root record is not empty'))
      return out
    },
    '[model] `page_table.new`: a fresh PageTable handle of the configuration owns (through a fresh PageTableNode handle) a new root with no present PTE and no ghost entries; it shares no kernel top level; no other handle changes.',
  ),
  ens(
    'ENS-PT-NEWKERNEL-1',
    ['page_table.new_kernel'],
    (ctx) => {
      const rule = 'ENS-PT-NEWKERNEL-1'
      const got = resultOf(ctx, rule)
      if (Array.isArray(got)) return got
      const { r, h, slot } = got
      const out = freshHandle(ctx, rule, r, h, { config: 'kernel', sharesKernel: null })
      const [start, end] = KERNEL_PT_CONFIG.topLevelIndexRange
      const bad = absentWords(ctx.post, slot, 0, start)
      if (bad !== null) out.push(finding(rule, `memory[${slot}].pte[${bad}]`, 'a user-half entry of the kernel root is present', '0x0', pteToHex(readPte(ctx.post, slot, bad))))
      const root = nodeOwnerAt(ctx.post, slot)
      for (let i = start; i < end; i++) {
        const pte = readPte(ctx.post, slot, i)
        const c = root === null ? null : tableGet(root.children, i)
        const child = c?.kind === 'node' ? nodeOwnerAt(ctx.post, c.slot) : null
        const ok =
          child !== null &&
          pte === newPt(child.slotIndex * 0x1000) &&
          child.level === NR_LEVELS - 1 &&
          child.config === 'kernel' &&
          child.tree === slot &&
          child.path === String(i) &&
          !child.inScope &&
          child.children.count === 0 &&
          absentWords(ctx.post, child.slotIndex, 0, NR_ENTRIES) === null
        if (!ok) {
          out.push(finding(rule, `pt.owners[${slot}].children[${i}]`, `kernel root entry ${i} does not hold a new, empty level-3 kernel node installed at [${i}]`, 'an empty level-3 node', { pte: pteToHex(pte), child: child === null ? c : { level: child.level, path: child.path, config: child.config } }))
          break
        }
      }
      if (nrChildrenOf(ctx.post, slot) !== end - start) out.push(finding(rule, `metaSlots[${slot}].storage.nrChildren`, 'the kernel root does not count its 256 children', end - start, nrChildrenOf(ctx.post, slot)))
      out.push(...nothingHeld(ctx, rule))
      return out
    },
    '[model] `new_kernel_page_table`: a fresh kernel PageTable whose root has absent entries 0..256 and, at every index `i` of 256..512, a new empty level-3 kernel node installed at path [i] (`new_pt`, ghost node entry, `nr_children` 256); no guard, Entry, Child or lock is left behind.',
  ),
  ens(
    'ENS-PT-CREATEUSER-1',
    ['page_table.create_user_page_table'],
    (ctx) => {
      const rule = 'ENS-PT-CREATEUSER-1'
      const got = resultOf(ctx, rule)
      if (Array.isArray(got)) return got
      const { r, h, slot } = got
      const kernelId = num(ctx.event, 'pageTable')
      const out = freshHandle(ctx, rule, r, h, { config: 'user', sharesKernel: kernelId })
      const kernel = pageTableHandle(ctx.pre, kernelId)!
      const kslot = frameToIndex(kernel.rootPaddr)
      const [ustart, uend] = USER_PT_CONFIG.topLevelIndexRange
      const bad = absentWords(ctx.post, slot, ustart, uend)
      if (bad !== null) out.push(finding(rule, `memory[${slot}].pte[${bad}]`, 'the user half of the new root is not empty', '0x0', pteToHex(readPte(ctx.post, slot, bad))))
      const [start, end] = KERNEL_PT_CONFIG.topLevelIndexRange
      for (let i = start; i < end; i++) {
        const want = readPte(ctx.pre, kslot, i)
        const have = readPte(ctx.post, slot, i)
        if (have !== want) {
          out.push(finding(rule, `memory[${slot}].pte[${i}]`, `the new root's entry ${i} is not a copy of the kernel root's`, pteToHex(want), pteToHex(have)))
          break
        }
      }
      if ((nodeOwnerAt(ctx.post, slot)?.children.count ?? -1) !== 0) out.push(finding(rule, `pt.owners[${slot}]`, 'the new root has ghost entries (the shared kernel half stays absent in the owner tree, INV-TREE-4)'))
      if (nrChildrenOf(ctx.post, slot) !== 0) out.push(finding(rule, `metaSlots[${slot}].storage.nrChildren`, 'the copied kernel entries are counted in nr_children (OSTD writes them raw)', 0, nrChildrenOf(ctx.post, slot)))
      // The kernel side is only read: its root words, its nodes' references and paths are unchanged.
      if (ctx.changes.memory.has(kslot) && pageWords(ctx.pre, kslot) !== pageWords(ctx.post, kslot)) out.push(finding(rule, `memory[${kslot}]`, 'the kernel root was written'))
      for (let i = start; i < end; i++) {
        const pte = readPte(ctx.pre, kslot, i)
        if (!isPresent(pte)) continue
        const child = frameToIndex(ptePaddr(pte))
        if (!equal(ownerOf(ctx.pre, child), ownerOf(ctx.post, child))) {
          out.push(finding(rule, `regions.slotOwners[${child}]`, `the shared kernel node at entry ${i} changed (no reference is taken for it)`, ownerOf(ctx.pre, child), ownerOf(ctx.post, child)))
          break
        }
      }
      if (!equal(ownerOf(ctx.pre, kslot).innerPerms, ownerOf(ctx.post, kslot).innerPerms)) out.push(finding(rule, `regions.slotOwners[${kslot}].innerPerms`, 'the kernel root slot changed (its lock is released at the end)', ownerOf(ctx.pre, kslot).innerPerms, ownerOf(ctx.post, kslot).innerPerms))
      out.push(...nothingHeld(ctx, rule))
      return out
    },
    "[model] `create_user_page_table`: a fresh user PageTable sharing the kernel page table's top level: its root's entries 0..256 absent, 256..512 equal to the kernel root's words, no ghost entries and `nr_children` 0; the kernel root and its shared nodes are unchanged (no reference taken); no guard, Entry, Child or lock is left behind.",
  ),
]

/** The 512 words of a node page as one string (for an unchanged-page comparison). */
function pageWords(s: Snapshot, slot: number): string {
  let out = ''
  for (let i = 0; i < NR_ENTRIES; i++) out += readPte(s, slot, i).toString(16) + ','
  return out
}

const dropRules: EnsRule[] = [
  ens(
    'ENS-PT-DROP-1',
    ['page_table.drop'],
    (ctx) => {
      const rule = 'ENS-PT-DROP-1'
      const id = num(ctx.event, 'pageTable')
      const h = pageTableHandle(ctx.pre, id)!
      const slot = frameToIndex(h.rootPaddr)
      const out: Finding[] = []
      tableDiff(ctx.pre.pt.tables, ctx.post.pt.tables, (i) => {
        if (i !== id) out.push(finding(rule, where(i), `PageTable ${i} changed`))
      })
      if (tableGet(ctx.post.pt.tables, id) !== null) out.push(finding(rule, where(id), `PageTable ${id} is still registered`))
      if (tableGet(ctx.post.pt.nodes, h.root) !== null) out.push(finding(rule, `pt.nodes[${h.root}]`, "the root's PageTableNode handle was not dropped"))
      const rc = ownerOf(ctx.pre, slot).innerPerms.refCount
      const after = ownerOf(ctx.post, slot).innerPerms.refCount
      const want = rc === 1 ? REF_COUNT_UNUSED : rc - 1
      if (after !== want) out.push(finding(rule, `regions.slotOwners[${slot}].innerPerms.refCount`, `the root's reference was not released: rc ${refCountName(after)}`, refCountName(want), refCountName(after)))
      if (rc === 1 && nodeOwnerAt(ctx.post, slot) !== null) out.push(finding(rule, `pt.owners[${slot}]`, "the freed root's record is still in the owner tree"))
      // A user page table's drop never reaches the kernel's shared nodes (on_drop walks 0..256).
      if (h.sharesKernel !== null) {
        const [start, end] = KERNEL_PT_CONFIG.topLevelIndexRange
        for (let i = start; i < end; i++) {
          const pte = readPte(ctx.pre, slot, i)
          if (!isPresent(pte)) continue
          const child = frameToIndex(ptePaddr(pte))
          if (!equal(slotOf(ctx.pre, child), slotOf(ctx.post, child)) || !equal(ownerOf(ctx.pre, child), ownerOf(ctx.post, child))) {
            out.push(finding(rule, `regions.slotOwners[${child}]`, `dropping the user page table changed the kernel's shared node at entry ${i}`))
            break
          }
        }
      }
      return out
    },
    "[model] Drop of a PageTable: the handle and its root's PageTableNode handle leave the registries, the root's reference is released (the last one frees the root and its record, tearing the tree down); a user page table's drop leaves the kernel's shared nodes unchanged.",
  ),
]

/** The 48 bits of a VA the page-table indices select, and whether its root index is in the managed range. */
function managedVa(config: PtConfigName, va: VaddrArg): number | null {
  const v = vaArg(va)
  const [start, end] = ptConfig(config).topLevelIndexRange
  const top = vaPteIndex(v, NR_LEVELS)
  if (top < start || top >= end) return null
  return Number(vaBig(v) & ((1n << 48n) - 1n))
}

const walkRules: EnsRule[] = [
  ens(
    'ENS-PT-PAGEWALK-1',
    ['page_table.page_walk'],
    (ctx) => {
      const rule = 'ENS-PT-PAGEWALK-1'
      const h = pageTableHandle(ctx.pre, num(ctx.event, 'pageTable'))!
      const out: Finding[] = []
      if (ctx.pre !== ctx.post) out.push(finding(rule, 'snapshot', 'page_walk changed the state'))
      const want = pageWalk(ctx.pre, h.rootPaddr, vaArg((ctx.event as unknown as { va: VaddrArg }).va))
      if (!equal(ctx.result, want)) out.push(finding(rule, 'result', 'the result is not the walk of the PTE words from the root', want, ctx.result))
      return out
    },
    '[model] `page_walk(va)` changes nothing and returns the software MMU walk of the PTE words from the root: `{ pa: leaf_pa + (va mod leaf_size), prop }` of the first last PTE, or null at the first absent one.',
  ),
  ens(
    'ENS-PT-PAGEWALK-2',
    ['page_table.page_walk'],
    (ctx) => {
      const rule = 'ENS-PT-PAGEWALK-2'
      const h = pageTableHandle(ctx.pre, num(ctx.event, 'pageTable'))!
      const va = managedVa(h.config, (ctx.event as unknown as { va: VaddrArg }).va)
      if (va === null) return []
      const m = mappingAt(ctx.pre, frameToIndex(h.rootPaddr), va, { source: 'ghost', config: h.config })
      const want = m === null ? null : { pa: m.paRange.start + (va - m.vaRange.start), prop: m.property }
      return equal(ctx.result, want) ? [] : [finding(rule, 'result', "the walk disagrees with the page table's abstract view (the mapping of view_rec covering va)", want, ctx.result)]
    },
    "[model] For a `va` in the page table's `TOP_LEVEL_INDEX_RANGE`, `page_walk(va)` agrees with the abstract view (`PageTableOwner@`, the owner tree): the mapping covering `va` gives `{ pa: pa_range.start + (va - va_range.start), prop: property }`, and no mapping gives null.",
  ),
]

export const ptHandleRules: Array<EnsRule | InvRule> = [...ptHandleInvariants, ...newRules, ...dropRules, ...walkRules]
