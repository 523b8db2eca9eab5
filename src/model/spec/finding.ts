/** A failed clause, before the checker attaches the step: which rule, where, what was expected. */
export interface Finding {
  readonly rule: string
  readonly message: string
  /** Where in the snapshot (or result) the clause fails, e.g. `slotOwners[12].innerPerms.refCount`. */
  readonly path: string
  readonly expected?: unknown
  readonly actual?: unknown
}

export function finding(rule: string, path: string, message: string, expected?: unknown, actual?: unknown): Finding {
  return expected === undefined && actual === undefined ? { rule, path, message } : { rule, path, message, expected, actual }
}
