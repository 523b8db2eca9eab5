/**
 * Loading a trace file in a fresh process, as the CLI does (test/bench/history.ts runs it): the
 * load — lazy, or lazy with deferred validation — then the first seek to the end, which applies
 * every event. Prints `{ loadMs, seekEndMs, events, hash }` as JSON.
 *   node --import tsx test/bench/load_trace.ts <file> lazy|deferred
 */
import { loadTrace } from '../../src/log/trace_stream.js'
import { snapshotHash } from '../../src/log/checkpoints.js'

const [file, mode] = process.argv.slice(2)
if (file === undefined || (mode !== 'lazy' && mode !== 'deferred')) throw new Error('usage: load_trace.ts <file> lazy|deferred')
let s = performance.now()
const r = await loadTrace(file, { lazy: true, deferValidation: mode === 'deferred', check: 'off' })
const loadMs = performance.now() - s
if (r.history === null || r.error !== null) throw new Error(`the trace did not load: ${r.error?.message}`)
s = performance.now()
r.history.seek(r.history.recordedLength)
const seekEndMs = performance.now() - s
console.log(JSON.stringify({ loadMs, seekEndMs, events: r.history.recordedLength, hash: snapshotHash(r.history.state) }))
