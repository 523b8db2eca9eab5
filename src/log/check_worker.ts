/**
 * A worker thread of `checkInWorkers`: holds the history (`workerData`) and checks the segments it
 * is sent, in increasing order (`SegmentRunner`), with the reducer variants of `variantsModule` if
 * one is named (functions do not cross threads: each worker imports the module). Each message is a
 * `{ from, to }`; each reply a `SegmentResult`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { SegmentRunner, type SegmentSetup } from './check_segment.js'
import { importVariants } from './variants.js'

const setup = workerData as SegmentSetup & { readonly variantsModule?: string }
const variants = setup.variantsModule === undefined ? null : new Map((await importVariants(setup.variantsModule)).map((v) => [v.type, v]))
const runner = new SegmentRunner({ ...setup, variants })
parentPort!.on('message', (m: { readonly from: number; readonly to: number }) => parentPort!.postMessage(runner.run(m.from, m.to)))
