/** The genesis snapshot: all physical memory free, nothing allocated, no handles. */
import { MAX_PADDR, PAGE_SIZE } from '../arch/constants.js'
import type { ModelConfig, Snapshot } from './snapshot.js'
import { deepFreeze, emptyTable } from './table.js'

/** 256 MiB = 65,536 frames. */
export const DEFAULT_PHYSICAL_MEMORY = 256 * 1024 * 1024

export interface ModelConfigInput {
  physicalMemory?: number
  mmioRanges?: ReadonlyArray<readonly [number, number]>
}

/** Validates and completes a configuration; throws `RangeError` naming the bad field. */
export function modelConfig(input: ModelConfigInput = {}): ModelConfig {
  const physicalMemory = input.physicalMemory ?? DEFAULT_PHYSICAL_MEMORY
  if (!Number.isSafeInteger(physicalMemory) || physicalMemory <= 0 || physicalMemory % PAGE_SIZE !== 0) {
    throw new RangeError(`physicalMemory ${physicalMemory} must be a positive multiple of ${PAGE_SIZE}`)
  }
  if (physicalMemory > MAX_PADDR) {
    throw new RangeError(`physicalMemory ${physicalMemory} exceeds MAX_PADDR (${MAX_PADDR})`)
  }
  const mmioRanges = (input.mmioRanges ?? []).map(([start, end], i) => {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start % PAGE_SIZE || end % PAGE_SIZE || start >= end || end > MAX_PADDR) {
      throw new RangeError(`mmioRanges[${i}] = [${start}, ${end}) must be a non-empty page-aligned range below MAX_PADDR`)
    }
    return [start, end] as const
  })
  return { physicalMemory, mmioRanges }
}

export function genesis(input: ModelConfigInput = {}): Snapshot {
  const config = modelConfig(input)
  const nrFrames = config.physicalMemory / PAGE_SIZE
  return deepFreeze({
    config,
    nrFrames,
    counters: { frame: 0, segment: 0, unique: 0, list: 0, vmIo: 0, ptNode: 0, ptGuard: 0, ptEntry: 0, ptChild: 0, pageTable: 0, ptCursor: 0, vmSpace: 0 },
    metaSlots: emptyTable(nrFrames),
    memory: emptyTable(nrFrames),
    allocator: { freeStack: emptyTable(), freeStackLen: 0, bumpIndex: 0 },
    lists: emptyTable(),
    vmIos: emptyTable(),
    regions: {
      slotOwners: emptyTable(nrFrames),
      unparked: emptyTable(nrFrames),
      frameObligations: emptyTable(nrFrames),
    },
    uniqueOwners: emptyTable(nrFrames),
    frames: emptyTable(),
    segments: emptyTable(),
    uniqueFrames: emptyTable(),
    pt: {
      tables: emptyTable(),
      boot: null,
      nodes: emptyTable(),
      guards: emptyTable(),
      entries: emptyTable(),
      children: emptyTable(),
      owners: emptyTable(nrFrames),
      childOwners: emptyTable(),
      locks: emptyTable(nrFrames),
      cursors: emptyTable(),
    },
    vm: { spaces: emptyTable(), cursors: emptyTable(), activated: null, tlb: { mappings: [] } },
  }) as Snapshot
}
