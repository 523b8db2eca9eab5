/**
 * Firing cases of differential replay (the model's REQ-TRACE-EXPECT-1, REQ-TRACE-CHECKPOINT-1):
 * a trace recorded from the model with its results and checkpoint hashes, then one recorded
 * value altered (bad input), replayed in full and incremental mode — the two must agree, and only
 * the trace rule fires.
 */
import type { ModelEvent } from '../../../reducers/index.js'
import type { Violation } from '../../../src/check/rule.js'
import { History } from '../../../src/log/history.js'
import { replay } from '../../../src/log/replay.js'
import type { FiringCase, FiringOutcome } from '../harness.js'

const EVENTS: ModelEvent[] = [
  { type: 'frame_alloc.alloc_frame' },
  { type: 'frame_alloc.alloc_frame' },
  { type: 'frame.clone', frame: 1 },
  { type: 'frame.drop', frame: 0 },
  { type: 'frame.into_raw', frame: 2 },
]

/** The recorded trace lines (with results and a checkpoint after every 2 events). */
function recordedLines(): string[] {
  const h = new History({ checkpointIntervalEvents: 2 })
  for (const e of EVENTS) h.dispatch(e)
  return h.toNDJSON({ expect: true, checkpoints: true }).trimEnd().split('\n')
}

/** Replays the altered trace in both modes; they must report the same violations. */
function replayBoth(lines: string[]): FiringOutcome {
  const text = lines.join('\n') + '\n'
  const full = replay(text, { check: 'full' })
  const inc = replay(text, { check: 'incremental' })
  if (full.error !== null) throw new Error(`the altered trace did not replay: ${full.error.message}`)
  if (JSON.stringify(full.violations) !== JSON.stringify(inc.violations)) {
    throw new Error(`full and incremental replays disagree:\nfull ${JSON.stringify(full.violations)}\nincremental ${JSON.stringify(inc.violations)}`)
  }
  return outcome(full.violations)
}

function outcome(violations: readonly Violation[]): FiringOutcome {
  return { rules: [...new Set(violations.map((v) => v.rule))].sort(), also: [...new Set(violations.flatMap((v) => v.also ?? []))].sort(), violations }
}

export const traceCases: readonly FiringCase[] = [
  {
    rule: 'REQ-TRACE-EXPECT-1',
    title: 'a recorded result (expect) that the model does not produce: the clone is said to have made handle 7',
    run: () => {
      const lines = recordedLines()
      const i = lines.findIndex((l) => l.includes('"frame.clone"'))
      const line = JSON.parse(lines[i]!) as Record<string, unknown>
      lines[i] = JSON.stringify({ ...line, expect: { frame: 7 } })
      return replayBoth(lines)
    },
  },
  {
    rule: 'REQ-TRACE-CHECKPOINT-1',
    title: 'a checkpoint line whose hash is not the hash of the snapshot after its event',
    run: () => {
      const lines = recordedLines()
      const i = lines.findIndex((l) => l.startsWith('{"checkpoint":4,'))
      if (i < 0) throw new Error('the recorded trace has no checkpoint after event 4')
      lines[i] = JSON.stringify({ checkpoint: 4, hash: '0123456789abcdef' })
      return replayBoth(lines)
    },
  },
]
