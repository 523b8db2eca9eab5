/**
 * `ostd-model/testing`: vitest helpers for tests written against the model — the
 * `toChangeExactly` and `toSatisfySpec` matchers (with their type declarations), a snapshot
 * serializer for diffs, and `setupOstdTesting()` to install them. Needs `vitest` (a peer of this
 * entry point only; the package root does not import it).
 */
import './augment.js'

export type { OstdMatchers } from './augment.js'
export { setupOstdTesting, type SetupOptions } from './setup.js'
export { ostdMatchers, toChangeExactly, toSatisfySpec, type MatcherResult, type SatisfySpecOptions } from './matchers.js'
export { checkChangeSpec, matchesPattern, mismatchText, patternText, type ChangeSpec, type Pattern, type SpecMismatch } from './change_spec.js'
export { createDiffSerializer, diffSerializer, type DiffSerializer } from './serializer.js'
export { diff, isEmptyDiff, isSnapshotDiff, SEMANTIC_CATEGORIES, type SnapshotDiff, type SemanticDiff, type SemanticCategory, type DiffOptions } from '../log/diff.js'
export { renderDiff, type RenderOptions } from '../log/diff_render.js'
