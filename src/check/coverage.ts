/**
 * Spec coverage: for every rule ID of the digest, whether the model implements it and whether a
 * test makes it fire; and the model's own IDs. `ostd-model rules` prints it.
 */
import manifest from './firing_manifest.json' with { type: 'json' }
import { DEVIATIONS } from './deviations.js'
import { ENFORCED_OUTSIDE_REGISTRY } from './model_ids.js'
import type { RuleRegistry } from './registry.js'
import { SPEC_IDS } from './spec_ids.js'

export interface RuleStatus {
  readonly id: string
  readonly kind: 'REQ' | 'ENS' | 'INV'
  readonly section: string
  readonly summary: string
  readonly implemented: boolean
  readonly firing: boolean
  /** Why the model does not enforce it (src/check/deviations.ts), when it deliberately does not. */
  readonly deviation?: string
}

export interface Coverage {
  readonly digest: readonly RuleStatus[]
  readonly model: readonly RuleStatus[]
  readonly totals: {
    readonly digest: number
    readonly implemented: number
    readonly firing: number
    /** Digest IDs not enforced on purpose (behaviour.md wins). */
    readonly deviations: number
    readonly byKind: Readonly<Record<'REQ' | 'ENS' | 'INV', { total: number; implemented: number; firing: number }>>
    readonly model: number
  }
}

/** IDs with a firing case (`src/check/firing_manifest.json`, kept current by a test). */
export function firingIds(): ReadonlySet<string> {
  return new Set(manifest as string[])
}

export function coverage(registry: RuleRegistry): Coverage {
  const firing = firingIds()
  const digestIds = new Set(SPEC_IDS.map((e) => e.id))
  const digest = SPEC_IDS.map((e) => ({
    id: e.id,
    kind: e.id.slice(0, 3) as RuleStatus['kind'],
    section: e.section,
    summary: e.summary,
    implemented: registry.has(e.id) || ENFORCED_OUTSIDE_REGISTRY.has(e.id),
    firing: firing.has(e.id),
    ...(DEVIATIONS.has(e.id) ? { deviation: DEVIATIONS.get(e.id)! } : {}),
  }))
  const model: RuleStatus[] = []
  for (const r of registry.all()) {
    if (digestIds.has(r.id)) continue
    model.push({ id: r.id, kind: r.kind, section: 'model', summary: r.summary, implemented: true, firing: firing.has(r.id) })
  }
  for (const [id, summary] of ENFORCED_OUTSIDE_REGISTRY) {
    if (!digestIds.has(id)) model.push({ id, kind: 'REQ', section: 'model (facade)', summary, implemented: true, firing: firing.has(id) })
  }
  model.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }))
  const byKind = { REQ: { total: 0, implemented: 0, firing: 0 }, ENS: { total: 0, implemented: 0, firing: 0 }, INV: { total: 0, implemented: 0, firing: 0 } }
  for (const r of digest) {
    const k = byKind[r.kind]
    k.total++
    if (r.implemented) k.implemented++
    if (r.firing) k.firing++
  }
  return {
    digest,
    model,
    totals: {
      digest: digest.length,
      implemented: digest.filter((r) => r.implemented).length,
      firing: digest.filter((r) => r.firing).length,
      deviations: digest.filter((r) => r.deviation !== undefined).length,
      byKind,
      model: model.length,
    },
  }
}
