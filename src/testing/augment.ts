/**
 * TypeScript declarations of the matchers (`expect(step).toChangeExactly(…)`,
 * `expect(history).toSatisfySpec()`), merged into vitest's `Matchers` interface. Importing
 * `ostd-model/testing` brings them in.
 */
import type { ChangeSpec } from './change_spec.js'
import type { SatisfySpecOptions } from './matchers.js'

export interface OstdMatchers<R = unknown> {
  /** The step (or diff) changes exactly what `spec` lists (src/testing/change_spec.ts). */
  toChangeExactly(spec: ChangeSpec): R
  /** The history (model, step, steps) has no violation of the specification. */
  toSatisfySpec(options?: SatisfySpecOptions): R
}

declare module 'vitest' {
  // `T = any`: the type parameter must match vitest's own declaration for the interfaces to merge
  interface Matchers<T = any> extends OstdMatchers<T> {}
}
