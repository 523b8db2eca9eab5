/** The default registry is assembled once and handed out as copies: callers may extend theirs. */
import { describe, expect, it } from 'vitest'
import { defaultRegistry } from '../../src/check/rules/index.js'
import type { InvRule } from '../../src/check/rule.js'

describe('defaultRegistry', () => {
  it('returns independent copies with the same rules', () => {
    const a = defaultRegistry()
    const b = defaultRegistry()
    expect(a).not.toBe(b)
    expect(a.all().map((r) => r.id)).toEqual(b.all().map((r) => r.id))
    expect(a.all().length).toBeGreaterThan(700)
    const extra: InvRule = { id: 'INV-TEST-COPY-1', kind: 'INV', origin: 'model', summary: 'test', scope: 'global', check: () => [] } as unknown as InvRule
    a.add(extra)
    expect(a.has('INV-TEST-COPY-1')).toBe(true)
    expect(b.has('INV-TEST-COPY-1')).toBe(false)
    expect(defaultRegistry().has('INV-TEST-COPY-1')).toBe(false)
    expect(a.invariants().length).toBe(b.invariants().length + 1)
    expect(a.reqFor('frame.drop')).toEqual(b.reqFor('frame.drop'))
    expect(a.reqFor('frame.drop').length).toBeGreaterThan(0)
  })
})
