/**
 * Physical memory: frame contents are 4 KiB pages in `Snapshot.memory`, copied on write; a page
 * with no entry is all zero. Page-table nodes keep their 512 PTE words here (8 bytes each,
 * little-endian), so the node's memory is the single source of truth for its PTEs.
 */
import { frameToIndex, indexToFrame, NR_ENTRIES, PAGE_SIZE, PTE_SIZE } from '../arch/constants.js'
import type { Pte } from '../arch/pte.js'
import type { Tables } from './edit.js'
import type { Snapshot } from './snapshot.js'
import { tableGet } from './table.js'

/** The bytes of `[pa, pa + len)` (a copy). Pages without an entry read as zero. */
export function readPhys(s: Snapshot, pa: number, len: number): Uint8Array {
  const out = new Uint8Array(len)
  let done = 0
  while (done < len) {
    const at = pa + done
    const off = at % PAGE_SIZE
    const n = Math.min(PAGE_SIZE - off, len - done)
    const page = tableGet(s.memory, frameToIndex(at))
    if (page !== null) out.set(page.subarray(off, off + n), done)
    done += n
  }
  return out
}

/**
 * Writes bytes into physical memory inside one `editSnapshot` recipe: each page touched is copied
 * once (from the transaction's view) and the copy is then written in place until the step ends.
 */
export class MemoryWriter {
  private readonly owned = new Map<number, Uint8Array>()
  constructor(private readonly t: Tables) {}

  write(pa: number, bytes: Uint8Array): void {
    let done = 0
    while (done < bytes.length) {
      const at = pa + done
      const idx = frameToIndex(at)
      const off = at % PAGE_SIZE
      const n = Math.min(PAGE_SIZE - off, bytes.length - done)
      let page = this.owned.get(idx)
      if (page === undefined) {
        const base = this.t.memory.get(idx)
        page = base === null ? new Uint8Array(PAGE_SIZE) : base.slice()
        this.owned.set(idx, page)
        this.t.memory.set(idx, page)
      }
      page.set(bytes.subarray(done, done + n), off)
      done += n
    }
  }
}

/** PTE `idx` of the node at slot `nodeIdx` (0 if the page has no storage). */
export function readPte(s: Snapshot, nodeIdx: number, idx: number): Pte {
  const page = tableGet(s.memory, nodeIdx)
  if (page === null) return 0n
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getBigUint64(idx * PTE_SIZE, true)
}

/** All 512 PTEs of the node at slot `nodeIdx`. */
export function readPtes(s: Snapshot, nodeIdx: number): Pte[] {
  const page = tableGet(s.memory, nodeIdx)
  if (page === null) return new Array<Pte>(NR_ENTRIES).fill(0n)
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength)
  return Array.from({ length: NR_ENTRIES }, (_, i) => view.getBigUint64(i * PTE_SIZE, true))
}

/** Writes PTE `idx` of the node at slot `nodeIdx` (within one transaction). */
export function writePte(w: MemoryWriter, nodeIdx: number, idx: number, pte: Pte): void {
  const bytes = new Uint8Array(PTE_SIZE)
  new DataView(bytes.buffer).setBigUint64(0, pte, true)
  w.write(indexToFrame(nodeIdx) + idx * PTE_SIZE, bytes)
}

/** Indices of the PTEs that differ between two versions of a node's page. */
export function changedPteIndices(before: Uint8Array | null, after: Uint8Array | null): number[] {
  if (before === after) return []
  const out: number[] = []
  const a = before === null ? null : new Uint32Array(before.buffer, before.byteOffset, PAGE_SIZE / 4)
  const b = after === null ? null : new Uint32Array(after.buffer, after.byteOffset, PAGE_SIZE / 4)
  for (let i = 0; i < NR_ENTRIES; i++) {
    const lo = 2 * i
    if ((a?.[lo] ?? 0) !== (b?.[lo] ?? 0) || (a?.[lo + 1] ?? 0) !== (b?.[lo + 1] ?? 0)) out.push(i)
  }
  return out
}
