/**
 * Rule IDs enforced outside the checker's registry: preconditions of pure functions (the PTE
 * codec) and panics of the facade. They are thrown as `OstdPanic`s, and each has a firing test.
 */
export const ENFORCED_OUTSIDE_REGISTRY: ReadonlyMap<string, string> = new Map([
  ['REQ-PTE-1', 'Enforced by the PTE codec (`newPt`, `newPage`): the target address is page aligned below MAX_PADDR.'],
  ['REQ-PTE-2', 'Enforced by the PTE codec (`newPage`, `setProp`): R is set and the property has no undefined bits.'],
  ['REQ-PTE-3', 'Enforced by the PTE codec (`newPage`, `setProp`): the cache policy is WB, WT or UC (else it panics).'],
  ['REQ-UNWRAP-1', '[model] `Result::unwrap` on an `Err` panics (the facade\'s `unwrap`).'],
  ['REQ-TRACE-EXPECT-1', '[model] Differential replay: the result of a trace event equals the result the trace recorded (`expect`); a mismatch is reported as a violation of the step (src/log/history.ts).'],
  ['REQ-TRACE-CHECKPOINT-1', '[model] Differential replay: the snapshot after a trace event has the hash of the checkpoint line that follows it; a mismatch is reported as a violation of the step (src/log/history.ts).'],
])
