/** Every event of ostd::mm::vm_space (VmSpace, its cursors, flusher, ghost owner, user readers/writers, fallible I/O). */
import type { EventSpec, ModelEvent } from '../types.js'
import { vmCursorEvents } from './cursor.js'
import { vmFlusherEvents } from './flusher.js'
import { vmCursorMapEvents } from './map.js'
import { vmSpaceOwnerEvents } from './owner.js'
import { vmCursorProtectEvents } from './protect.js'
import { vmSpaceIoEvents } from './reader_writer.js'
import { vmCursorUnmapEvents } from './unmap.js'
import { userIoEvents } from './user_io.js'
import { vmSpaceLifecycleEvents } from './vm_space.js'

export const vmSpaceEvents: readonly EventSpec<ModelEvent, unknown>[] = [
  ...vmSpaceLifecycleEvents,
  ...vmCursorEvents,
  ...vmCursorMapEvents,
  ...vmCursorUnmapEvents,
  ...vmCursorProtectEvents,
  ...vmFlusherEvents,
  ...vmSpaceOwnerEvents,
  ...vmSpaceIoEvents,
  ...userIoEvents,
]
