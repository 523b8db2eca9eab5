/**
 * Model-based test of page-table cursors (issue 4): fast-check `commands` drive the public facade
 * (`pt.cursorMut(range)`, `map`, `takeNext`, `protectNext`, `query`, `next`, `findNext`, `jump`,
 * `drop`) and a plain reference page table (test/property/pt_reference.ts, written from
 * behaviour.md §2.5 alone) side by side. After every command the answers must be identical, the
 * page table's view (ghost owner tree and PTE words both) must equal the reference's leaves, the
 * cursor's address and level must match, and the tree's nodes must be the reference's; every step
 * is checked (incremental) and must be clean. Panics must leave the state untouched.
 *
 * Configurations: the user page table maps `Frame`s (4 KiB: OSTD's `UserPtConfig` items are
 * frames, and the model's frames are base pages); the untracked one maps raw items of 4 KiB,
 * 2 MiB and 1 GiB. fast-check shrinks a failing sequence to a minimal one and prints it.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { OstdPanic } from '../../src/arch/errors.js'
import { newUser, PageFlags, type PageProperty } from '../../src/arch/page_prop.js'
import { frameToIndex, pageSize } from '../../src/arch/constants.js'
import { ptConfig, type PtConfigName } from '../../src/arch/pt_config.js'
import { createModel, type Model } from '../../src/api/model.js'
import { PageTable } from '../../src/api/page_table.js'
import type { CursorMut, MappedItem, PageTableFrag, VaRangeOut } from '../../src/api/pt_cursor.js'
import { unwrap } from '../../src/api/result.js'
import { cursorAt } from '../../src/model/pt_cursor.js'
import { pageTableHandle } from '../../src/model/pt_tables.js'
import { pathVaddr, viewOf } from '../../src/model/pt_view.js'
import { tableForEach } from '../../src/model/table.js'
import { RefPageTable, type RefFrag, type RefLeaf } from './pt_reference.js'
import { RUNS, SEED } from './run.js'

const K4 = pageSize(1)
const M2 = pageSize(2)
const G1 = pageSize(3)
const PROPS: readonly PageProperty[] = [newUser(PageFlags.RW), newUser(PageFlags.RX), newUser(PageFlags.R, 'Uncacheable'), newUser(PageFlags.RWX, 'Writethrough')]
/** `protect_next` ops: `flags := (flags & ~clear) | set` (R stays: a mapped property keeps R). */
const OPS: ReadonlyArray<(p: PageProperty) => PageProperty> = [
  (p) => ({ ...p, flags: p.flags & ~PageFlags.W }),
  (p) => ({ ...p, flags: p.flags | PageFlags.X }),
  (p) => ({ ...p, flags: (p.flags & ~PageFlags.X) | PageFlags.W }),
]

/** Cursor ranges per configuration (repeats weight them): different guard levels (1..3), some inside where huge leaves go. */
const RANGES: Record<'user' | 'untracked', ReadonlyArray<readonly [number, number]>> = {
  user: [
    [0, 4 * M2],
    [M2, M2 + 16 * K4],
    [0, G1],
    [G1 - 2 * M2, G1 + 2 * M2],
    [2 * M2, 3 * M2],
  ],
  untracked: [
    [0, 4 * G1],
    [0, 4 * G1],
    [0, 4 * G1],
    [G1, 2 * G1],
    [G1, 2 * G1],
    [0, 4 * M2],
    [M2, 2 * M2],
    [0, 4 * M2],
    [G1 + M2, G1 + M2 + 16 * K4],
  ],
}

interface Real {
  readonly m: Model
  readonly pt: PageTable
  readonly rootSlot: number
  readonly config: 'user' | 'untracked'
  cursor: CursorMut | null
}

type Cmd = fc.Command<RefPageTable, Real>

/** What the runs exercised (asserted at the end: the property is not vacuous). */
const seen = new globalThis.Map<string, number>()
function saw(what: string): void {
  seen.set(what, (seen.get(what) ?? 0) + 1)
}

function realPageTable(config: 'user' | 'untracked'): Real {
  const m = createModel({ check: 'incremental', physicalMemory: 1 << 24 })
  const pt = config === 'user' ? new PageTable(m, m.call<{ pageTable: number }>({ type: 'page_table.new', config: 'user' }).pageTable) : m.pageTables.create('untracked')
  const rootSlot = frameToIndex(pageTableHandle(m.state, pt.id)!.rootPaddr)
  return { m, pt, rootSlot, config, cursor: null }
}

function newRef(config: PtConfigName): RefPageTable {
  const c = ptConfig(config)
  return new RefPageTable(c.highestTranslationLevel, c.topLevelCanUnmap)
}

// ---- comparing --------------------------------------------------------------------------------

const num = (va: number | bigint): number => Number(va)

function leafOfItem(item: MappedItem): { pa: number; level: number; prop: PageProperty } {
  if ('frame' in item) {
    const pa = item.frame.startPaddr()
    item.frame.drop()
    return { pa, level: 1, prop: item.prop }
  }
  return { pa: item.pa, level: item.level, prop: item.prop }
}

/** A fragment as plain data (dropping the handles it hands over). */
function fragData(f: PageTableFrag): unknown {
  if (f.kind === 'Mapped') return { kind: 'Mapped', va: num(f.va), ...leafOfItem(f.item) }
  f.pt.drop()
  return { kind: 'StrayPageTable', va: num(f.va), len: f.len, numFrames: f.numFrames }
}

function refFragData(f: RefFrag): unknown {
  if (f.kind === 'Mapped') return { kind: 'Mapped', va: f.va, pa: f.leaf.pa, level: f.leaf.level, prop: f.leaf.prop }
  return { kind: 'StrayPageTable', va: f.va, len: f.len, numFrames: f.numFrames }
}

const alignDown4K = (n: number): number => n - (n % K4)
const rangeData = (r: VaRangeOut): { start: number; end: number } => ({ start: num(r.start), end: num(r.end) })

/** The page table, the cursor and the checker agree with the reference. */
function agree(ref: RefPageTable, real: Real): void {
  const s = real.m.state
  for (const source of ['ghost', 'pte'] as const) {
    const rows = viewOf(s, real.rootSlot, { source, config: real.config }).map((m) => [m.vaRange.start, m.paRange.start, m.pageSize, m.property])
    expect(rows, `view (${source})`).toEqual(ref.rows())
  }
  const nodes: string[] = []
  tableForEach(s.pt.owners, (o) => {
    if (o.tree === real.rootSlot && o.path !== '') nodes.push(`${o.level}:${pathVaddr(o.path)}`)
  })
  expect(nodes.sort(), 'the tree nodes').toEqual([...ref.nodes].sort())
  if (real.cursor !== null) {
    const c = cursorAt(s, real.cursor.id)!
    expect({ va: c.va, level: c.level, guardLevel: c.guardLevel }, 'the cursor').toEqual({ va: ref.cursor!.va, level: ref.cursor!.level, guardLevel: ref.cursor!.guardLevel })
  }
  const v = real.m.history.violations()
  expect(v.slice(0, 3), 'violations').toEqual([])
}

/** `fn` panics with OstdPanic and changes nothing. */
function panicsUnchanged(real: Real, fn: () => unknown): void {
  saw('panic')
  const before = real.m.state
  const length = real.m.history.length
  expect(fn).toThrow(OstdPanic)
  expect(real.m.state).toBe(before)
  expect(real.m.history.length).toBe(length)
}

// ---- commands ---------------------------------------------------------------------------------

class Open implements Cmd {
  constructor(readonly range: readonly [number, number]) {}
  check(ref: Readonly<RefPageTable>): boolean {
    return ref.cursor === null
  }
  run(ref: RefPageTable, real: Real): void {
    real.cursor = unwrap(real.pt.cursorMut({ start: this.range[0], end: this.range[1] }))
    ref.open(this.range[0], this.range[1])
    agree(ref, real)
  }
  toString(): string {
    return `open(0x${this.range[0].toString(16)}..0x${this.range[1].toString(16)})`
  }
}

/** A second cursor over an overlapping range panics (OSTD would block); a bad range is an `Err`. */
class OpenRefused implements Cmd {
  constructor(readonly how: 'overlap' | 'empty' | 'unaligned') {}
  check(ref: Readonly<RefPageTable>): boolean {
    return this.how !== 'overlap' || ref.cursor !== null
  }
  run(ref: RefPageTable, real: Real): void {
    if (this.how === 'overlap') {
      const c = ref.cursor!
      panicsUnchanged(real, () => real.pt.cursor({ start: c.start, end: c.start + K4 }))
      return
    }
    const before = real.m.state
    const r = this.how === 'empty' ? real.pt.cursorMut({ start: M2, end: M2 }) : real.pt.cursorMut({ start: M2 + 1, end: 2 * M2 })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.kind).toBe(this.how === 'empty' ? 'InvalidVaddrRange' : 'UnalignedVaddr')
    expect(real.m.state).toBe(before)
  }
  toString(): string {
    return `openRefused(${this.how})`
  }
}

/** `map` of one item; `align` first jumps to the next address aligned to the item's size (when in the range). */
class Map implements Cmd {
  constructor(
    readonly level: number,
    readonly paIndex: number,
    readonly prop: number,
    readonly align: boolean,
  ) {}
  check(ref: Readonly<RefPageTable>): boolean {
    return ref.cursor !== null
  }
  run(ref: RefPageTable, real: Real): void {
    const cursor = real.cursor!
    const size = pageSize(this.level)
    const c = ref.cursor!
    const aligned = Math.ceil(c.va / size) * size
    if (this.align && aligned !== c.va && aligned >= c.start && aligned < c.end) {
      expect(cursor.jump(aligned).ok).toBe(ref.jump(aligned))
    }
    const prop = PROPS[this.prop]!
    if (real.config === 'user') {
      const frame = unwrap(real.m.frames.allocFrame())
      if (ref.mapPanics(1)) {
        panicsUnchanged(real, () => cursor.map({ frame, prop }))
        frame.drop()
        return
      }
      const leaf: RefLeaf = { pa: frame.startPaddr(), level: 1, prop }
      const r = cursor.map({ frame, prop })
      const want = ref.map(leaf)
      saw(`map level 1${want === null ? '' : ` over ${want.kind}`}`)
      expect(r.ok ? null : fragData(r.error)).toEqual(want === null ? null : refFragData(want))
    } else {
      const pa = (this.paIndex % Math.floor(0x8000_0000 / size)) * size
      if (ref.mapPanics(this.level)) {
        panicsUnchanged(real, () => cursor.map({ pa, level: this.level, prop }))
        return
      }
      const r = cursor.map({ pa, level: this.level, prop })
      const want = ref.map({ pa, level: this.level, prop })
      saw(`map level ${this.level}${want === null ? '' : ` over ${want.kind}`}`)
      expect(r.ok ? null : fragData(r.error)).toEqual(want === null ? null : refFragData(want))
    }
    agree(ref, real)
  }
  toString(): string {
    return `map(level ${this.level}, pa #${this.paIndex}, prop ${this.prop}${this.align ? ', aligned' : ''})`
  }
}

/** A window length: a number of pages (clipped to the rest of the range), the rest, half of it, one page past it or an unaligned one (these two panic). */
type Len = number | 'rest' | 'half' | 'past' | 'unaligned'
function lenOf(ref: Readonly<RefPageTable>, len: Len): number {
  const c = ref.cursor!
  const rest = Math.max(0, c.end - c.va)
  if (len === 'rest') return rest
  if (len === 'half') return alignDown4K(rest / 2)
  if (len === 'past') return rest + K4
  if (len === 'unaligned') return 100
  return Math.min(len * K4, rest)
}

class TakeNext implements Cmd {
  constructor(readonly len: Len) {}
  check(ref: Readonly<RefPageTable>): boolean {
    return ref.cursor !== null
  }
  run(ref: RefPageTable, real: Real): void {
    const len = lenOf(ref, this.len)
    if (ref.windowPanics(len)) return panicsUnchanged(real, () => real.cursor!.takeNext(len))
    const r = real.cursor!.takeNext(len)
    const want = ref.takeNext(len)
    saw(`takeNext ${want === null ? 'None' : want.kind === 'Mapped' ? `Mapped level ${want.leaf.level}` : want.kind}`)
    expect(r === null ? null : fragData(r)).toEqual(want === null ? null : refFragData(want))
    agree(ref, real)
  }
  toString(): string {
    return `takeNext(${this.len})`
  }
}

class ProtectNext implements Cmd {
  constructor(
    readonly len: Len,
    readonly op: number,
  ) {}
  check(ref: Readonly<RefPageTable>): boolean {
    return ref.cursor !== null
  }
  run(ref: RefPageTable, real: Real): void {
    const len = lenOf(ref, this.len)
    const op = OPS[this.op]!
    if (ref.windowPanics(len)) return panicsUnchanged(real, () => real.cursor!.protectNext(len, op))
    const r = real.cursor!.protectNext(len, op)
    const want = ref.protectNext(len, op)
    saw(`protectNext ${want === null ? 'None' : `${want.end - want.start} bytes`}`)
    expect(r === null ? null : rangeData(r)).toEqual(want)
    agree(ref, real)
  }
  toString(): string {
    return `protectNext(${this.len}, op ${this.op})`
  }
}

class FindNext implements Cmd {
  constructor(readonly len: Len) {}
  check(ref: Readonly<RefPageTable>): boolean {
    return ref.cursor !== null
  }
  run(ref: RefPageTable, real: Real): void {
    const len = lenOf(ref, this.len)
    if (ref.windowPanics(len)) return panicsUnchanged(real, () => real.cursor!.findNext(len))
    const r = real.cursor!.findNext(len)
    const want = ref.findNext(len)
    saw(`findNext ${want === null ? 'None' : 'Some'}`)
    expect(r === null ? null : num(r)).toEqual(want)
    agree(ref, real)
  }
  toString(): string {
    return `findNext(${this.len})`
  }
}

class Query implements Cmd {
  constructor(readonly advance: boolean) {}
  check(ref: Readonly<RefPageTable>): boolean {
    return ref.cursor !== null
  }
  run(ref: RefPageTable, real: Real): void {
    const want = this.advance ? ref.next() : ref.query()
    const wantData = want === null ? null : { ...want, leaf: want.leaf === null ? null : { pa: want.leaf.pa, level: want.leaf.level, prop: want.leaf.prop } }
    const data = (q: [VaRangeOut, MappedItem | null]): unknown => ({ ...rangeData(q[0]), leaf: q[1] === null ? null : leafOfItem(q[1]) })
    if (this.advance) {
      const r = real.cursor!.next()
      expect(r === null ? null : data(r)).toEqual(wantData)
    } else {
      const r = real.cursor!.query()
      if (want === null) expect(r.ok ? 'Ok' : r.error.kind).toBe('InvalidVaddr')
      else expect(r.ok ? data(r.value) : r.error).toEqual(wantData)
    }
    agree(ref, real)
  }
  toString(): string {
    return this.advance ? 'next()' : 'query()'
  }
}

class Jump implements Cmd {
  constructor(
    readonly unit: number,
    readonly k: number,
    readonly unaligned: boolean,
  ) {}
  check(ref: Readonly<RefPageTable>): boolean {
    return ref.cursor !== null
  }
  run(ref: RefPageTable, real: Real): void {
    const c = ref.cursor!
    const va = c.start - (c.start % this.unit) + this.k * this.unit + (this.unaligned ? 8 : 0)
    if (this.unaligned) return panicsUnchanged(real, () => real.cursor!.jump(va))
    const r = real.cursor!.jump(va)
    expect(r.ok).toBe(ref.jump(va))
    agree(ref, real)
  }
  toString(): string {
    return `jump(${this.k} × 0x${this.unit.toString(16)}${this.unaligned ? ' + 8' : ''})`
  }
}

class Drop implements Cmd {
  check(ref: Readonly<RefPageTable>): boolean {
    return ref.cursor !== null
  }
  run(ref: RefPageTable, real: Real): void {
    real.cursor!.drop()
    real.cursor = null
    ref.cursor = null
    agree(ref, real)
  }
  toString(): string {
    return 'drop()'
  }
}

function commands(config: 'user' | 'untracked'): fc.Arbitrary<Iterable<Cmd>> {
  const len: fc.Arbitrary<Len> = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(0, 1, 2, 3, 16, 511, 512, 513, 1024, 262_144) },
    { weight: 3, arbitrary: fc.constantFrom('rest' as const, 'half' as const) },
    { weight: 1, arbitrary: fc.constantFrom('past' as const, 'unaligned' as const) },
  )
  const level = config === 'user' ? fc.constant(1) : fc.constantFrom(1, 1, 2, 2, 3)
  const cmd = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...RANGES[config]).map((r): Cmd => new Open(r)) },
    { weight: 1, arbitrary: fc.constantFrom('overlap' as const, 'empty' as const, 'unaligned' as const).map((h): Cmd => new OpenRefused(h)) },
    { weight: 8, arbitrary: fc.tuple(level, fc.nat(2047), fc.nat(PROPS.length - 1), fc.boolean()).map(([l, p, q, a]): Cmd => new Map(l, p, q, a)) },
    { weight: 4, arbitrary: len.map((l): Cmd => new TakeNext(l)) },
    { weight: 4, arbitrary: fc.tuple(len, fc.nat(OPS.length - 1)).map(([l, o]): Cmd => new ProtectNext(l, o)) },
    { weight: 2, arbitrary: len.map((l): Cmd => new FindNext(l)) },
    { weight: 2, arbitrary: fc.boolean().map((a): Cmd => new Query(a)) },
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(K4, M2, G1), fc.nat(5)).map(([u, k]): Cmd => new Jump(u, k, false)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(K4, M2), fc.nat(5)).map(([u, k]): Cmd => new Jump(u, k, true)) },
    { weight: 1, arbitrary: fc.constant<Cmd>(new Drop()) },
  )
  return fc.commands(
    [cmd],
    { maxCommands: 60, size: 'max' },
  )
}

describe('page-table cursors against a reference page table (fast-check commands)', () => {
  for (const config of ['user', 'untracked'] as const) {
    it(`${config}: identical answers, views, cursor positions and tree nodes; every step clean`, () => {
      fc.assert(
        fc.property(commands(config), (cmds) => {
          const real = realPageTable(config)
          fc.modelRun(() => ({ model: newRef(config), real }), cmds)
          if (real.cursor !== null) real.cursor.drop()
          expect(real.m.history.violations()).toEqual([])
        }),
        { seed: SEED, numRuns: Math.max(5, config === 'user' ? Math.ceil(RUNS / 2) : RUNS) },
      )
    })
  }

  it('the runs exercised every outcome: huge and base maps over empty slots, leaves and sub-trees; Mapped and StrayPageTable takes; splits; panics', () => {
    const want = ['map level 1', 'map level 1 over Mapped', 'map level 2', 'map level 3', 'map level 2 over StrayPageTable', 'takeNext Mapped level 1', 'takeNext Mapped level 2', 'takeNext StrayPageTable', 'takeNext None', 'protectNext 4096 bytes', 'protectNext 2097152 bytes', 'protectNext None', 'findNext Some', 'findNext None', 'panic']
    const missing = want.filter((w) => (seen.get(w) ?? 0) === 0)
    expect(missing, JSON.stringify(Object.fromEntries(seen))).toEqual([])
  })

  it('the reference is not vacuous: a map that lands in the wrong place is caught', () => {
    const real = realPageTable('untracked')
    const ref = newRef('untracked')
    new Open([0, 4 * M2]).run(ref, real)
    ref.cursor!.va = K4 // the reference thinks the cursor is one page further
    expect(() => new Map(1, 3, 0, false).run(ref, real)).toThrow()
  })
})
