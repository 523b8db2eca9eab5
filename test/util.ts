/** Helpers shared by the unit tests. */
import { expect } from 'vitest'
import { createModel, type Model } from '../src/api/model.js'
import { isOstdPanic } from '../src/arch/errors.js'

/** The rule of the `OstdPanic` that `fn` throws (fails if it does not panic). */
export function panicRule(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    if (isOstdPanic(e)) return e.rule
    throw e
  }
  throw new Error('expected an OstdPanic')
}

/** Runs `body` on a fresh 4 MiB model in each checking mode and requires a clean history. */
export function bothModes(body: (m: Model) => void): void {
  for (const check of ['full', 'incremental'] as const) {
    const m = createModel({ check, physicalMemory: 1 << 22 })
    body(m)
    expect(m.history.violations()).toEqual([])
  }
}
