/**
 * The trace format: version 2 with recorded results and checkpoint lines, v1 through the
 * upcaster, a future version refused, bad input naming its line (nothing applied from it on),
 * streaming read and write.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable, Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { ModelEvent } from '../../reducers/index.js'
import { History } from '../../src/log/history.js'
import { replay } from '../../src/log/replay.js'
import { parseTrace, TRACE_VERSION, TraceError } from '../../src/log/trace.js'
import { loadTrace, readTrace, writeTrace, writeTraceFile } from '../../src/log/trace_stream.js'
import { generateHistory } from '../../src/log/gen.js'

const V2 = `{"format":"ostd-model-trace","version":${TRACE_VERSION},"config":{}}`
const ALLOC = '{"type":"frame_alloc.alloc_frame"}'

function lines(...ls: string[]): string {
  return ls.join('\n') + '\n'
}

function readable(text: string): Readable {
  return Readable.from([text])
}

/** The error `History.fromNDJSON` throws. */
function fromNDJSONError(text: string): TraceError {
  try {
    History.fromNDJSON(text)
  } catch (e) {
    expect(e).toBeInstanceOf(TraceError)
    return e as TraceError
  }
  throw new Error('expected a TraceError')
}

describe('versions', () => {
  it('reads a v1 trace (the bundled example as it was recorded in v1) through the upcaster, and it replays clean', () => {
    const text = readFileSync('test/log/fixtures/v1_default.ndjson', 'utf8')
    expect(JSON.parse(text.slice(0, text.indexOf('\n'))).version).toBe(1)
    const t = parseTrace(text)
    expect(t.header.version).toBe(TRACE_VERSION)
    expect(t.events.length).toBeGreaterThan(10)
    const h = History.fromNDJSON(text)
    expect(h.violations()).toEqual([])
    // exported again it is a v2 trace that reads back to the same events
    const again = History.fromNDJSON(h.toNDJSON())
    expect(again.events()).toEqual(h.events())
    // the bundled example, re-recorded in v2, is the same history
    expect(parseTrace(readFileSync('examples/traces/default.ndjson', 'utf8')).events).toEqual(t.events)
  })

  it('in a v1 trace, lines are events only (no checkpoint lines, no recorded results)', () => {
    const v1 = '{"format":"ostd-model-trace","version":1,"config":{}}'
    expect(() => parseTrace(lines(v1, ALLOC, '{"checkpoint":1,"hash":"0123456789abcdef"}'))).toThrow(/line 3, field type: missing event type/)
    expect(() => parseTrace(lines(v1, ALLOC, '{"type":"frame.drop","frame":0,"expect":null}'))).toThrow(/line 3, field expect: unknown field/)
  })

  it('refuses a future version with a clear message naming line 1', () => {
    const e = fromNDJSONError(lines(`{"format":"ostd-model-trace","version":${TRACE_VERSION + 1},"config":{}}`, ALLOC))
    expect(e.line).toBe(1)
    expect(e.field).toBe('version')
    expect(e.message).toMatch(/newer than this ostd-model reads/)
  })
})

describe('bad input names the line; nothing is applied from it on', () => {
  const good = [ALLOC, '{"type":"frame.clone","frame":0}']

  it.each([
    ['truncated line', '{"type":"frame.drop","fra', 4, '', /not valid JSON/],
    ['wrong type', '{"type":"frame.drop","frame":"0"}', 4, 'frame', /number/],
    ['unknown event type', '{"type":"frame.teleport","frame":0}', 4, 'type', /unknown event type "frame.teleport"/],
    ['not an object', '[1,2]', 4, '', /JSON object/],
    ['misspelt argument', '{"type":"frame_alloc.alloc_frame","zeroe":false}', 4, 'zeroe', /unknown field "zeroe"/],
    ['unknown nested field', '{"type":"frame_alloc.alloc_frame","meta":{"type":"T","untyped":true,"value":null,"extra":1}}', 4, 'meta.extra', /unknown field "meta.extra"/],
    ['bad checkpoint line', '{"checkpoint":2,"hash":"xyz"}', 4, 'hash', /16-digit hex/],
    ['misplaced checkpoint', '{"checkpoint":1,"hash":"0123456789abcdef"}', 4, 'checkpoint', /directly follow/],
  ])('%s', async (_name, bad, line, field, reason) => {
    const text = lines(V2, ...good, bad, ALLOC)
    // whole text: nothing applied at all
    const e = fromNDJSONError(text)
    expect([e.line, e.field]).toEqual([line, field])
    expect(e.reason).toMatch(reason)
    const r = replay(text)
    expect(r.error).toMatchObject({ kind: 'invalid', line, field })
    expect(r.applied).toBe(0)
    // streaming: the events before the bad line are applied, nothing from it on
    const loaded = await loadTrace(readable(text))
    expect(loaded.error).toBeInstanceOf(TraceError)
    expect([loaded.error!.line, loaded.error!.field]).toEqual([line, field])
    expect(loaded.history!.events().map((x) => x.type)).toEqual(['frame_alloc.alloc_frame', 'frame.clone'])
  })

  it('an id that was never created: the event is rejected at its line, with its rule', async () => {
    const text = lines(V2, ...good, '{"type":"frame.drop","frame":9}', ALLOC)
    const e = fromNDJSONError(text)
    expect(e.line).toBe(4)
    expect(e.rule).toBe('REQ-EMB-FRAMEDROP-1')
    expect(replay(text).error).toMatchObject({ kind: 'rejected', line: 4, index: 2, rule: 'REQ-EMB-FRAMEDROP-1' })
    const loaded = await loadTrace(readable(text))
    expect(loaded.error).toMatchObject({ line: 4, rule: 'REQ-EMB-FRAMEDROP-1' })
    expect(loaded.history!.length).toBe(2)
  })

  it('a bad header: no history at all', async () => {
    const loaded = await loadTrace(readable(lines('{"format":"ostd-model-trace","version":2,"config":{"physicalMemory":-1}}', ALLOC)))
    expect(loaded.history).toBeNull()
    expect(loaded.error).toMatchObject({ line: 1, field: 'config.physicalMemory' })
  })
})

describe('differential replay', () => {
  function recorded(): History {
    const h = new History({ physicalMemory: 1 << 22 })
    for (const e of generateHistory({ seed: 3, ops: 120, physicalMemory: 1 << 22 })) h.dispatch(e)
    return h
  }

  it('a trace with recorded results and checkpoint hashes replays clean', () => {
    const h = recorded()
    const text = h.toNDJSON({ expect: true, checkpoints: true })
    expect(text).toMatch(/"expect":/)
    expect(text).toMatch(/"checkpoint":32,"hash":"[0-9a-f]{16}"/)
    const r = replay(text)
    expect(r.error).toBeNull()
    expect(r.violations).toEqual([])
    expect(History.fromNDJSON(text).violations()).toEqual([])
  })

  it('a result that differs from the recording is reported as REQ-TRACE-EXPECT-1 on its step', () => {
    const text = lines(V2, ALLOC, '{"type":"frame.clone","frame":0,"expect":{"frame":7}}')
    const r = replay(text)
    expect(r.error).toBeNull()
    expect(r.violations).toMatchObject([{ rule: 'REQ-TRACE-EXPECT-1', step: 1, event: 'frame.clone', expected: { frame: 7 }, path: 'trace line 3: expect' }])
  })

  it('a snapshot that differs from a checkpoint line is reported as REQ-TRACE-CHECKPOINT-1; a wrong genesis is bad input', async () => {
    const text = lines(V2, ALLOC, '{"checkpoint":1,"hash":"0123456789abcdef"}', ALLOC)
    expect(replay(text).violations).toMatchObject([{ rule: 'REQ-TRACE-CHECKPOINT-1', step: 0 }])
    const loaded = await loadTrace(readable(text))
    expect(loaded.history!.violations()).toMatchObject([{ rule: 'REQ-TRACE-CHECKPOINT-1', step: 0 }])
    const wrongGenesis = lines(V2, '{"checkpoint":0,"hash":"0123456789abcdef"}', ALLOC)
    expect(replay(wrongGenesis).error).toMatchObject({ kind: 'invalid', line: 2, field: 'hash' })
  })
})

describe('streaming', () => {
  it('reads items line by line and writes with back-pressure; a written trace loads back to the same events', async () => {
    const events: ModelEvent[] = generateHistory({ seed: 11, ops: 400 })
    const h = new History({ check: 'off' })
    for (const e of events) h.dispatch(e)
    // a small high-water mark forces waits for 'drain'
    const chunks: string[] = []
    let drains = 0
    const sink = new Writable({
      highWaterMark: 256,
      write(chunk, _enc, cb) {
        chunks.push(String(chunk))
        setImmediate(cb)
      },
    })
    sink.on('drain', () => drains++)
    await writeTrace(h, sink, { checkpoints: true })
    await new Promise<void>((resolve) => sink.end(resolve))
    expect(drains).toBeGreaterThan(0)
    const text = chunks.join('')
    expect(text).toBe(h.toNDJSON({ checkpoints: true }))

    const kinds: string[] = []
    const pass = new PassThrough()
    pass.end(text)
    for await (const item of readTrace(pass)) kinds.push(item.kind)
    expect(kinds[0]).toBe('header')
    expect(kinds.filter((k) => k === 'event').length).toBe(events.length)
    expect(kinds.filter((k) => k === 'checkpoint').length).toBe(h.checkpoints().length)

    const loaded = await loadTrace(readable(text), { check: 'off' })
    expect(loaded.error).toBeNull()
    expect(loaded.history!.events()).toEqual(h.events())
    const until = await loadTrace(readable(text), { check: 'off', until: 10 })
    expect(until.history!.length).toBe(10)

    // to a file and back
    const path = join(mkdtempSync(join(tmpdir(), 'ostd-trace-')), 't.ndjson')
    await writeTraceFile(h, path, { expect: true })
    const fromFile = await loadTrace(path)
    expect(fromFile.error).toBeNull()
    expect(fromFile.history!.violations()).toEqual([])
    expect(fromFile.history!.length).toBe(events.length)
  })
})

describe('header configuration', () => {
  it('a configuration the model refuses is a bad line 1 naming the field (not a RangeError)', () => {
    for (const [config, field] of [
      [{ physicalMemory: 4097 }, 'physicalMemory'],
      [{ physicalMemory: 2 ** 40 }, 'physicalMemory'],
      [{ mmioRanges: [[0x2000, 0x1000]] }, 'mmioRanges'],
    ] as const) {
      const text = `${JSON.stringify({ format: 'ostd-model-trace', version: 2, config })}\n{"type":"frame_alloc.alloc_frame","zeroed":true,"meta":{"type":"()","untyped":true,"value":null}}\n`
      let err: unknown = null
      try {
        parseTrace(text)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(TraceError)
      expect((err as TraceError).line).toBe(1)
      expect((err as TraceError).field).toContain(field)
    }
  })
})
