/**
 * Every rule fires: each case breaks one rule on purpose and must see exactly the listed rule IDs
 * (a panic must also leave state and history unchanged).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ALL_CASES } from './cases/index.js'
import { firingManifest, MANIFEST_PATH } from './manifest.js'

describe('every rule fires', () => {
  for (const c of ALL_CASES) {
    it(`${c.rule}: ${c.title}`, () => {
      const out = c.run()
      expect(out.rules).toEqual([...(c.expect ?? [c.rule])].sort())
      if (c.expectAlso) for (const u of c.expectAlso) expect(out.also).toContain(u)
      if (out.unchanged !== undefined) expect(out.unchanged).toBe(true)
    })
  }

  it('the committed manifest lists exactly the rules with a firing case (npm run firing-manifest)', () => {
    expect(JSON.parse(readFileSync(MANIFEST_PATH, 'utf8'))).toEqual(firingManifest())
  })
})
