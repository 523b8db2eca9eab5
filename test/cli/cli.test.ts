import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EXIT_BAD_INPUT, EXIT_CLEAN, EXIT_VIOLATIONS, run } from '../../src/cli/main.js'
import { SPEC_IDS } from '../../src/check/spec_ids.js'

function cli(...argv: string[]): { code: number; out: string; err: string } {
  let out = ''
  let err = ''
  const code = run(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false })
  return { code, out, err }
}

const dir = mkdtempSync(join(tmpdir(), 'ostd-model-cli-'))
function trace(name: string, lines: string[]): string {
  const file = join(dir, name)
  writeFileSync(file, ['{"format":"ostd-model-trace","version":1,"config":{"physicalMemory":4194304}}', ...lines].join('\n') + '\n')
  return file
}

describe('ostd-model replay', () => {
  it('replays the bundled example cleanly (exit 0) in every check mode', () => {
    for (const check of ['full', 'incremental', 'off']) {
      const r = cli('replay', 'examples/traces/default.ndjson', '--check', check)
      expect(r.code).toBe(EXIT_CLEAN)
      expect(r.out).toContain('violations: none')
      expect(r.out).toMatch(/summary: (\d+)\/\1 events applied, 0 violations/)
    }
  })

  it('exits 2 and names the line and field of a malformed trace', () => {
    const file = trace('bad.ndjson', ['{"type":"frame_alloc.alloc_frame"}', '{"type":"frame.clone","frame":-3}'])
    const r = cli('replay', file)
    expect(r.code).toBe(EXIT_BAD_INPUT)
    expect(r.out).toContain('invalid trace (line 3, field frame)')
    expect(r.out).toContain('nothing was applied')
  })

  it('exits 2 on an event whose precondition fails, naming the rule and the line', () => {
    const file = trace('rejected.ndjson', ['{"type":"frame_alloc.alloc_frame"}', '{"type":"frame.drop","frame":0}', '{"type":"frame.drop","frame":0}'])
    const r = cli('replay', file)
    expect(r.code).toBe(EXIT_BAD_INPUT)
    expect(r.out).toContain('event rejected (line 4, event 2): REQ-EMB-FRAMEDROP-1')
    expect(r.out).toContain('2/3 events applied')
  })

  it('exits 1 when the replay finds violations, and reports the first one', () => {
    // Dropping the metadata of a frame that a handle still holds breaks the accounting.
    const file = trace('violating.ndjson', ['{"type":"meta_slot.get_from_unused","paddr":8192,"meta":{"type":"()","untyped":true,"value":null},"asUnique":false}'])
    const r = cli('replay', file, '--check', 'full')
    expect(r.code).toBe(EXIT_VIOLATIONS)
    expect(r.out).toContain('INV-ACCT-2')
    expect(r.out).toContain('first violation: step 0 (meta_slot.get_from_unused), rule INV-ACCT-2')
  })

  it('prints a JSON report for scripts', () => {
    const r = cli('replay', 'examples/traces/default.ndjson', '--json')
    const report = JSON.parse(r.out)
    expect(report.violations).toEqual([])
    expect(report.applied).toBe(report.total)
  })

  it('exits 2 when the file does not exist', () => {
    const r = cli('replay', join(dir, 'missing.ndjson'))
    expect(r.code).toBe(EXIT_BAD_INPUT)
    expect(r.err).toContain('cannot read')
  })

  it('rejects an unknown check mode (exit 2)', () => {
    expect(cli('replay', 'examples/traces/default.ndjson', '--check', 'sometimes').code).toBe(EXIT_BAD_INPUT)
  })
})

describe('ostd-model rules', () => {
  it('lists every ID of the spec digest with its status', () => {
    const r = cli('rules', '--json')
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
    expect(cli('rules', '--missing').out).toMatch(/REQ-CURSORMUT-PROTECTNEXT-2 +deviation \(not enforced\): /)
  })
})

describe('ostd-model gen', () => {
  it('writes a deterministic trace that replays cleanly', () => {
    const a = cli('gen', '--seed', '3', '--ops', '50', '--physical-memory', '4194304')
    const b = cli('gen', '--seed', '3', '--ops', '50', '--physical-memory', '4194304')
    expect(a.out).toBe(b.out)
    const file = join(dir, 'gen.ndjson')
    writeFileSync(file, a.out)
    expect(cli('replay', file, '--check', 'full').code).toBe(EXIT_CLEAN)
  })
})
