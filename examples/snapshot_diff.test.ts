/**
 * Writing tests of the form "this operation changes exactly this" with `ostd-model/testing`
 * (the file runs with the test suite: `npx vitest run examples/snapshot_diff.test.ts`).
 *
 * `toChangeExactly` compares a step's semantic diff with what the test names: every category it
 * names must match one-to-one, and `others: 'unchanged'` makes every other category empty.
 * `toSatisfySpec` says a whole history broke no rule (else it lists the first violations with
 * their diffs). The serializer renders diffs in vitest snapshots.
 */
import { describe, expect, it } from 'vitest'
import { createModel, PageFlags, PageProperty, unwrap } from '../src/index.js'
import { diff, diffSerializer, setupOstdTesting } from '../src/testing/index.js'

setupOstdTesting() // usually in a vitest setupFiles module: installs the matchers
expect.addSnapshotSerializer(diffSerializer)

describe('snapshot-diff tests', () => {
  it('CursorMut::map of an untracked page adds exactly one mapping: one PTE, one owner record, the cursor moves', () => {
    const model = createModel({ physicalMemory: 1 << 22 })
    const pt = model.pageTables.create('untracked')
    const cursor = unwrap(pt.cursorMut({ start: 0, end: 0x20_0000 }))
    cursor.map({ pa: 0x40_0000, level: 1, prop: PageProperty.newUser(PageFlags.RW) })
    const step = model.history.at(model.history.length - 1)
    expect(step).toChangeExactly({
      mappingsAdded: [{ va: 0, pageSize: 0x1000, pa: 0x40_0000 }],
      ptesWritten: [{ idx: 0, level: 1 }],
      treeRecords: [{ level: 1 }], // the level-1 node's record: its entry 0 and its nr_children
      cursors: [{ change: 'moved', va: 0x1000 }],
      others: 'unchanged',
    })
    cursor.drop()
    expect(model.history).toSatisfySpec()
  })

  it('Frame::clone takes one reference and one handle — rendered in an inline snapshot', () => {
    const model = createModel({ physicalMemory: 1 << 22 })
    const frame = unwrap(model.frames.allocFrame())
    frame.clone()
    const step = model.history.at(model.history.length - 1)
    expect(step).toChangeExactly({ refCounts: [{ paddr: frame.startPaddr(), before: 1, after: 2 }], others: 'ignored' })
    expect(diff(step.before, step.after, { structural: false })).toMatchInlineSnapshot(`
      ref counts (1):
        0x0: 1 → 2
      slot owners (1):
        0x0: obligations 1 → 2
      handles (1):
        + frames#1 { paddr: 0x0 }
    `)
  })
})
