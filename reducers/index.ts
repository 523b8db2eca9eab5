/**
 * Every event the model understands, by type. One module per OSTD module; this list is the
 * single place that names them (the trace schema, the dispatcher and the checker read it).
 */
import { allocFrame, frameClone, frameDrop, frameFromInUse, frameFromRaw, frameFromUnused, frameIntoRaw } from './frame/frame.js'
import { dropLastInPlace, getFromInUse, getFromUnused } from './frame/meta.js'
import type { EventSpec, ModelEvent } from './types.js'

export type AnyEventSpec = EventSpec<ModelEvent, unknown>

export const EVENT_SPECS: readonly AnyEventSpec[] = [
  // ostd::mm::frame::meta
  getFromUnused,
  getFromInUse,
  dropLastInPlace,
  // ostd::mm::frame (Frame, FrameAllocOptions)
  allocFrame,
  frameFromUnused,
  frameFromInUse,
  frameClone,
  frameDrop,
  frameIntoRaw,
  frameFromRaw,
] as unknown as readonly AnyEventSpec[]

const BY_TYPE = new Map(EVENT_SPECS.map((s) => [s.type, s]))
if (BY_TYPE.size !== EVENT_SPECS.length) throw new Error('two event specs share a type')

export function eventSpec(type: string): AnyEventSpec | undefined {
  return BY_TYPE.get(type)
}

export function eventTypes(): string[] {
  return [...BY_TYPE.keys()]
}

export * from './types.js'
