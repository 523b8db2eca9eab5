/**
 * A tour of the page tables through the OSTD-shaped API: the boot page table (map, protect, walk,
 * dismiss), the one kernel page table, a user page table sharing its upper half, and an untracked
 * page table — every call is an event, checked against the specification as it happens.
 *
 *   npx tsx examples/page_table_tour.ts           # run it and print the walks and what was checked
 *   npx tsx examples/page_table_tour.ts --trace   # print the history as an NDJSON trace
 *
 * It checks incrementally: the kernel page table is ~3,100 internal steps, and full checking
 * re-evaluates every invariant on the whole state after each of them (minutes, not seconds).
 */
import { pathToFileURL } from 'node:url'
import { createModel, PageFlags, PageProperty, type Model, type WalkResult } from '../src/index.js'

/** Kernel data: read-write, not user-accessible. */
const KERNEL_RW: PageProperty = { flags: PageFlags.RW, cache: 'Writeback', privFlags: 0 }

export interface TourWalks {
  readonly bootUser: WalkResult | null
  readonly bootKernel: WalkResult | null
  readonly bootUnmapped: WalkResult | null
  readonly sameKernel: boolean
  readonly userKernelHalf: WalkResult | null
}

export function pageTableTour(model: Model): TourWalks {
  // The boot page table: tables from plain frames, PTEs written raw; walked like any page table.
  const boot = model.pageTables.boot()
  boot.mapBasePage(0x40_0000, 0x100, PageProperty.newUser(PageFlags.RW)) // VA 4 MiB -> PA 1 MiB
  boot.mapBasePage(0xffff_ffff_8000_0000n, 0x200, KERNEL_RW) // kernel addresses are bigints
  boot.protectBasePage(0x40_0000, (p) => ({ ...p, flags: p.flags & ~PageFlags.W })) // read-only now
  const walks = {
    bootUser: boot.pageWalk(0x40_0123), // { pa: 0x10_0123, prop: R, user }
    bootKernel: boot.pageWalk(0xffff_ffff_8000_0abcn), // { pa: 0x20_0abc, prop: RW }
    bootUnmapped: boot.pageWalk(0x40_1000), // null
  }
  boot.dismiss() // frees every table it allocated

  // The kernel page table is made once; a user page table shares its entries 256..512.
  const kernel = model.pageTables.kernel()
  const sameKernel = model.pageTables.kernel().id === kernel.id
  const user = model.pageTables.create('user') // = kernel.createUserPageTable()
  const userKernelHalf = user.pageWalk(0xffff_8000_0000_0000n) // through the kernel's nodes: nothing mapped yet

  // An untracked page table (the configuration OSTD's tests use), and drops.
  const untracked = model.pageTables.create('untracked')
  untracked.drop()
  user.drop() // the kernel page table outlives its user page tables
  return { ...walks, sameKernel, userKernelHalf }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const model = createModel({ check: 'incremental' })
  const walks = pageTableTour(model)
  if (process.argv.includes('--trace')) {
    process.stdout.write(model.history.toNDJSON())
  } else {
    console.log(walks)
    console.log(`${model.history.length} events, ${model.history.violations().length} violations (check incremental)`)
    for (const type of new Set(model.history.events().map((e) => e.type))) console.log(`  ${type}`)
  }
}
