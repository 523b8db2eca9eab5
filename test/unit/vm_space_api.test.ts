/**
 * The VmSpace facade (src/api/vm_space.ts, API.md "VmSpace and VM I/O"): OSTD-like calls over the
 * events — create, cursorMut map/unmap/protectNext with the flusher, activate, user readers and
 * writers with real bytes, registration — with a clean history.
 */
import { describe, expect, it } from 'vitest'
import { PAGE_SIZE } from '../../src/arch/constants.js'
import { newUser, PageFlags } from '../../src/arch/page_prop.js'
import { createModel } from '../../src/api/model.js'
import { unwrap } from '../../src/api/result.js'

const RW = newUser(PageFlags.RW)

describe('model.vmSpaces', () => {
  it('maps, writes, reads back through another space, protects, unmaps', () => {
    const m = createModel({ check: 'incremental', physicalMemory: 1 << 23 })
    const a = m.vmSpaces.create()
    const b = m.vmSpaces.create()
    expect(m.vmSpaces.activated()).toBeNull()
    const frame = unwrap(m.frames.allocFrame())
    const copy = frame.clone()
    const ca = unwrap(a.cursorMut({ start: 0x10000, end: 0x20000 }))
    ca.map(frame, RW)
    expect(() => frame.startPaddr()).toThrow()
    expect(ca.virtAddr()).toBe(0x11000)
    ca.drop()
    const cb = unwrap(b.cursorMut({ start: 0x40000, end: 0x41000 }))
    cb.map(copy, RW)
    cb.drop()
    a.activate()
    expect(m.vmSpaces.activated()!.id).toBe(a.id)
    const w = unwrap(a.writer(0x10000, 8))
    expect(w.writeVal('u64', 0x1122334455667788n)).toEqual({ ok: true, value: undefined })
    w.drop()
    b.activate()
    const r = unwrap(b.reader(0x40000, 8))
    expect(r.readVal('u64')).toEqual({ ok: true, value: 0x1122334455667788n })
    r.drop()
    expect(a.reader(0x10000, 8)).toEqual({ ok: false, error: 'AccessDenied' })
    const cur = unwrap(b.cursorMut({ start: 0x40000, end: 0x42000 }))
    const q = unwrap(cur.query())
    expect(q[0]).toEqual({ start: 0x40000, end: 0x41000 })
    q[1]!.frame.drop()
    expect(cur.protectNext(0x2000, (p) => ({ ...p, flags: PageFlags.R }))).toEqual({ start: 0x40000, end: 0x41000 })
    cur.flusher().issueTlbFlush({ kind: 'Range', range: { start: 0x40000, end: 0x41000 } })
    cur.flusher().dispatchTlbFlush()
    unwrap(cur.jump(0x40000))
    expect(cur.unmap(0x2000)).toBe(1)
    cur.drop()
    const r2 = unwrap(b.reader(0x40000, 8))
    expect(r2.collect()).toEqual({ ok: false, error: 'PageFault' })
    r2.drop()
    expect(m.history.violations()).toEqual([])
  })

  it('registers a writer with the ghost owner and releases it', () => {
    const m = createModel({ check: 'full', physicalMemory: 1 << 23 })
    const vs = m.vmSpaces.create()
    const c = unwrap(vs.cursorMut({ start: 0x10000, end: 0x10000 + PAGE_SIZE }))
    c.map(unwrap(m.frames.allocFrame()), RW)
    c.drop()
    vs.activate()
    const w = unwrap(vs.writer(0x10000, 16))
    vs.activateWriter(w)
    expect(w.fillZeros(16)).toEqual({ ok: true, value: 16 })
    vs.deactivateWriter(w)
    w.drop()
    expect(m.history.violations()).toEqual([])
  })
})
