/**
 * Layers import downward only (DESIGN.md): cli/api → log → check → reducers → model → arch.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve, dirname } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
const RANK: Record<string, number> = { arch: 0, model: 1, reducers: 2, check: 3, log: 4, api: 5, cli: 6, tools: 6, testing: 7 }

function layerOf(file: string): string | null {
  const rel = relative(ROOT, file).split(/[\\/]/)
  if (rel[0] === 'reducers') return 'reducers'
  if (rel[0] === 'src' && rel[1] !== undefined && rel[1] in RANK) return rel[1]
  return null
}

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield* sources(p)
    else if (p.endsWith('.ts')) yield p
  }
}

describe('layering', () => {
  it('every import points to the same or a lower layer', () => {
    const bad: string[] = []
    for (const root of ['src', 'reducers']) {
      for (const file of sources(join(ROOT, root))) {
        const from = layerOf(file)
        if (from === null) continue
        for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
          const target = layerOf(resolve(dirname(file), m[1]!))
          if (target !== null && RANK[target]! > RANK[from]!) bad.push(`${relative(ROOT, file)} (${from}) imports ${m[1]} (${target})`)
        }
      }
    }
    expect(bad).toEqual([])
  })
})
