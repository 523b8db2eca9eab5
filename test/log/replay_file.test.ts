/**
 * `replayFile` (what `ostd-model replay` runs): a trace file streamed twice — validated, then
 * replayed line by line — gives the report `replay` gives for the same text.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { replay, replayFile, surveyTrace } from '../../src/log/replay.js'
import { leakyDrop } from '../../examples/faulty_variant.js'

const DEFAULT = 'examples/traces/default.ndjson'
const dir = mkdtempSync(join(tmpdir(), 'ostd-replay-file-'))

function file(name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

const summary = (r: Awaited<ReturnType<typeof replayFile>>) => ({ total: r.total, applied: r.applied, violations: r.violations, error: r.error, eventCounts: r.eventCounts, hash: r.history.snapshotAt(r.applied) === r.finalState })

describe('replayFile', () => {
  it('replays the bundled trace as replay(text) does, to the same final snapshot', async () => {
    const text = readFileSync(DEFAULT, 'utf8')
    const streamed = await replayFile(DEFAULT)
    const whole = replay(text)
    expect(summary(streamed)).toEqual(summary(whole))
    expect(streamed.applied).toBeGreaterThan(10)
    expect(streamed.history.events()).toEqual(whole.history.events())
    expect(JSON.stringify(streamed.history.toNDJSON({ expect: true, checkpoints: true }))).toBe(JSON.stringify(whole.history.toNDJSON({ expect: true, checkpoints: true })))
  })

  it('applies nothing from a trace with a bad line, and names it', async () => {
    const lines = readFileSync(DEFAULT, 'utf8').trimEnd().split('\n')
    lines.splice(5, 0, '{"type":"frame.clone","frame":"x"}')
    const r = await replayFile(file('bad.ndjson', lines.join('\n') + '\n'))
    expect(r.applied).toBe(0)
    expect(r.error).toMatchObject({ kind: 'invalid', line: 6, field: 'frame' })
  })

  it('checks recorded results and checkpoint hashes line by line, stops at the first violation, and honours --until', async () => {
    const recorded = replay(readFileSync(DEFAULT, 'utf8')).history.toNDJSON({ expect: true, checkpoints: true })
    const p = file('recorded.ndjson', recorded)
    expect((await surveyTrace(p)).firstWithoutExpect).toBeNull()
    expect((await replayFile(p)).violations).toEqual([])
    // a changed reducer: the recorded hashes no longer match, and a rule breaks
    const faulty = await replayFile(p, { variants: [leakyDrop], stopAtFirstViolation: true })
    expect(faulty.violations.length).toBeGreaterThan(0)
    expect(faulty.applied).toBe(faulty.violations[0]!.step + 1)
    const until = await replayFile(p, { until: 3 })
    expect(until.applied).toBe(3)
    expect(until.total).toBeGreaterThan(3)
  })

  it('reports an event the model rejects with its line, after applying the ones before', async () => {
    const lines = readFileSync(DEFAULT, 'utf8').trimEnd().split('\n')
    lines.splice(3, 0, '{"type":"frame.drop","frame":999}')
    const r = await replayFile(file('rejected.ndjson', lines.join('\n') + '\n'))
    expect(r.applied).toBe(2)
    expect(r.error).toMatchObject({ kind: 'rejected', line: 4, index: 2 })
    expect(r.error!.rule).toMatch(/^REQ-/)
  })
})
