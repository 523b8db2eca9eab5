/**
 * Text form of a `SnapshotDiff` (src/log/diff.ts): one section per kind of change, one line per
 * change, in the diff's stable order, addresses in hex, page properties as `RW- U WB`. Runs of
 * lines that differ only by numbers growing in constant steps (a split's 512 PTE writes, a
 * segment's frames) are folded into one line with `first..last` and a count, so a diff reads
 * well in a vitest snapshot and in the CLI. Nothing here depends on the run (no object ids, no
 * clock): the same diff gives the same text.
 */
import { pageSize, refCountName } from '../arch/constants.js'
import { PageFlags, PrivilegedPageFlags, type PageProperty } from '../arch/page_prop.js'
import { isLast, isPresent, ptePaddr, pteProp } from '../arch/pte.js'
import type { PtConfigName } from '../arch/pt_config.js'
import type { ChildEntryOwner } from '../model/page_table.js'
import { vaddrOf } from '../model/pt_view.js'
import { SEMANTIC_CATEGORIES, type DiffValue, type MappingItem, type PathChange, type SemanticCategory, type SnapshotDiff, type TreeEntryChange } from './diff.js'

export interface RenderOptions {
  /** Print the structural paths too (default true). */
  readonly structural?: boolean
  /** Cut the text after this many lines (default: no limit). */
  readonly maxLines?: number
  /** Shortest run of similar lines folded into one (default 4). */
  readonly foldRuns?: number
}

// ---- small formatters ---------------------------------------------------------------------------

/** A number in hex (`0x1000`); negative or non-integer values in decimal. */
export function hex(n: number | bigint): string {
  if (typeof n === 'bigint') return n < 0n ? String(n) : `0x${n.toString(16)}`
  return Number.isSafeInteger(n) && n >= 0 ? `0x${n.toString(16)}` : String(n)
}

/** A page size: `4K`, `2M`, `1G`, else bytes in hex. */
export function sizeName(bytes: number): string {
  if (bytes === pageSize(1)) return '4K'
  if (bytes === pageSize(2)) return '2M'
  if (bytes === pageSize(3)) return '1G'
  if (bytes === pageSize(4)) return '512G'
  return hex(bytes)
}

const CACHE_SHORT: Record<string, string> = { Writeback: 'WB', Writethrough: 'WT', Uncacheable: 'UC', WriteCombining: 'WC', WriteProtected: 'WP' }

/** A page property: `RWX` flags (`-` when clear), extra flags, privilege flags and cache policy. */
export function propName(p: PageProperty): string {
  const f = p.flags
  let s = `${f & PageFlags.R ? 'R' : '-'}${f & PageFlags.W ? 'W' : '-'}${f & PageFlags.X ? 'X' : '-'}`
  if (f & PageFlags.ACCESSED) s += 'A'
  if (f & PageFlags.DIRTY) s += 'D'
  if (f & PageFlags.AVAIL1) s += '+av1'
  if (f & PageFlags.AVAIL2) s += '+av2'
  const priv = `${p.privFlags & PrivilegedPageFlags.USER ? 'U' : ''}${p.privFlags & PrivilegedPageFlags.GLOBAL ? 'G' : ''}`
  return `${s} ${priv === '' ? 'K' : priv} ${CACHE_SHORT[p.cache] ?? p.cache}`
}

/** A view VA as the page table's configuration sees it (kernel addresses carry their leading bits). */
function vaName(config: PtConfigName, va: number): string {
  return hex(vaddrOf(config, va))
}

function ptName(m: { readonly pageTable: number | null; readonly root: number }): string {
  return m.pageTable === null ? `tree@${hex(m.root * pageSize(1))}` : `pt#${m.pageTable}`
}

/** What a PTE word means at a level: `absent`, `table 0x…`, or `page 0x… RW- U WB`. */
export function pteMeaning(word: string, level: number | null): string {
  const pte = BigInt(word)
  if (!isPresent(pte)) return pte === 0n ? 'absent' : 'not present'
  if (level === null) return `present ${hex(ptePaddr(pte))}`
  return isLast(pte, level) ? `page ${hex(ptePaddr(pte))} ${propName(pteProp(pte))}` : `table ${hex(ptePaddr(pte))}`
}

function entryName(c: ChildEntryOwner | null): string {
  if (c === null) return 'absent'
  if (c.kind === 'node') return `node ${hex(c.slot * pageSize(1))}`
  const scope = c.inScope ? ' (in scope)' : ''
  if (c.kind === 'frame') return `frame ${hex(c.frame.mappedPa)} ${sizeName(c.frame.size)} ${propName(c.frame.prop)}${c.frame.isTracked ? '' : ' untracked'}${scope}`
  return `${c.kind}${scope}`
}

/** Keys whose numbers are addresses (printed in hex). */
const ADDRESS_KEYS = new Set(['paddr', 'startPaddr', 'endPaddr', 'rootPaddr', 'frontPaddr', 'backPaddr', 'nextPaddr', 'prevPaddr', 'mappedPa', 'selfAddr', 'metaPermAddr', 'pa', 'va', 'start', 'end', 'prefix', 'cursor'])
const MAX_VALUE_CHARS = 160

/** A structural value on one line: `{ refCount: 1, storage: { kind: Frame, … } }`, addresses in hex. */
export function valueText(v: DiffValue, key: string | null = null): string {
  const text = valueInner(v, key)
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text
}

function valueInner(v: DiffValue, key: string | null): string {
  if (v === null) return '∅'
  if (typeof v === 'number') return key !== null && ADDRESS_KEYS.has(key) ? hex(v) : key === 'refCount' ? refCountName(v) : String(v)
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return `[${v.map((e) => valueInner(e, null)).join(', ')}]`
  const entries = Object.entries(v as Record<string, DiffValue>)
  if (entries.length === 0) return '{}'
  return `{ ${entries.map(([k, e]) => `${k}: ${valueInner(e, k)}`).join(', ')} }`
}

/** The last key of a structural path (`metaSlots[5].refCount` → `refCount`). */
function lastKey(path: string): string | null {
  const m = /\.([A-Za-z_]\w*)$/.exec(path) ?? /^([A-Za-z_]\w*)$/.exec(path)
  return m === null ? null : m[1]!
}

// ---- folding runs of similar lines ------------------------------------------------------------

const NUMBER = /0x[0-9a-f]+|\d+/g
const HOLE = '\u0000'

interface Shape {
  readonly template: string
  readonly tokens: readonly string[]
  readonly values: readonly bigint[]
}

function shapeOf(line: string): Shape {
  const tokens = line.match(NUMBER) ?? []
  return { template: line.replace(NUMBER, HOLE), tokens, values: tokens.map((t) => BigInt(t)) }
}

function tokenText(value: bigint, like: string): string {
  if (!like.startsWith('0x')) return value.toString()
  return `0x${value.toString(16).padStart(like.length - 2, '0')}`
}

/**
 * Folds runs of at least `min` consecutive lines with the same text apart from numbers, each
 * number moving by a constant step along the run, into one line: varying numbers as
 * `first..last`, and `(×n)` at the end.
 */
export function foldRuns(lines: readonly string[], min = 4): string[] {
  const shapes = lines.map(shapeOf)
  const out: string[] = []
  let i = 0
  while (i < lines.length) {
    const first = shapes[i]!
    let j = i + 1
    if (j < lines.length && shapes[j]!.template === first.template && first.values.length > 0) {
      const step = first.values.map((v, k) => shapes[j]!.values[k]! - v)
      if (step.some((d) => d !== 0n)) {
        while (j < lines.length && shapes[j]!.template === first.template && shapes[j]!.values.every((v, k) => v === first.values[k]! + step[k]! * BigInt(j - i))) j++
      }
    }
    if (j - i >= min) {
      const last = shapes[j - 1]!
      let k = 0
      const text = first.template.replace(new RegExp(HOLE, 'g'), () => {
        const a = first.tokens[k]!
        k++
        return first.values[k - 1] === last.values[k - 1] ? a : `${a}..${tokenText(last.values[k - 1]!, a)}`
      })
      out.push(`${text} (×${j - i})`)
      i = j
    } else {
      out.push(lines[i]!)
      i++
    }
  }
  return out
}

// ---- sections -----------------------------------------------------------------------------------

const TITLES: Record<SemanticCategory, string> = {
  mappingsAdded: 'mappings added',
  mappingsRemoved: 'mappings removed',
  mappingsChanged: 'mappings changed',
  framesAllocated: 'frames allocated',
  framesFreed: 'frames freed',
  refCounts: 'ref counts',
  ptesWritten: 'PTE words written',
  nodesAllocated: 'page-table nodes allocated',
  nodesFreed: 'page-table nodes freed',
  nodesStray: 'page-table nodes stray',
  slotOwners: 'slot owners',
  treeRecords: 'owner tree',
  cursors: 'cursors',
  vmIos: 'readers / writers',
  handles: 'handles',
}

function mappingLine(m: MappingItem): string {
  return `${ptName(m)} ${vaName(m.config, m.va)} ${sizeName(m.pageSize)} → ${hex(m.pa)} ${propName(m.prop)}`
}

function entryLines(entries: readonly TreeEntryChange[]): string[] {
  return entries.map((e) => `    [${e.idx}] ${entryName(e.before)} → ${entryName(e.after)}`)
}

/** The lines of one semantic category (unfolded), for the renderer and the matchers' messages. */
export function categoryLines(d: SnapshotDiff, category: SemanticCategory): string[] {
  const s = d.semantic
  switch (category) {
    case 'mappingsAdded':
      return s.mappingsAdded.map((m) => `+ ${mappingLine(m)}`)
    case 'mappingsRemoved':
      return s.mappingsRemoved.map((m) => `- ${mappingLine(m)}`)
    case 'mappingsChanged':
      return s.mappingsChanged.map((m) => `~ ${ptName(m)} ${vaName(m.config, m.va)} ${sizeName(m.pageSize)}: ${hex(m.before.pa)} ${propName(m.before.prop)} → ${hex(m.after.pa)} ${propName(m.after.prop)}`)
    case 'framesAllocated':
      return s.framesAllocated.map((f) => `+ ${hex(f.paddr)} rc ${refCountName(f.refCount)} ${f.usage}${f.storage === null ? '' : ` (${f.storage})`}`)
    case 'framesFreed':
      return s.framesFreed.map((f) => `- ${hex(f.paddr)} was rc ${refCountName(f.refCount)} ${f.usage}${f.storage === null ? '' : ` (${f.storage})`}`)
    case 'refCounts':
      return s.refCounts.map((r) => `${hex(r.paddr)}: ${refCountName(r.before)} → ${refCountName(r.after)}`)
    case 'ptesWritten':
      return s.ptesWritten.map((p) => `${hex(p.paddr)}[${p.idx}] L${p.level ?? '?'}: ${p.before} → ${p.after}  ${pteMeaning(p.before, p.level)} → ${pteMeaning(p.after, p.level)}`)
    case 'nodesAllocated':
      return s.nodesAllocated.map((n) => `+ ${hex(n.paddr)} L${n.level} ${n.config}`)
    case 'nodesFreed':
      return s.nodesFreed.map((n) => `- ${hex(n.paddr)} L${n.level} ${n.config}`)
    case 'nodesStray':
      return s.nodesStray.map((n) => `${hex(n.paddr)}: stray ${n.before} → ${n.after}`)
    case 'slotOwners':
      return s.slotOwners.map((o) => {
        const parts: string[] = []
        if (o.pathsAdded.length > 0) parts.push(`paths_in_pt +[${o.pathsAdded.join(', ')}]`)
        if (o.pathsRemoved.length > 0) parts.push(`paths_in_pt -[${o.pathsRemoved.join(', ')}]`)
        if (o.rawCount) parts.push(`raw_count ${o.rawCount.before} → ${o.rawCount.after}`)
        if (o.usage) parts.push(`usage ${o.usage.before} → ${o.usage.after}`)
        if (o.obligations) parts.push(`obligations ${o.obligations.before} → ${o.obligations.after}`)
        return `${hex(o.paddr)}: ${parts.join('; ')}`
      })
    case 'treeRecords':
      return s.treeRecords.flatMap((r) => {
        const where = `${hex(r.paddr)} L${r.level} tree ${hex(r.tree * pageSize(1))} path "${r.path}"`
        if (r.change === 'changed') {
          const fields = r.fields.length > 0 ? ` fields ${r.fields.join(', ')}` : ''
          return [`~ ${where}${fields}`, ...entryLines(r.entries)]
        }
        const kinds = new Map<string, number>()
        for (const e of r.entries) {
          const c = r.change === 'added' ? e.after : e.before
          const k = c === null ? 'absent' : c.kind
          kinds.set(k, (kinds.get(k) ?? 0) + 1)
        }
        const summary = [...kinds].map(([k, n]) => `${n} ${k}`).join(', ')
        return [`${r.change === 'added' ? '+' : '-'} ${where}${summary === '' ? '' : ` (${summary})`}`]
      })
    case 'cursors':
      return s.cursors.map((c) => {
        const at = `${hex(c.va)} L${c.level}`
        const what = `#${c.id} ${c.kind} on pt#${c.pageTable} [${hex(c.range.start)}, ${hex(c.range.end)})`
        if (c.change === 'created') return `+ ${what} at ${at}`
        if (c.change === 'dropped') return `- ${what}`
        return `~ #${c.id} ${c.change === 'moved' ? `${hex(c.from!.va)} L${c.from!.level} → ${at}` : `changed at ${at}`}`
      })
    case 'vmIos':
      return s.vmIos.map((v) => {
        const what = `#${v.id} ${v.kind}`
        if (v.change === 'created') return `+ ${what} [${hex(v.cursor)}, ${hex(v.end)})`
        if (v.change === 'dropped') return `- ${what}`
        return `~ ${what} [${hex(v.from!.cursor)}, ${hex(v.from!.end)}) → [${hex(v.cursor)}, ${hex(v.end)})`
      })
    case 'handles':
      return s.handles.map((h) => {
        const what = `${h.registry}#${h.id}`
        if (h.change === 'created') return `+ ${what} ${valueText(h.after)}`
        if (h.change === 'dropped') return `- ${what} ${valueText(h.before)}`
        return `~ ${what} ${valueText(h.before)} → ${valueText(h.after)}`
      })
  }
}

/** One structural change: `path: before → after` (addresses in hex by the path's last key). */
export function pathChangeText(c: PathChange): string {
  const key = lastKey(c.path)
  return `${c.path}: ${valueText(c.before, key)} → ${valueText(c.after, key)}`
}

/** The structural lines (unfolded). */
export function structuralLines(d: SnapshotDiff): string[] {
  return d.structural.map(pathChangeText)
}

/** The whole diff as text. */
export function renderDiff(d: SnapshotDiff, options: RenderOptions = {}): string {
  const min = options.foldRuns ?? 4
  const lines: string[] = []
  for (const category of SEMANTIC_CATEGORIES) {
    const body = categoryLines(d, category)
    if (body.length === 0) continue
    lines.push(`${TITLES[category]} (${d.semantic[category].length}):`)
    for (const l of foldRuns(body, min)) lines.push(`  ${l}`)
  }
  if (options.structural !== false && d.structural.length > 0) {
    lines.push(`structural (${d.structural.length} paths):`)
    for (const l of foldRuns(structuralLines(d), min)) lines.push(`  ${l}`)
  }
  if (lines.length === 0) lines.push(d.identical ? '(identical snapshots)' : '(no change)')
  if (options.maxLines !== undefined && lines.length > options.maxLines) {
    const cut = lines.length - options.maxLines
    return [...lines.slice(0, options.maxLines), `… ${cut} more line${cut === 1 ? '' : 's'}`].join('\n')
  }
  return lines.join('\n')
}
