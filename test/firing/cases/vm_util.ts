/** Helpers the VmSpace and embedding firing cases share to build states through events. */
import type { Model } from '../../../src/api/model.js'

/** The value of an `Ok` result (a case's setup step that must succeed). */
export function okv<T>(r: unknown): T {
  const x = r as { ok: boolean; value: T }
  if (!x.ok) throw new Error(`expected Ok, got ${JSON.stringify(r)}`)
  return x.value
}

/** `VmSpace::new()`: the new space's id. */
export function newSpace(m: Model): number {
  return m.call<{ vmSpace: number }>({ type: 'vm_space.new' }).vmSpace
}
