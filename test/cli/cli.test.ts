import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EXIT_BAD_INPUT, EXIT_CLEAN, EXIT_VIOLATIONS, run } from '../../src/cli/main.js'
import { SPEC_IDS } from '../../src/check/spec_ids.js'

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await run(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false })
  return { code, out, err }
}

const dir = mkdtempSync(join(tmpdir(), 'ostd-model-cli-'))
function trace(name: string, lines: string[]): string {
  const file = join(dir, name)
  writeFileSync(file, ['{"format":"ostd-model-trace","version":1,"config":{"physicalMemory":4194304}}', ...lines].join('\n') + '\n')
  return file
}

describe('ostd-model replay', () => {
  it('replays the bundled example cleanly (exit 0) in every check mode', async () => {
    for (const check of ['full', 'incremental', 'off']) {
      const r = await cli('replay', 'examples/traces/default.ndjson', '--check', check)
      expect(r.code).toBe(EXIT_CLEAN)
      expect(r.out).toContain('violations: none')
      expect(r.out).toMatch(/summary: (\d+)\/\1 events applied, 0 violations/)
    }
  })

  it('exits 2 and names the line and field of a malformed trace', async () => {
    const file = trace('bad.ndjson', ['{"type":"frame_alloc.alloc_frame"}', '{"type":"frame.clone","frame":-3}'])
    const r = await cli('replay', file)
    expect(r.code).toBe(EXIT_BAD_INPUT)
    expect(r.out).toContain('invalid trace (line 3, field frame)')
    expect(r.out).toContain('nothing was applied')
  })

  it('exits 2 on an event whose precondition fails, naming the rule and the line', async () => {
    const file = trace('rejected.ndjson', ['{"type":"frame_alloc.alloc_frame"}', '{"type":"frame.drop","frame":0}', '{"type":"frame.drop","frame":0}'])
    const r = await cli('replay', file)
    expect(r.code).toBe(EXIT_BAD_INPUT)
    expect(r.out).toContain('event rejected (line 4, event 2): REQ-EMB-FRAMEDROP-1')
    expect(r.out).toContain('2/3 events applied')
  })

  it('exits 1 when the replay finds violations, and reports the first one', async () => {
    // Dropping the metadata of a frame that a handle still holds breaks the accounting.
    const file = trace('violating.ndjson', ['{"type":"meta_slot.get_from_unused","paddr":8192,"meta":{"type":"()","untyped":true,"value":null},"asUnique":false}'])
    const r = await cli('replay', file, '--check', 'full')
    expect(r.code).toBe(EXIT_VIOLATIONS)
    expect(r.out).toContain('INV-ACCT-2')
    expect(r.out).toContain('first violation: step 0 (meta_slot.get_from_unused), rule INV-ACCT-2')
  })

  it('prints a JSON report for scripts', async () => {
    const r = await cli('replay', 'examples/traces/default.ndjson', '--json')
    const report = JSON.parse(r.out)
    expect(report.violations).toEqual([])
    expect(report.applied).toBe(report.total)
  })

  it('exits 2 when the file does not exist', async () => {
    const r = await cli('replay', join(dir, 'missing.ndjson'))
    expect(r.code).toBe(EXIT_BAD_INPUT)
    expect(r.err).toContain('cannot read')
  })

  it('rejects an unknown check mode (exit 2)', async () => {
    expect((await cli('replay', 'examples/traces/default.ndjson', '--check', 'sometimes')).code).toBe(EXIT_BAD_INPUT)
  })
})

describe('ostd-model rules', () => {
  it('lists every ID of the spec digest with its status', async () => {
    const r = await cli('rules', '--json')
    expect(r.code).toBe(EXIT_CLEAN)
    const c = JSON.parse(r.out)
    expect(c.digest.map((x: { id: string }) => x.id)).toEqual(SPEC_IDS.map((e) => e.id))
    const slot1 = c.digest.find((x: { id: string }) => x.id === 'INV-SLOT-1')
    expect(slot1).toMatchObject({ implemented: true, firing: true })
    expect(c.totals.digest).toBe(597)
    // every implemented digest rule has a firing test
    expect(c.digest.filter((x: { implemented: boolean; firing: boolean }) => x.implemented && !x.firing).map((x: { id: string }) => x.id)).toEqual([])
    // a deviation (not enforced on purpose) says why, and is not also implemented (a stale entry)
    const deviations = c.digest.filter((x: { deviation?: string }) => x.deviation !== undefined)
    expect(deviations.map((x: { id: string }) => x.id)).toContain('REQ-CURSORMUT-PROTECTNEXT-2')
    expect(deviations.filter((x: { implemented: boolean }) => x.implemented)).toEqual([])
    expect(c.totals.deviations).toBe(deviations.length)
    expect((await cli('rules', '--missing')).out).toMatch(/REQ-CURSORMUT-PROTECTNEXT-2 +deviation \(not enforced\): /)
  })
})

describe('ostd-model gen', () => {
  it('writes a deterministic trace that replays cleanly', async () => {
    const a = await cli('gen', '--seed', '3', '--ops', '50', '--physical-memory', '4194304')
    const b = await cli('gen', '--seed', '3', '--ops', '50', '--physical-memory', '4194304')
    expect(a.out).toBe(b.out)
    const file = join(dir, 'gen.ndjson')
    writeFileSync(file, a.out)
    expect((await cli('replay', file, '--check', 'full')).code).toBe(EXIT_CLEAN)
  })
})

describe('ostd-model diff / bisect / shrink / stats', () => {
  const V2 = '{"format":"ostd-model-trace","version":2,"config":{"physicalMemory":4194304}}'
  const ALLOC = '{"type":"frame_alloc.alloc_frame","zeroed":true,"meta":{"type":"()","untyped":true,"value":null}}'
  const leaky = join(dir, 'leaky.ndjson')
  writeFileSync(leaky, [V2, ALLOC, ALLOC, '{"type":"frame.clone","frame":0}', '{"type":"frame.drop","frame":2}', '{"type":"frame.drop","frame":1}', '{"type":"frame.drop","frame":0}'].join('\n') + '\n')

  it('diff prints what changed between two positions, as text or JSON; a position past the end is bad input', async () => {
    const r = await cli('diff', leaky, '0', '1')
    expect(r.code).toBe(EXIT_CLEAN)
    expect(r.out).toContain('after 0 → after 1 events (frame_alloc.alloc_frame)')
    expect(r.out).toMatch(/frames allocated/)
    const j = JSON.parse((await cli('diff', leaky, '1', '3', '--json')).out)
    expect(j.diff.semantic.refCounts.length).toBeGreaterThan(0)
    expect((await cli('diff', leaky, '0', '99')).code).toBe(EXIT_BAD_INPUT)
  })

  it('bisect --first-violation finds the first faulty step of a reducer variant (exit 1) and shows its diff; clean traces exit 0', async () => {
    expect((await cli('bisect', leaky, '--first-violation')).code).toBe(EXIT_CLEAN)
    const r = await cli('--variants', 'examples/faulty_variant.ts', 'bisect', leaky, '--first-violation')
    expect(r.code).toBe(EXIT_VIOLATIONS)
    expect(r.out).toContain('first violation in')
    expect(r.out).toContain('step 4 (line 6) frame.drop')
    expect(r.out).toContain('what the step changed:')
    // the leak persists in the state: bisecting the checkpoints finds the same step
    const p = await cli('--variants', 'examples/faulty_variant.ts', 'bisect', leaky, '--first-violation', '--persistent')
    expect(p.code).toBe(EXIT_VIOLATIONS)
    expect(p.out).toContain('step 4 (line 6) frame.drop')
    expect((await cli('--variants', 'no/such/module.ts', 'bisect', leaky, '--first-violation')).code).toBe(EXIT_BAD_INPUT)
  })

  it('bisect --where finds the first step where a predicate holds (exit 0), and says when it never does (exit 1)', async () => {
    const r = await cli('bisect', leaky, '--where', 'refcount:0x0=2')
    expect(r.code).toBe(EXIT_CLEAN)
    expect(r.out).toMatch(/first holds after step 2 \(line 4\): frame.clone/)
    expect((await cli('bisect', leaky, '--where', 'refcount:0x0=5')).code).toBe(EXIT_VIOLATIONS)
    expect((await cli('bisect', leaky, '--where', 'nonsense')).code).toBe(EXIT_BAD_INPUT)
    expect((await cli('bisect', leaky)).code).toBe(EXIT_BAD_INPUT)
  })

  it('shrink reduces a failing history to a minimal one that replays to the same rule', async () => {
    const out = join(dir, 'min.ndjson')
    const r = await cli('--variants', 'examples/faulty_variant.ts', 'shrink', leaky, '--rule', 'INV-SLOT-5', '--out', out)
    expect(r.code).toBe(EXIT_VIOLATIONS)
    const min = (await import('node:fs')).readFileSync(out, 'utf8').trim().split('\n')
    expect(min.length - 1).toBeLessThanOrEqual(2) // alloc + drop
    const again = await cli('--variants', 'examples/faulty_variant.ts', 'replay', out, '--json')
    expect(JSON.parse(again.out).violations.map((v: { rule: string }) => v.rule)).toContain('INV-SLOT-5')
    expect((await cli('shrink', leaky)).out).toContain('no violation to shrink')
  })

  it('stats counts events by type and describes the final state', async () => {
    const j = JSON.parse((await cli('stats', leaky, '--json')).out)
    expect(j.events).toBe(6)
    expect(j.eventTypes).toEqual({ 'frame.drop': 3, 'frame_alloc.alloc_frame': 2, 'frame.clone': 1 })
    expect(j.finalState.frameHandles).toBe(0)
  })

  it('replay --record writes a trace with results; --expect requires them; a changed result is a violation', async () => {
    const rec = join(dir, 'rec.ndjson')
    expect((await cli('replay', leaky, '--record', rec)).code).toBe(EXIT_CLEAN)
    expect((await cli('replay', rec, '--expect')).code).toBe(EXIT_CLEAN)
    expect((await cli('replay', leaky, '--expect')).code).toBe(EXIT_BAD_INPUT)
    const text = (await import('node:fs')).readFileSync(rec, 'utf8').replace('"expect":{"frame":2}', '"expect":{"frame":7}')
    const bad = join(dir, 'rec_bad.ndjson')
    writeFileSync(bad, text)
    const r = await cli('replay', bad)
    expect(r.code).toBe(EXIT_VIOLATIONS)
    expect(r.out).toContain('REQ-TRACE-EXPECT-1')
  })
})

describe('ostd-model check (worker threads)', () => {
  it('checks the bundled trace on two workers: clean, and with a variant the same violations as replay', async () => {
    const clean = await cli('check', 'examples/traces/default.ndjson', '--jobs', '2', '--check', 'full')
    expect(clean.code).toBe(EXIT_CLEAN)
    expect(clean.out).toContain('2 workers')
    expect(clean.out).toContain('0 violations')
    const par = JSON.parse((await cli('--variants', 'examples/faulty_variant.ts', 'check', 'examples/traces/default.ndjson', '--jobs', '2', '--json')).out) as { violations: unknown[]; segments: unknown[] }
    const seq = JSON.parse((await cli('--variants', 'examples/faulty_variant.ts', 'replay', 'examples/traces/default.ndjson', '--json')).out) as { violations: unknown[] }
    expect(par.segments).toHaveLength(2)
    expect(par.violations.length).toBeGreaterThan(0)
    expect(par.violations).toEqual(seq.violations)
  })

  it('refuses a bad trace with its line (exit 2)', async () => {
    const r = await cli('check', trace('check_bad.ndjson', ['{"type":"frame.clone","frame":"x"}']), '--jobs', '2')
    expect(r.code).toBe(EXIT_BAD_INPUT)
    expect(r.err).toContain('line 2, field frame')
  })
})
