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
})
