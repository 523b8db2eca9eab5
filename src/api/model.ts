/**
 * `createModel`: the OSTD-shaped facade over one event log (API.md "Model and history").
 * Every facade call dispatches one event (or reads the current snapshot).
 */
import type { ModelEvent } from '../../reducers/index.js'
import type { CheckMode } from '../check/rule.js'
import { History, type HistoryOptions, type Step } from '../log/history.js'
import type { Snapshot } from '../model/snapshot.js'
import { FrameFactory } from './frame.js'
import { PageTableFactory } from './page_table.js'
import { VmSpaceFactory } from './vm_space.js'

export interface ModelOptions extends Omit<HistoryOptions, 'check'> {
  /** Bytes of physical memory (default 256 MiB = 65,536 frames). */
  physicalMemory?: number
  check?: CheckMode
}

export class Model {
  readonly history: History
  readonly frames: FrameFactory
  readonly pageTables: PageTableFactory
  readonly vmSpaces: VmSpaceFactory

  constructor(options: ModelOptions = {}) {
    this.history = new History(options)
    this.frames = new FrameFactory(this)
    this.pageTables = new PageTableFactory(this)
    this.vmSpaces = new VmSpaceFactory(this)
  }

  /** The current snapshot (immutable). */
  get state(): Snapshot {
    return this.history.state
  }

  /** Applies one event; returns the step (result, violations). Throws `OstdPanic` on a failed precondition. */
  dispatch(event: ModelEvent): Step {
    return this.history.dispatch(event)
  }

  /** Dispatches and returns just the result. */
  call<R>(event: ModelEvent): R {
    return this.history.dispatch(event).result as R
  }
}

export function createModel(options: ModelOptions = {}): Model {
  return new Model(options)
}
