/**
 * The firing manifest (`src/check/firing_manifest.json`): the rule IDs that have a firing case.
 * `ostd-model rules` reads it; a test keeps it in step with the cases.
 *   npm run firing-manifest   (rewrites it)
 */
import { fileURLToPath } from 'node:url'
import { ALL_CASES } from './cases/index.js'

export const MANIFEST_PATH = fileURLToPath(new URL('../../src/check/firing_manifest.json', import.meta.url))

export function firingManifest(): string[] {
  return [...new Set(ALL_CASES.map((c) => c.rule))].sort()
}
