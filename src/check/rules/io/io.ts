/**
 * Rules of frame / segment memory and VM I/O (ostd::mm::io; behaviour.md §2.7–§2.8, state.md §12,
 * operations.md §11.11–§11.14).
 *
 * Digest rules: INV-VMIO-1 (a reader's / writer's range is ordered) with its umbrella INV-STORE-9,
 * ENS-EMB-NEWKERNELREADER-1 / -NEWKERNELWRITER-1 (frame and segment `reader()` / `writer()` are
 * `from_kernel_space` over the whole range), ENS-EMB-DROPREADER-1 / -DROPWRITER-1,
 * ENS-EMB-READ-1 / -2 (a copy only moves the two cursors forward; applied to `write` too, its mirror).
 *
 * Model rules, which make the checker see wrong bytes and wrong cursor arithmetic:
 *   ENS-MEM-READ-1      a read returns exactly the stored bytes (or the error OSTD returns) and
 *                       changes no memory;
 *   ENS-MEM-WRITE-1     a write returns what OSTD returns and changes exactly the bytes it writes,
 *                       to the given values, and nothing else anywhere;
 *   ENS-VMIO-COPY-1     `read` / `write` copy min(remain, avail) bytes, move both cursors by it,
 *                       the destination holds the source's bytes;
 *   ENS-VMIO-ADVANCE-1  value reads/writes, `fill` and `skip` move the cursor by exactly their size;
 *   ENS-VMIO-LIMIT-1    `limit` only shrinks, and changes nothing but `end`.
 * Each event has exactly one rule that owns "nothing else changed" for the parts outside its
 * domain, so one fault is reported once.
 *
 * Deviation: the embedding treats the I/O methods as handle-only — ENS-EMB-IOMETHOD-1 and
 * ENS-EMB-WRITE-1 say "the store is unchanged" because the exec cursor lives outside `VmStore`,
 * and ENS-EMB-READ-3 adds a ghost `consumed_w` entry for the bytes a `read` wrote. The model keeps
 * the exec cursor in its `VmIoEntry` (behaviour.md §2.8: the cursors advance) and has no ghost
 * memory views, so those three are not implemented; ENS-EMB-READ-1/2 are checked on `write` too,
 * and INV-VMIO-2/3 (views) have nothing to check.
 *
 * Expected values are computed here from the pre-state, independently of the reducers, with the
 * checker's own value codec (./value_codec.ts).
 */
import equal from 'fast-deep-equal/es6/index.js'
import { frameToIndex, PAGE_SIZE } from '../../../arch/constants.js'
import { finding, type Finding } from '../../../model/spec/finding.js'
import type { Snapshot, VmIoEntry } from '../../../model/snapshot.js'
import { tableGet } from '../../../model/table.js'
import type { ValType, ValValue } from '../../../../reducers/io/frame_io.js'
import type { EnsContext, Rule, UmbrellaRule } from '../../rule.js'
import { ens, inv, umbrella } from '../helpers.js'
import { base64ToBytes, bytesToValue, valueToBytes, valueWidthBytes } from './value_codec.js'

// ---- reading the state -------------------------------------------------------------------

/** The bytes of `[pa, pa + n)` in `s` (pages without an entry are zero). */
function bytesAt(s: Snapshot, pa: number, n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; ) {
    const page = tableGet(s.memory, frameToIndex(pa + i))
    const off = (pa + i) % PAGE_SIZE
    const k = Math.min(PAGE_SIZE - off, n - i)
    if (page !== null) out.set(page.subarray(off, off + k), i)
    i += k
  }
  return out
}

function hex(n: number): string {
  return '0x' + n.toString(16)
}

function field(ctx: EnsContext, name: string): unknown {
  return (ctx.event as Record<string, unknown>)[name]
}

/** The byte range of the frame / segment an event names, in the pre-state. */
function targetOf(ctx: EnsContext): { start: number; size: number } | null {
  const [kind] = ctx.event.type.split('.') as ['frame' | 'segment']
  const id = field(ctx, kind) as number
  if (kind === 'frame') {
    const f = tableGet(ctx.pre.frames, id)
    return f === null ? null : { start: f.paddr, size: PAGE_SIZE }
  }
  const seg = tableGet(ctx.pre.segments, id)
  return seg === null ? null : { start: seg.startPaddr, size: seg.endPaddr - seg.startPaddr }
}

/** The reader or writer an event names (`reader`, else `writer`). */
function vioIdOf(ctx: EnsContext): number {
  const r = field(ctx, 'reader')
  return typeof r === 'number' && !ctx.event.type.startsWith('vm_writer.') ? r : (field(ctx, 'writer') as number)
}

const lenOf = (e: VmIoEntry): number => e.end - e.cursor

const ERR = { ok: false, error: 'InvalidArgs' } as const

function resultIs(rule: string, ctx: EnsContext, want: unknown, what: string): Finding[] {
  return equal(ctx.result, want) ? [] : [finding(rule, 'result', `${ctx.event.type} returned the wrong result: ${what}`, want, ctx.result)]
}

// ---- "nothing else changed" --------------------------------------------------------------

interface Allowed {
  /** Memory may change (checked by the caller). */
  readonly memory?: boolean
  /** Reader / writer entries may change (checked by the caller). */
  readonly vmIos?: boolean
  /** The `vmIo` id counter may change (creation). */
  readonly vmIoCounter?: boolean
}

/** Every part of the store outside `allowed` is unchanged (memory compared byte by byte). */
function restUnchanged(ctx: EnsContext, rule: string, allowed: Allowed = {}): Finding[] {
  if (ctx.pre === ctx.post) return []
  const c = ctx.changes
  const out: Finding[] = []
  const parts: Array<[string, ReadonlySet<number>]> = [
    ['regions.slotOwners/metaSlots', c.slotCells],
    ['regions.slots', c.parking],
    ['regions.frameObligations', c.obligations],
    ['uniqueOwners', c.uniqueOwners],
    ['frames', c.frames],
    ['segments', c.segments],
    ['uniqueFrames', c.uniqueFrames],
    ['lists', c.lists],
  ]
  if (!allowed.vmIos) parts.push(['vmIos', c.vmIos])
  for (const [name, set] of parts) {
    for (const i of set) out.push(finding(rule, `${name}[${i}]`, `${ctx.event.type} changed ${name}[${i}], which it does not touch`))
  }
  if (!allowed.memory) {
    for (const idx of c.memory) {
      const a = bytesAt(ctx.pre, idx * PAGE_SIZE, PAGE_SIZE)
      const b = bytesAt(ctx.post, idx * PAGE_SIZE, PAGE_SIZE)
      const k = a.findIndex((v, i) => v !== b[i])
      if (k >= 0) out.push(finding(rule, `memory[${idx}]`, `${ctx.event.type} changed the byte at ${hex(idx * PAGE_SIZE + k)}, which it does not write`, a[k], b[k]))
    }
  }
  const counters = allowed.vmIoCounter ? { ...ctx.post.counters, vmIo: ctx.pre.counters.vmIo } : ctx.post.counters
  if (!equal(ctx.pre.counters, counters)) out.push(finding(rule, 'counters', `${ctx.event.type} changed the id counters`, ctx.pre.counters, ctx.post.counters))
  if (!equal(ctx.pre.allocator, ctx.post.allocator)) out.push(finding(rule, 'allocator', `${ctx.event.type} changed the allocator`))
  return out
}

/**
 * Memory after a write: every byte in `pieces` holds the piece's value, and every other byte of
 * every changed page is as before.
 */
function memoryIs(ctx: EnsContext, rule: string, pieces: ReadonlyArray<readonly [number, Uint8Array]>): Finding[] {
  const out: Finding[] = []
  const masks = new Map<number, Uint8Array>()
  for (const [pa, bytes] of pieces) {
    const got = bytesAt(ctx.post, pa, bytes.length)
    const k = bytes.findIndex((v, i) => v !== got[i])
    if (k >= 0) out.push(finding(rule, `memory[${frameToIndex(pa + k)}]`, `the byte at ${hex(pa + k)} is not the value written`, bytes[k], got[k]))
    for (let i = 0; i < bytes.length; ) {
      const idx = frameToIndex(pa + i)
      const off = (pa + i) % PAGE_SIZE
      const n = Math.min(PAGE_SIZE - off, bytes.length - i)
      let mask = masks.get(idx)
      if (mask === undefined) masks.set(idx, (mask = new Uint8Array(PAGE_SIZE)))
      mask.fill(1, off, off + n)
      i += n
    }
  }
  for (const idx of ctx.changes.memory) {
    const a = bytesAt(ctx.pre, idx * PAGE_SIZE, PAGE_SIZE)
    const b = bytesAt(ctx.post, idx * PAGE_SIZE, PAGE_SIZE)
    const mask = masks.get(idx)
    const k = a.findIndex((v, i) => v !== b[i] && mask?.[i] !== 1)
    if (k >= 0) out.push(finding(rule, `memory[${idx}]`, `the byte at ${hex(idx * PAGE_SIZE + k)} changed although the write does not cover it`, a[k], b[k]))
  }
  return out
}

/** The post entry of `id` is the pre entry with `patch` (and no other entry changed). */
function entryIs(ctx: EnsContext, rule: string, id: number, want: VmIoEntry | null, also: readonly number[] = []): Finding[] {
  const out: Finding[] = []
  const got = tableGet(ctx.post.vmIos, id)
  if (!equal(got, want)) out.push(finding(rule, `vmIos[${id}]`, `vm_io ${id} is not as ${ctx.event.type} leaves it`, want, got))
  const ok = new Set([id, ...also])
  for (const other of ctx.changes.vmIos) {
    if (!ok.has(other)) out.push(finding(rule, `vmIos[${other}]`, `${ctx.event.type} changed vm_io ${other}, which it does not name`, tableGet(ctx.pre.vmIos, other), tableGet(ctx.post.vmIos, other)))
  }
  return out
}

// ---- the expected effect of each I/O call ------------------------------------------------

interface Expected {
  readonly result: unknown
  /** Bytes written, at physical addresses (writes only). */
  readonly pieces: ReadonlyArray<readonly [number, Uint8Array]>
}

/** `VmIo` on a frame / segment: min(n, size − off) bytes; Err(InvalidArgs) iff off > size. */
function vmIoExpected(ctx: EnsContext): Expected | null {
  const r = targetOf(ctx)
  if (r === null) return null
  const op = ctx.event.type.split('.')[1]
  const off = field(ctx, 'offset') as number
  const t = field(ctx, 'valType') as ValType
  const fits = (n: number): number => Math.min(n, r.size - off)
  if (op === 'write_vals') {
    const values = field(ctx, 'values') as ValValue[]
    const align = field(ctx, 'align') as number
    const size = valueWidthBytes(t)
    const up = (x: number): number => (align <= 1 ? x : Math.ceil(x / align) * align)
    const pieces: Array<readonly [number, Uint8Array]> = []
    let o = up(off)
    for (let i = 0; i < values.length; i++, o += up(size)) {
      if (o > r.size) return { result: i === 0 ? ERR : { ok: true, value: i }, pieces }
      pieces.push([r.start + o, valueToBytes(t, values[i]!).subarray(0, Math.min(size, r.size - o))])
    }
    return { result: { ok: true, value: values.length }, pieces }
  }
  if (off > r.size) return { result: ERR, pieces: [] }
  switch (op) {
    case 'read_bytes': {
      const bytes = bytesAt(ctx.pre, r.start + off, fits(field(ctx, 'len') as number))
      return { result: { ok: true, value: bytes }, pieces: [] }
    }
    case 'read_val': {
      const buf = new Uint8Array(valueWidthBytes(t))
      buf.set(bytesAt(ctx.pre, r.start + off, fits(buf.length)))
      return { result: { ok: true, value: bytesToValue(t, buf) }, pieces: [] }
    }
    case 'write_bytes': {
      const bytes = base64ToBytes(field(ctx, 'bytes') as string)!
      const n = fits(bytes.length)
      return { result: { ok: true, value: n }, pieces: [[r.start + off, bytes.subarray(0, n)]] }
    }
    case 'write_val': {
      const bytes = valueToBytes(t, field(ctx, 'value') as ValValue)
      return { result: { ok: true, value: null }, pieces: [[r.start + off, bytes.subarray(0, fits(bytes.length))]] }
    }
  }
  return null
}

/** `read_val` / `read_once` / `write_val` / `write_once` / `fill` on a reader or writer. */
function cursorExpected(ctx: EnsContext): Expected | null {
  const e = tableGet(ctx.pre.vmIos, vioIdOf(ctx))
  // user-space (fallible) readers/writers go through the page table: ENS-VMIO-FALLIBLE-1 / -2 (src/check/rules/vm_space/vm_space.ts)
  if (e === null || e.space.kind === 'user') return null
  const op = ctx.event.type.split('.')[1]
  const t = field(ctx, 'valType') as ValType
  const size = valueWidthBytes(t)
  if (op === 'fill') {
    const one = valueToBytes(t, field(ctx, 'value') as ValValue)
    const count = size === 0 ? 0 : Math.floor(lenOf(e) / size)
    const bytes = new Uint8Array(count * size)
    for (let i = 0; i < count; i++) bytes.set(one, i * size)
    return { result: count, pieces: [[e.cursor, bytes]] }
  }
  if (lenOf(e) < size) return { result: ERR, pieces: [] }
  if (op === 'read_val' || op === 'read_once') return { result: { ok: true, value: bytesToValue(t, bytesAt(ctx.pre, e.cursor, size)) }, pieces: [] }
  return { result: { ok: true, value: null }, pieces: [[e.cursor, valueToBytes(t, field(ctx, 'value') as ValValue)]] }
}

/** The cursor a single-entry method leaves (from the pre-state). */
function advancedCursor(ctx: EnsContext, e: VmIoEntry): number {
  const op = ctx.event.type.split('.')[1]
  if (op === 'skip') return e.cursor + (field(ctx, 'n') as number)
  if (op === 'fill') return e.end
  const size = valueWidthBytes(field(ctx, 'valType') as ValType)
  return lenOf(e) < size ? e.cursor : e.cursor + size
}

/** A read's result with bytes decoded from base64 (the result of `read_bytes` is base64). */
function normalisedResult(ctx: EnsContext): unknown {
  const r = ctx.result as { ok?: boolean; value?: unknown }
  if (ctx.event.type.endsWith('.read_bytes') && r?.ok === true && typeof r.value === 'string') return { ok: true, value: base64ToBytes(r.value) }
  return ctx.result
}

// ---- event groups ------------------------------------------------------------------------

const both = (ops: readonly string[]): string[] => ops.flatMap((op) => [`frame.${op}`, `segment.${op}`])
const TARGET_READS = both(['read_bytes', 'read_val'])
const TARGET_WRITES = both(['write_bytes', 'write_val', 'write_vals'])
const VALUE_READS = ['vm_reader.read_val', 'vm_reader.read_once']
const VALUE_WRITES = ['vm_writer.write_val', 'vm_writer.write_once', 'vm_writer.fill']
const SKIPS = ['vm_reader.skip', 'vm_writer.skip']
const LIMITS = ['vm_reader.limit', 'vm_writer.limit']
const COPIES = ['vm_reader.read', 'vm_writer.write']

/** Bytes in a finding: as hex, so a report reads well. */
function shown(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v].map((b) => b.toString(16).padStart(2, '0')).join('')
  if (v !== null && typeof v === 'object' && 'value' in v) return { ...v, value: shown((v as { value: unknown }).value) }
  return v
}

// ---- creation ----------------------------------------------------------------------------

function created(ctx: EnsContext, rule: string, kind: 'Reader' | 'Writer'): Finding[] {
  const [target, what] = ctx.event.type.split('.') as ['frame' | 'segment', 'reader' | 'writer']
  const r = targetOf(ctx)
  if (r === null) return []
  const id = (ctx.result as Record<string, unknown> | null)?.[what]
  if (typeof id !== 'number' || tableGet(ctx.pre.vmIos, id) !== null) {
    return [finding(rule, 'result', `${ctx.event.type} did not return a fresh ${what} id`, 'an unused id', ctx.result), ...restUnchanged(ctx, rule, { vmIos: true, vmIoCounter: true })]
  }
  const want: VmIoEntry = { kind, fallible: false, space: { kind: 'linear' }, cursor: r.start, end: r.start + r.size, borrow: { kind: target, id: field(ctx, target) as number } }
  return [...entryIs(ctx, rule, id, want), ...restUnchanged(ctx, rule, { vmIos: true, vmIoCounter: true })]
}

function dropped(ctx: EnsContext, rule: string): Finding[] {
  const id = vioIdOf(ctx)
  return [...entryIs(ctx, rule, id, null), ...restUnchanged(ctx, rule, { vmIos: true })]
}

/** ENS-EMB-READ-1/2: the entry's cursor does not move back; everything else of it is unchanged. */
function onlyCursorGrows(ctx: EnsContext, rule: string, id: number): Finding[] {
  const a = tableGet(ctx.pre.vmIos, id)
  const b = tableGet(ctx.post.vmIos, id)
  if (a === null) return []
  if (b === null) return [finding(rule, `vmIos[${id}]`, `vm_io ${id} disappeared`, a, null)]
  const out: Finding[] = []
  if (!(b.cursor >= a.cursor)) out.push(finding(rule, `vmIos[${id}].cursor`, `the cursor of vm_io ${id} moved back`, `>= ${a.cursor}`, b.cursor))
  if (b.end !== a.end) out.push(finding(rule, `vmIos[${id}].end`, `the end of vm_io ${id} changed`, a.end, b.end))
  for (const f of ['kind', 'fallible', 'space', 'borrow'] as const) {
    if (!equal(a[f], b[f])) out.push(finding(rule, `vmIos[${id}].${f}`, `${f} of vm_io ${id} changed`, a[f], b[f]))
  }
  return out
}

// ---- the rules ---------------------------------------------------------------------------

export const ioRules: ReadonlyArray<Rule | UmbrellaRule> = [
  inv('INV-VMIO-1', 'A', 'vmIos', (s, id) => {
    const e = tableGet(s.vmIos, id)!
    const ok = Number.isSafeInteger(e.cursor) && Number.isSafeInteger(e.end) && e.cursor >= 0 && e.cursor <= e.end
    return ok ? [] : [finding('INV-VMIO-1', `vmIos[${id}]`, `vm_io ${id} has cursor ${e.cursor} past its end ${e.end} (or a non-address bound)`, 'cursor <= end', { cursor: e.cursor, end: e.end })]
  }),
  umbrella('INV-STORE-9', ['INV-VMIO-1'], { scope: 'vmIos' }),

  ens('ENS-EMB-NEWKERNELREADER-1', ['frame.reader', 'segment.reader'], (ctx) => created(ctx, 'ENS-EMB-NEWKERNELREADER-1', 'Reader')),
  ens('ENS-EMB-NEWKERNELWRITER-1', ['frame.writer', 'segment.writer'], (ctx) => created(ctx, 'ENS-EMB-NEWKERNELWRITER-1', 'Writer')),
  ens('ENS-EMB-DROPREADER-1', ['vm_reader.drop'], (ctx) => dropped(ctx, 'ENS-EMB-DROPREADER-1')),
  ens('ENS-EMB-DROPWRITER-1', ['vm_writer.drop'], (ctx) => dropped(ctx, 'ENS-EMB-DROPWRITER-1')),

  ens(
    'ENS-MEM-READ-1',
    [...TARGET_READS, ...VALUE_READS],
    (ctx) => {
      const rule = 'ENS-MEM-READ-1'
      const want = ctx.event.type.startsWith('vm_reader.') ? cursorExpected(ctx) : vmIoExpected(ctx)
      if (want === null) return []
      const got = normalisedResult(ctx)
      const out = equal(got, want.result) ? [] : [finding(rule, 'result', `${ctx.event.type} did not return the stored bytes (or the error OSTD returns)`, shown(want.result), shown(got))]
      return [...out, ...restUnchanged(ctx, rule, { vmIos: ctx.event.type.startsWith('vm_reader.') })]
    },
    '[model] A read (`VmIo::read_bytes` / `read_val` on a frame or segment, `VmReader::read_val` / `read_once`) returns exactly the stored bytes — min(n, size − off) of them, a value zero-padded past the end — or `Err(InvalidArgs)` where OSTD does (off > size; remain < size), and changes no memory and nothing else (a reader\'s cursor is ENS-VMIO-ADVANCE-1\'s).',
  ),
  ens(
    'ENS-MEM-WRITE-1',
    [...TARGET_WRITES, ...VALUE_WRITES],
    (ctx) => {
      const rule = 'ENS-MEM-WRITE-1'
      const onWriter = ctx.event.type.startsWith('vm_writer.')
      const want = onWriter ? cursorExpected(ctx) : vmIoExpected(ctx)
      if (want === null) return []
      return [...resultIs(rule, ctx, want.result, 'not what OSTD returns'), ...memoryIs(ctx, rule, want.pieces), ...restUnchanged(ctx, rule, { memory: true, vmIos: onWriter })]
    },
    '[model] A write (`VmIo::write_bytes` / `write_val` / `write_vals` on a frame or segment, `VmWriter::write_val` / `write_once` / `fill`) returns what OSTD returns (the count written: min(n, size − off); Err(InvalidArgs) iff off > size / avail < size; `fill`: avail / size) and changes exactly the bytes it writes, to the given little-endian values, and nothing else anywhere (a writer\'s cursor is ENS-VMIO-ADVANCE-1\'s).',
  ),
  ens(
    'ENS-VMIO-COPY-1',
    COPIES,
    (ctx) => {
      const rule = 'ENS-VMIO-COPY-1'
      const rid = field(ctx, 'reader') as number
      const wid = field(ctx, 'writer') as number
      const r = tableGet(ctx.pre.vmIos, rid)
      const w = tableGet(ctx.pre.vmIos, wid)
      if (r === null || w === null) return []
      const n = Math.max(0, Math.min(lenOf(r), lenOf(w)))
      const out: Finding[] = []
      if (ctx.result !== n) out.push(finding(rule, 'result', `${ctx.event.type} returned ${String(ctx.result)}, not min(remain, avail) = ${n}`, n, ctx.result))
      for (const [id, pre] of [[rid, r], [wid, w]] as const) {
        const post = tableGet(ctx.post.vmIos, id)
        if (post !== null && post.cursor !== pre.cursor + n) out.push(finding(rule, `vmIos[${id}].cursor`, `the cursor of vm_io ${id} moved by ${post.cursor - pre.cursor}, not by the ${n} bytes copied`, pre.cursor + n, post.cursor))
      }
      out.push(...memoryIs(ctx, rule, [[w.cursor, bytesAt(ctx.pre, r.cursor, n)]]))
      for (const other of ctx.changes.vmIos) {
        if (other !== rid && other !== wid) out.push(finding(rule, `vmIos[${other}]`, `${ctx.event.type} changed vm_io ${other}, which it does not name`))
      }
      return [...out, ...restUnchanged(ctx, rule, { memory: true, vmIos: true })]
    },
    '[model] `VmReader::read(writer)` / `VmWriter::write(reader)` return min(remain, avail), move both cursors by exactly that count, and afterwards the destination bytes equal the source bytes as they were before (memmove); no other byte, entry or part of the store changes.',
  ),
  ens('ENS-EMB-READ-1', COPIES, (ctx) => onlyCursorGrows(ctx, 'ENS-EMB-READ-1', field(ctx, 'reader') as number)),
  ens('ENS-EMB-READ-2', COPIES, (ctx) => onlyCursorGrows(ctx, 'ENS-EMB-READ-2', field(ctx, 'writer') as number)),
  ens(
    'ENS-VMIO-ADVANCE-1',
    [...VALUE_READS, ...VALUE_WRITES, ...SKIPS],
    (ctx) => {
      const rule = 'ENS-VMIO-ADVANCE-1'
      const id = vioIdOf(ctx)
      const pre = tableGet(ctx.pre.vmIos, id)
      if (pre === null || pre.space.kind === 'user') return [] // user space: ENS-VMIO-FALLIBLE-1 / INV-VMIO-3
      const out = entryIs(ctx, rule, id, { ...pre, cursor: advancedCursor(ctx, pre) })
      return ctx.event.type.endsWith('.skip') ? [...out, ...restUnchanged(ctx, rule, { vmIos: true })] : out
    },
    '[model] `read_val` / `read_once` / `write_val` / `write_once` move the cursor by the value\'s size (not at all on Err), `fill` moves it to the end, `skip(n)` by n; the entry\'s end, kind, space and borrow are unchanged and no other reader or writer changes (`skip` changes nothing else at all).',
  ),
  ens(
    'ENS-VMIO-LIMIT-1',
    LIMITS,
    (ctx) => {
      const rule = 'ENS-VMIO-LIMIT-1'
      const id = vioIdOf(ctx)
      const pre = tableGet(ctx.pre.vmIos, id)
      if (pre === null || pre.space.kind === 'user') return [] // user space: ENS-VMIO-FALLIBLE-1 / INV-VMIO-3
      const n = field(ctx, 'n') as number
      const want = n < lenOf(pre) ? { ...pre, end: pre.cursor + n } : pre
      return [...entryIs(ctx, rule, id, want), ...restUnchanged(ctx, rule, { vmIos: true })]
    },
    '[model] `limit(n)` sets end := cursor + n when n < remain/avail and otherwise changes nothing: it never grows the range; the cursor and everything else are unchanged.',
  ),
]
