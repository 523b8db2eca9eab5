/**
 * The compact event log of one branch of a history: a history keeps its events, not its
 * snapshots (those are re-derived from checkpoints, checkpoints.ts).
 *
 * Layout: per event a type code (`Uint16Array`, codes interned per store) and the JSON text of
 * its arguments without `type` (a one-byte string: 16 B + its length in V8), interned while the
 * intern table is small so that repeated argument lists (`{"frame":0}`, default metadata) share
 * one string. A typical event costs 8 B (slot) + 2 B (type) + ~24–40 B (text) ≤ 64 B. Sparse
 * per-event data (recorded results for differential replay, violations) lives in maps.
 *
 * A lazily loaded trace with deferred validation (`pushRaw`) stores a plain event line as its type
 * code with `RAW_BIT` and `LINE_BIT` set and the bytes after `{"type":"…",` copied into a byte arena (4 B offset +
 * the bytes: no string is made at load); line numbers are kept as runs (consecutive lines cost
 * nothing). It is parsed and validated against its schema the first time it is decoded (`at`),
 * then stored as above. A line that fails then throws the `TraceError` naming it, as loading would
 * have.
 */
import type { ModelEvent } from '../../reducers/index.js'
import { TraceError, validateEvent } from './trace.js'

const INTERN_LIMIT = 1 << 16
/** Set in the type code of a raw (not yet validated) line; codes stay below it. */
const RAW_BIT = 0x8000
/** Set in the type code of an entry appended as a raw line, decoded or not (its line is kept); codes stay below it. */
const LINE_BIT = 0x4000
const CODE_MASK = LINE_BIT - 1

interface RawArena {
  bytes: Buffer & { utf8Slice(start: number, end: number): string }
  /** Whether another store (the one it was copied from) references these bytes. */
  shared: boolean
}

export class EventStore {
  private types: Uint16Array
  private args: string[]
  private count = 0
  private readonly typeNames: string[]
  private readonly typeCodes: Map<string, number>
  private readonly intern: Map<string, string>
  /** Trace lines of the raw entries, as runs: entry `runIndex[k] + j` is on line `runLine[k] + j` (until the next run). */
  private runIndex: number[] = []
  private runLine: number[] = []
  /** Raw bytes: entry `i`'s are `arena[arenaStart[i], arenaStart[i + 1] or arenaEnd)` (allocated with the first raw entry). */
  private arena: RawArena | null = null
  private arenaStart: Uint32Array | null = null
  private arenaEnd = 0

  constructor(from?: EventStore, length?: number) {
    if (from !== undefined) {
      const n = length ?? from.count
      this.types = from.types.slice(0, Math.max(16, n))
      const runs = from.runIndex.filter((i) => i < n).length
      this.runIndex = from.runIndex.slice(0, runs)
      this.runLine = from.runLine.slice(0, runs)
      // the arena is shared (append-only): a copy starts its own before appending raw bytes
      this.arena = from.arena === null ? null : { ...from.arena, shared: true }
      this.arenaStart = from.arenaStart === null ? null : from.arenaStart.slice(0, Math.max(16, n))
      this.arenaEnd = n < from.count && from.arenaStart !== null ? from.arenaStart[n]! : from.arenaEnd
      this.args = from.args.slice(0, n)
      this.count = n
      this.typeNames = [...from.typeNames]
      this.typeCodes = new Map(from.typeCodes)
      this.intern = new Map(from.intern)
    } else {
      this.types = new Uint16Array(16)
      this.args = []
      this.typeNames = []
      this.typeCodes = new Map()
      this.intern = new Map()
    }
  }

  get length(): number {
    return this.count
  }

  /** The stored text of an event's arguments; throws `TypeError` if the event is not JSON data. */
  static encode(event: ModelEvent): string {
    const { type: _type, ...rest } = event
    try {
      return JSON.stringify(rest)
    } catch (e) {
      throw new TypeError(`event ${event.type} is not JSON data: ${(e as Error).message}`)
    }
  }

  /** Appends an event (`text`: its `encode`d arguments, when the caller has them already). */
  push(event: ModelEvent, text: string = EventStore.encode(event)): void {
    this.grow()
    this.set(this.count, event.type, text)
    this.count++
  }

  /**
   * Appends a plain event line of a trace, unparsed (deferred validation; see the module doc):
   * `type` is the text between `{"type":"` and the next quote (no escapes), `bytes[start, end)` the
   * line after the following comma (`…}`, UTF-8), `line` its line number.
   */
  pushRaw(type: string, bytes: Buffer, start: number, end: number, line: number): void {
    this.grow()
    const last = this.runIndex.length - 1
    if (last < 0 || this.runLine[last]! + (this.count - this.runIndex[last]!) !== line) {
      this.runIndex.push(this.count)
      this.runLine.push(line)
    }
    const n = end - start
    if (this.arena === null || this.arena.shared || this.arenaEnd + n > this.arena.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(1 << 16, 2 * (this.arenaEnd + n))) as RawArena['bytes']
      if (this.arena !== null) this.arena.bytes.copy(grown, 0, 0, this.arenaEnd)
      this.arena = { bytes: grown, shared: false }
    }
    if (this.arenaStart === null) this.arenaStart = new Uint32Array(this.types.length)
    const arena = this.arena.bytes
    // a short line byte by byte: Buffer#copy's argument checks cost more than the copy
    if (n < 128) for (let k = 0, o = this.arenaEnd; k < n; k++) arena[o + k] = bytes[start + k]!
    else bytes.copy(arena, this.arenaEnd, start, end)
    this.arenaStart[this.count] = this.arenaEnd
    this.arenaEnd += n
    this.set(this.count, type, '')
    this.types[this.count]! |= RAW_BIT | LINE_BIT
    this.count++
  }

  /** The trace line of entry `i` if it was appended as a raw line (`pushRaw`), decoded since or not. */
  rawLineAt(i: number): number | undefined {
    if (!(i < this.count && (this.types[i]! & LINE_BIT) !== 0)) return undefined
    let lo = 0
    let hi = this.runIndex.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.runIndex[mid]! <= i) lo = mid
      else hi = mid - 1
    }
    return this.runLine[lo]! + (i - this.runIndex[lo]!)
  }

  /** Room for entry `count` (its arena range starts empty). */
  private grow(): void {
    if (this.count === this.types.length) {
      const grown = new Uint16Array(this.types.length * 2)
      grown.set(this.types)
      this.types = grown
      if (this.arenaStart !== null) {
        const starts = new Uint32Array(grown.length)
        starts.set(this.arenaStart)
        this.arenaStart = starts
      }
    }
    if (this.arenaStart !== null) this.arenaStart[this.count] = this.arenaEnd
  }

  private set(i: number, type: string, text: string): void {
    let code = this.typeCodes.get(type)
    if (code === undefined) {
      code = this.typeNames.length
      if (code > CODE_MASK) throw new RangeError('too many event types')
      this.typeNames.push(type)
      this.typeCodes.set(type, code)
    }
    this.types[i] = code
    const shared = this.intern.get(text)
    if (shared !== undefined) text = shared
    else if (this.intern.size < INTERN_LIMIT) this.intern.set(text, text)
    this.args[i] = text
  }

  typeAt(i: number): string {
    return this.typeNames[this.types[i]! & CODE_MASK]!
  }

  /** Decodes event `i` (a fresh object; `type` first, as dispatched). Throws `TraceError` for a raw line that is not a valid event. */
  at(i: number): ModelEvent {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`no event ${i} (${this.count} recorded)`)
    if ((this.types[i]! & RAW_BIT) !== 0) return this.decodeRaw(i)
    return { type: this.typeAt(i), ...(JSON.parse(this.args[i]!) as Record<string, unknown>) }
  }

  /** Parses and validates raw entry `i` (a `TraceError` names its line) and stores it decoded. */
  private decodeRaw(i: number): ModelEvent {
    const line = this.rawLineAt(i)!
    const type = this.typeAt(i)
    const rest = this.arena!.bytes.utf8Slice(this.arenaStart![i]!, i + 1 < this.count ? this.arenaStart![i + 1]! : this.arenaEnd)
    let value: Record<string, unknown>
    try {
      value = { type, ...(JSON.parse('{' + rest) as Record<string, unknown>) }
    } catch {
      // the message of the line as written (its positions)
      try {
        JSON.parse(`{"type":"${type}",${rest}`)
      } catch (e) {
        throw new TraceError(line, '', `not valid JSON (${(e as Error).message})`)
      }
      throw new TraceError(line, '', 'not valid JSON')
    }
    const v = validateEvent(value)
    if (!v.ok) throw new TraceError(line, v.field, v.reason)
    this.set(i, v.event.type, EventStore.encode(v.event))
    this.types[i]! |= LINE_BIT
    return v.event
  }

  /** Estimated bytes of the log (see the module doc). */
  estimatedBytes(): number {
    let bytes = this.types.byteLength + 8 * this.args.length + (this.arenaStart === null ? 0 : this.arenaStart.byteLength + this.arenaEnd)
    const seen = new Set<string>()
    for (let i = 0; i < this.count; i++) {
      const t = this.args[i]!
      if (this.intern.get(t) === t) {
        if (seen.has(t)) continue
        seen.add(t)
      }
      bytes += 16 + t.length
    }
    return bytes
  }
}
