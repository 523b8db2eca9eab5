/**
 * A tour of the page tables through the OSTD-shaped API: the boot page table (map, protect, walk,
 * dismiss), the one kernel page table, a user page table sharing its upper half and mapped through
 * a cursor (map, query, protect_next, take_next), and an untracked page table with a 2 MiB page —
 * every call is an event, checked against the specification as it happens.
 *
 *   npx tsx examples/page_table_tour.ts           # run it and print the walks and what was checked
 *   npx tsx examples/page_table_tour.ts --trace   # print the history as an NDJSON trace
 *
 * It checks incrementally: the kernel page table is ~3,100 internal steps, and full checking
 * re-evaluates every invariant on the whole state after each of them (~23 s for the tour in full,
 * against ~5 s incremental).
 */
import { pathToFileURL } from 'node:url'
import { createModel, PageFlags, PageProperty, unwrap, type Model, type VaRangeOut, type WalkResult } from '../src/index.js'

/** Kernel data: read-write, not user-accessible. */
const KERNEL_RW: PageProperty = { flags: PageFlags.RW, cache: 'Writeback', privFlags: 0 }

export interface TourWalks {
  readonly bootUser: WalkResult | null
  readonly bootKernel: WalkResult | null
  readonly bootUnmapped: WalkResult | null
  readonly sameKernel: boolean
  readonly userKernelHalf: WalkResult | null
  /** The user page table's walk of VA 0 after the cursor mapped a frame there and made it read-only. */
  readonly userMapped: WalkResult | null
  /** What `take_next` found: the frame mapped at VA 0 (its physical address). */
  readonly userTaken: { va: number | bigint; pa: number } | null
  /** `protect_next` inside a 2 MiB page of the untracked table: the 4 KiB piece it split off. */
  readonly untrackedProtected: VaRangeOut | null
  readonly untrackedWalk: WalkResult | null
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

  // A cursor maps a frame (the frame moves into the page table), protects it, and takes it back.
  const frame = unwrap(model.frames.allocFrame())
  const pa = frame.startPaddr()
  const c = unwrap(user.cursorMut({ start: 0, end: 0x40_0000 })) // locks [0, 4 MiB)
  c.map({ frame, prop: PageProperty.newUser(PageFlags.RW) })
  unwrap(c.jump(0))
  c.protectNext(0x1000, (p) => ({ ...p, flags: PageFlags.R }))
  const userMapped = user.pageWalk(0x123) // { pa: pa + 0x123, prop: R }
  unwrap(c.jump(0))
  const frag = c.takeNext(0x40_0000)
  let userTaken: TourWalks['userTaken'] = null
  if (frag?.kind === 'Mapped' && 'frame' in frag.item) {
    userTaken = { va: frag.va, pa: frag.item.frame.startPaddr() }
    frag.item.frame.drop() // the page table's reference, handed back
  }
  c.drop() // releases the range
  if (userTaken !== null && userTaken.pa !== pa) throw new Error('take_next returned another frame')

  // An untracked page table (the configuration OSTD's tests use): any physical address, huge pages.
  const untracked = model.pageTables.create('untracked')
  const u = unwrap(untracked.cursorMut({ start: 0, end: 0x40_0000 }))
  u.map({ pa: 0x20_0000, level: 2, prop: PageProperty.newUser(PageFlags.RW) }) // one 2 MiB page
  unwrap(u.jump(0x1000))
  const untrackedProtected = u.protectNext(0x1000, (p) => ({ ...p, flags: PageFlags.R })) // splits the 2 MiB page
  u.drop()
  const untrackedWalk = untracked.pageWalk(0x1234)
  untracked.drop()
  user.drop() // the kernel page table outlives its user page tables
  return { ...walks, sameKernel, userKernelHalf, userMapped, userTaken, untrackedProtected, untrackedWalk }
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
