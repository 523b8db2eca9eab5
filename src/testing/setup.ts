/**
 * `setupOstdTesting()`: installs the matchers and the diff serializer into vitest's `expect`. Call it
 * from a file listed in `setupFiles` (vitest.config):
 *
 *     // test/setup.ts
 *     import { setupOstdTesting } from 'ostd-model/testing'
 *     setupOstdTesting()
 *
 * Idempotent: calling it again (from a test file too) changes nothing.
 */
import { expect } from 'vitest'
import type { RenderOptions } from '../log/diff_render.js'
import { ostdMatchers } from './matchers.js'
import { createDiffSerializer, diffSerializer } from './serializer.js'

let installed = false

export interface SetupOptions {
  /** Render options of the diff serializer (default: the structural paths included). */
  readonly render?: RenderOptions
}

export function setupOstdTesting(options: SetupOptions = {}): void {
  if (installed && options.render === undefined) return
  expect.extend(ostdMatchers)
  expect.addSnapshotSerializer(options.render === undefined ? diffSerializer : createDiffSerializer(options.render))
  installed = true
}
