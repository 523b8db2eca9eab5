/**
 * The benchmark's VmSpace workload (test/bench/vm_workload.ts, issue #7 workload (3)): every
 * generated event is valid (the model replays them checked, with no violation), every kind of
 * operation occurs, and the mutable baseline does the same work — the cross-check passes, and
 * fails when the baseline's memory or mappings differ. The flatness variant (test/bench/vm_flat.ts)
 * puts its extra pages in the space's views and keeps the operations after them valid.
 */
import { describe, expect, it } from 'vitest'
import { runModel } from '../bench/workloads.js'
import { MutableVmSpace, runVmBaseline, vmCrossCheck, vmStart, vmWorkloadEvents, VM_WINDOW } from '../bench/vm_workload.js'
import { apply } from '../bench/flat.js'
import { runVmFlat, vmFlatEvents } from '../bench/vm_flat.js'
import { tableGet } from '../../src/model/table.js'
import type { MemView } from '../../src/model/vm_space.js'

/** The first page of the window the baseline maps, and its physical address there. */
function firstMapped(space: MutableVmSpace): { va: number; pa: number } {
  for (let va = VM_WINDOW.start; va < VM_WINDOW.end; va += 4096) {
    const leaf = space.table.walk(va)
    if (leaf !== null) return { va, pa: leaf.pa }
  }
  throw new Error('nothing mapped')
}

describe('the VmSpace workload and its mutable baseline', () => {
  it('valid events of every kind; model and baseline agree; a corrupted baseline is caught', () => {
    const events = vmWorkloadEvents(250, 7)
    const types = new Map<string, number>()
    for (const e of events) types.set(e.type, (types.get(e.type) ?? 0) + 1)
    expect([...types.keys()].sort()).toEqual([
      'cursor.jump',
      'cursor.query',
      'frame.drop',
      'frame_alloc.alloc_frame',
      'vm_cursor_mut.dispatch_tlb_flush',
      'vm_cursor_mut.issue_tlb_flush',
      'vm_cursor_mut.map',
      'vm_cursor_mut.protect_next',
      'vm_cursor_mut.unmap',
      'vm_reader.collect',
      'vm_reader.drop',
      'vm_reader.read_val',
      'vm_space.activate',
      'vm_space.cursor_mut',
      'vm_space.new',
      'vm_space.reader',
      'vm_space.writer',
      'vm_writer.drop',
      'vm_writer.write_val',
    ])
    const model = runModel(events, 'incremental', vmStart())
    expect(model.violations).toBe(0)
    // the mix meets faults and successes on both sides of the I/O
    const results = (type: string): unknown[] => events.flatMap((e, i) => (e.type === type ? [model.results[i]] : []))
    for (const type of ['vm_writer.write_val', 'vm_reader.read_val']) {
      expect(results(type)).toContainEqual({ ok: false, error: 'PageFault' })
      expect(results(type).some((r) => (r as { ok: boolean }).ok)).toBe(true)
    }
    expect(results('vm_cursor_mut.unmap').some((n) => (n as number) > 0)).toBe(true)
    // readers meet what writers wrote
    expect(results('vm_reader.read_val').some((r) => (r as { ok: boolean; value?: unknown }).ok && Number((r as { value: unknown }).value) !== 0)).toBe(true)

    const baseline = runVmBaseline(events)
    expect(() => vmCrossCheck(events, model, baseline)).not.toThrow()
    // one byte of a mapped frame flipped in the baseline's memory
    const { va, pa } = firstMapped(baseline.space)
    baseline.space.memory[pa + 5]! ^= 0xff
    expect(() => vmCrossCheck(events, model, baseline)).toThrow(/bytes differ/)
    baseline.space.memory[pa + 5]! ^= 0xff
    expect(() => vmCrossCheck(events, model, baseline)).not.toThrow()
    // one mapping moved a page on
    const leaf = baseline.space.table.walk(va)!
    baseline.space.table.va = va
    baseline.space.table.unmapNext(4096)
    baseline.space.table.map(leaf)
    expect(() => vmCrossCheck(events, model, baseline)).toThrow(/the model maps/)
  })

  it('a baseline that reads a different value is caught by its results', () => {
    const events = vmWorkloadEvents(120, 3)
    const model = runModel(events, 'incremental', vmStart())
    const baseline = runVmBaseline(events)
    const i = events.findIndex((e, k) => e.type === 'vm_reader.read_val' && (model.results[k] as { ok: boolean }).ok)
    expect(i).toBeGreaterThan(0)
    baseline.results[i] = { ok: true, value: -1 }
    expect(() => vmCrossCheck(events, model, baseline)).toThrow(new RegExp(`event ${i} `))
  })

  it('vmflat: the filled pages sit in the space\'s views, and the operations after them are valid', () => {
    const [fill] = vmFlatEvents(40, 20, 7)
    let s = vmStart(40)
    for (const e of fill) s = apply(s, e).after
    const views = tableGet(s.vm.spaces, 0)!.owner
    const above = (v: MemView | null): number => v!.mappings.filter((m) => m.vaRange.start >= VM_WINDOW.end).length
    expect([above(views.mvRange), above(views.memView)]).toEqual([40, 40])
    const run = runVmFlat(40, 60, 7)
    expect(run.violations).toBe(0)
    expect(run.events).toBeGreaterThan(150)
  })
})
