/**
 * The compact event log of one branch of a history: a history keeps its events, not its
 * snapshots (those are re-derived from checkpoints, checkpoints.ts).
 *
 * Layout: per event a type code (`Uint16Array`, codes interned per store) and the JSON text of
 * its arguments without `type` (a one-byte string: 16 B + its length in V8), interned while the
 * intern table is small so that repeated argument lists (`{"frame":0}`, default metadata) share
 * one string. A typical event costs 8 B (slot) + 2 B (type) + ~24–40 B (text) ≤ 64 B. Sparse
 * per-event data (recorded results for differential replay, violations) lives in maps.
 */
import type { ModelEvent } from '../../reducers/index.js'

const INTERN_LIMIT = 1 << 16

export class EventStore {
  private types: Uint16Array
  private args: string[]
  private count = 0
  private readonly typeNames: string[]
  private readonly typeCodes: Map<string, number>
  private readonly intern: Map<string, string>

  constructor(from?: EventStore, length?: number) {
    if (from !== undefined) {
      const n = length ?? from.count
      this.types = from.types.slice(0, Math.max(16, n))
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
    let code = this.typeCodes.get(event.type)
    if (code === undefined) {
      code = this.typeNames.length
      if (code > 0xffff) throw new RangeError('too many event types')
      this.typeNames.push(event.type)
      this.typeCodes.set(event.type, code)
    }
    if (this.count === this.types.length) {
      const grown = new Uint16Array(this.types.length * 2)
      grown.set(this.types)
      this.types = grown
    }
    this.types[this.count] = code
    const shared = this.intern.get(text)
    if (shared !== undefined) text = shared
    else if (this.intern.size < INTERN_LIMIT) this.intern.set(text, text)
    this.args[this.count] = text
    this.count++
  }

  typeAt(i: number): string {
    return this.typeNames[this.types[i]!]!
  }

  /** Decodes event `i` (a fresh object; `type` first, as dispatched). */
  at(i: number): ModelEvent {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`no event ${i} (${this.count} recorded)`)
    return { type: this.typeAt(i), ...(JSON.parse(this.args[i]!) as Record<string, unknown>) }
  }

  /** Estimated bytes of the log (see the module doc). */
  estimatedBytes(): number {
    let bytes = this.types.byteLength + 8 * this.args.length
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
