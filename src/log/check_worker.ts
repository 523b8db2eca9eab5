/**
 * A worker thread of `checkInWorkers`: checks the segment it is given (`checkSegment`), with the
 * reducer variants of `variantsModule` if one is named (functions do not cross threads: each worker
 * imports the module), and posts the result.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { checkSegment, type SegmentTask } from './check_segment.js'
import { importVariants } from './variants.js'

const task = workerData as SegmentTask & { readonly variantsModule?: string }
const variants = task.variantsModule === undefined ? null : new Map((await importVariants(task.variantsModule)).map((v) => [v.type, v]))
parentPort!.postMessage(checkSegment({ ...task, variants }))
