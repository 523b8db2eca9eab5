/**
 * Lazy loading (`loadTrace(…, { lazy: true })`, `History.append`): the events are recorded
 * without being applied, and each is applied and checked when the head first reaches it — with
 * the same snapshots, results and violations as an eager load, and a rejected event reported with
 * its line when it is reached (nothing from it on kept).
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { generateHistory } from '../../src/log/gen.js'
import { History } from '../../src/log/history.js'
import { snapshotHash } from '../../src/log/checkpoints.js'
import { loadTrace } from '../../src/log/trace_stream.js'
import { TraceError } from '../../src/log/trace.js'
import { leakyDrop } from '../../examples/faulty_variant.js'

const dir = mkdtempSync(join(tmpdir(), 'ostd-lazy-'))
const events = generateHistory({ seed: 23, ops: 300 })
const eager = new History({ validate: false, checkpointIntervalEvents: 16 })
for (const e of events) eager.dispatch(e)
const file = join(dir, 'recorded.ndjson')
writeFileSync(file, eager.toNDJSON({ expect: true, checkpoints: true }))

describe('lazy loading', () => {
  it('records without applying; seeking applies and checks up to the head, as an eager load', async () => {
    const { history: h, error } = await loadTrace(file, { lazy: true, checkpointIntervalEvents: 16 })
    expect(error).toBeNull()
    expect(h!.length).toBe(0)
    expect(h!.recordedLength).toBe(300)
    expect(h!.appliedFrontier).toBe(0)
    let furthest = 0
    for (const i of [150, 40, 299, 7, 300]) {
      expect(snapshotHash(h!.seek(i))).toBe(snapshotHash(eager.snapshotAt(i)))
      furthest = Math.max(furthest, i)
      expect(h!.appliedFrontier).toBe(furthest)
    }
    expect(h!.violations()).toEqual(eager.violations())
    expect(h!.at(123).result).toEqual(eager.at(123).result)
    expect(h!.checkpoints().map((c) => c.index)).toEqual(eager.checkpoints().map((c) => c.index))
    expect(h!.verify()).toBeNull()
    // undo / redo over the applied part
    h!.undo()
    expect(h!.length).toBe(299)
    expect(h!.redo()!.index).toBe(299)
  })

  it('redo walks into the appended events one by one, checking them (a faulty reducer is caught where an eager load catches it)', async () => {
    const faultyEager = new History({ validate: false, variants: [leakyDrop] })
    let n = 0
    try {
      for (const e of events) {
        faultyEager.dispatch(e)
        n++
      }
    } catch {
      // the leak makes a later event invalid
    }
    const short = join(dir, 'short.ndjson')
    writeFileSync(short, faultyEager.toNDJSON())
    const { history: h } = await loadTrace(short, { lazy: true, variants: [leakyDrop] })
    for (let i = 0; i < n; i++) h!.redo()
    expect(h!.length).toBe(n)
    expect(h!.violations()).toEqual(faultyEager.violations())
    expect(h!.violations().length).toBeGreaterThan(0)
  })

  it('a rejected event is reported with its line when reached; the events before it stay', async () => {
    const lines = eager.toNDJSON().trimEnd().split('\n')
    lines.splice(51, 0, '{"type":"frame.drop","frame":99999}') // event 50, line 52
    const bad = join(dir, 'bad.ndjson')
    writeFileSync(bad, lines.join('\n') + '\n')
    const { history: h, error } = await loadTrace(bad, { lazy: true })
    expect(error).toBeNull()
    expect(h!.recordedLength).toBe(301)
    expect(snapshotHash(h!.seek(20))).toBe(snapshotHash(eager.snapshotAt(20)))
    let caught: unknown = null
    try {
      h!.seek(200)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(TraceError)
    expect((caught as TraceError).line).toBe(52)
    expect((caught as TraceError).rule).toMatch(/^REQ-/)
    expect(h!.recordedLength).toBe(50)
    expect(h!.length).toBe(50)
    expect(snapshotHash(h!.state)).toBe(snapshotHash(eager.snapshotAt(50)))
  })

  it('a malformed line is still refused at load, naming it', async () => {
    const lines = eager.toNDJSON().trimEnd().split('\n')
    lines.splice(10, 0, '{"type":"frame.clone","frame":-1}')
    const bad = join(dir, 'malformed.ndjson')
    writeFileSync(bad, lines.join('\n') + '\n')
    const { history: h, error } = await loadTrace(bad, { lazy: true })
    expect(error?.line).toBe(11)
    expect(h!.recordedLength).toBe(9)
  })

  describe('with deferred validation', () => {
    const plain = join(dir, 'plain.ndjson')
    writeFileSync(plain, eager.toNDJSON({ checkpoints: true }).replace(/\n/g, '\r\n'))

    it('frames plain event lines without parsing them; applied, they give the eager snapshots, violations and checkpoint checks', async () => {
      const { history: h, error } = await loadTrace(plain, { lazy: true, deferValidation: true, checkpointIntervalEvents: 16 })
      expect(error).toBeNull()
      expect(h!.recordedLength).toBe(300)
      expect(h!.appliedFrontier).toBe(0)
      for (const i of [150, 40, 300]) expect(snapshotHash(h!.seek(i))).toBe(snapshotHash(eager.snapshotAt(i)))
      expect(h!.violations()).toEqual(eager.violations())
      expect(h!.events()).toEqual(eager.events())
      expect(h!.toNDJSON({ checkpoints: true })).toBe(eager.toNDJSON({ checkpoints: true }))
      // every event keeps its line (checkpoint lines between them: runs of consecutive lines)
      const strict = (await loadTrace(plain, { lazy: true })).history!
      const linesOf = (x: typeof h): Array<number | undefined> => Array.from({ length: 300 }, (_, i) => x!.recordedAt(i)?.line)
      expect(linesOf(h)).toEqual(linesOf(strict))
      expect(new Set(linesOf(h)).size).toBe(300)
    })

    it('lines with recorded results are still validated at load and compared when applied', async () => {
      const { history: h, error } = await loadTrace(file, { lazy: true, deferValidation: true })
      expect(error).toBeNull()
      h!.seek(300)
      expect(h!.violations()).toEqual(eager.violations())
      expect(h!.at(123).result).toEqual(eager.at(123).result)
    })

    it('a malformed line is reported with its line and field when reached; nothing from it on is kept', async () => {
      const lines = eager.toNDJSON().trimEnd().split('\n')
      lines.splice(10, 0, '{"type":"frame.clone","frame":-1}') // event 9, line 11
      const bad = join(dir, 'deferred-malformed.ndjson')
      writeFileSync(bad, lines.join('\n') + '\n')
      const { history: h, error } = await loadTrace(bad, { lazy: true, deferValidation: true })
      expect(error).toBeNull()
      expect(h!.recordedLength).toBe(301)
      expect(snapshotHash(h!.seek(9))).toBe(snapshotHash(eager.snapshotAt(9)))
      let caught: unknown = null
      try {
        h!.seek(100)
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(TraceError)
      expect((caught as TraceError).line).toBe(11)
      expect((caught as TraceError).field).toBe('frame')
      expect(h!.recordedLength).toBe(9)
      expect(h!.length).toBe(9)
      expect(snapshotHash(h!.state)).toBe(snapshotHash(eager.snapshotAt(9)))
    })

    it('an unknown type, bad JSON and a rejected event each name their line when reached', async () => {
      for (const [text, field, rule] of [
        ['{"type":"frame.teleport","frame":0}', 'type', undefined],
        ['{"type":"frame.clone","frame":0', '', undefined],
        ['{"type":"frame.drop","frame":99999}', '', /^REQ-/],
      ] as const) {
        const lines = eager.toNDJSON().trimEnd().split('\n')
        lines.splice(31, 0, text) // event 30, line 32
        const bad = join(dir, 'deferred-bad.ndjson')
        writeFileSync(bad, lines.join('\n'))
        const { history: h, error } = await loadTrace(bad, { lazy: true, deferValidation: true })
        expect(error).toBeNull()
        let caught: unknown = null
        try {
          h!.seek(h!.recordedLength)
        } catch (e) {
          caught = e
        }
        expect(caught).toBeInstanceOf(TraceError)
        expect((caught as TraceError).line).toBe(32)
        expect((caught as TraceError).field).toBe(field)
        if (rule !== undefined) expect((caught as TraceError).rule).toMatch(rule)
        expect(h!.recordedLength).toBe(30)
        expect(snapshotHash(h!.state)).toBe(snapshotHash(eager.snapshotAt(30)))
      }
    })

    it('lines it cannot frame are parsed at load as without deferral: a v1 trace, an escaped type, a result key inside a value', async () => {
      const v1 = await loadTrace('test/log/fixtures/v1_default.ndjson', { lazy: true, deferValidation: true })
      const v1Plain = await loadTrace('test/log/fixtures/v1_default.ndjson', { lazy: true })
      expect(v1.error).toBeNull()
      v1.history!.seek(v1.history!.recordedLength)
      v1Plain.history!.seek(v1Plain.history!.recordedLength)
      expect(v1.history!.events()).toEqual(v1Plain.history!.events())
      const lines = [
        '{"format":"ostd-model-trace","version":2,"config":{}}',
        '{"type":"frame_alloc.alloc_frame"}',
        '{"type":"frame\\u002eclone","frame":0}',
        '{"type":"frame.write_bytes","frame":0,"offset":0,"bytes":"ImV4cGVjdCI="}',
        '{"type":"frame_alloc.alloc_frame","meta":{"type":"T","untyped":false,"value":{"expect":1}}}',
      ]
      const odd = join(dir, 'odd.ndjson')
      writeFileSync(odd, lines.join('\n'))
      const strict = await loadTrace(odd, { lazy: true })
      const { history: h, error } = await loadTrace(odd, { lazy: true, deferValidation: true })
      expect(strict.error).toBeNull()
      expect(error).toBeNull()
      expect(h!.recordedLength).toBe(4)
      h!.seek(4)
      strict.history!.seek(4)
      // the escaped type is frame.clone; the nested "expect" is metadata, not a recorded result
      expect(h!.events().map((e) => e.type)).toEqual(['frame_alloc.alloc_frame', 'frame.clone', 'frame.write_bytes', 'frame_alloc.alloc_frame'])
      expect(h!.events()).toEqual(strict.history!.events())
      expect(h!.recordedAt(3)).toEqual(strict.history!.recordedAt(3))
    })
  })
})
