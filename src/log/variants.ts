/**
 * Reducer variants from a module (`--variants <module>`, worker threads): every exported event
 * spec — an object with a `type`, a `reduce` function and `requires` (what `variantOf` makes) — or
 * arrays of them.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AnyEventSpec } from '../../reducers/index.js'

function isSpec(v: unknown): v is AnyEventSpec {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string' && typeof (v as { reduce?: unknown }).reduce === 'function' && Array.isArray((v as { requires?: unknown }).requires)
}

/** The event specs a module exports. */
export function specsOf(mod: Record<string, unknown>): AnyEventSpec[] {
  const out: AnyEventSpec[] = []
  for (const v of Object.values(mod)) {
    if (isSpec(v)) out.push(v)
    else if (Array.isArray(v)) out.push(...v.filter(isSpec))
  }
  return out
}

/** Imports a module by path (relative to the working directory) and returns its event specs. */
export async function importVariants(module: string): Promise<AnyEventSpec[]> {
  return specsOf((await import(pathToFileURL(resolve(module)).href)) as Record<string, unknown>)
}
