/**
 * `PageTable`, `BootPageTable` and the page-table factory `model.pageTables` (ostd::mm::page_table;
 * API.md "Page tables"). Every method dispatches one event of reducers/page_table/page_table.ts
 * or reducers/page_table/boot_pt.ts (a factory that creates its object on first use dispatches the
 * constructor's event first).
 *
 *   model.pageTables.kernel()            `page_table.new_kernel` on first use, then the same table
 *   model.pageTables.create('user')      `kernel().createUserPageTable()`
 *   model.pageTables.create('untracked') `page_table.new` (an untracked page table, root only)
 *   pt.createUserPageTable()             `page_table.create_user_page_table` (kernel only)
 *   pt.pageWalk(va)                      `page_table.page_walk`
 *   pt.drop()                            `page_table.drop`
 *   model.pageTables.boot({ firmware }) `boot_page_table.new` on first use
 *   boot.mapBasePage / protectBasePage / pageWalk / dismiss   `boot_page_table.*`
 *
 *   pt.cursor(range) / pt.cursorMut(range)  `page_table.cursor` / `page_table.cursor_mut`
 *                                        (the cursors' methods: src/api/pt_cursor.ts)
 */
import { OstdPanic } from '../arch/errors.js'
import type { PageProperty } from '../arch/page_prop.js'
import { pageTableHandle } from '../model/pt_tables.js'
import { pageWalk, type WalkResult } from '../model/pt_walk.js'
import { tableForEach } from '../model/table.js'
import type { PageTableHandle } from '../model/page_table.js'
import type { Snapshot } from '../model/snapshot.js'
import { bootRootPaddr } from '../../reducers/page_table/boot_pt.js'
import { unsharedKernelEntries, type PageTableResult } from '../../reducers/page_table/page_table.js'
import { Handle } from './handle.js'
import type { Model } from './model.js'
import { openCursor, type Cursor, type CursorMut, type PageTableError } from './pt_cursor.js'
import type { Result } from './result.js'
import { vaArg, type VirtAddr } from './vaddr.js'

export type { WalkResult, VirtAddr }

/** A leaf of the firmware's page table: the page of `level` (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) at `va` maps `paddr` with `prop`. */
export interface FirmwareLeaf {
  readonly va: VirtAddr
  readonly paddr: number
  readonly level: number
  readonly prop: PageProperty
}

/** The configurations of a `PageTable<C>`. */
export type PageTableConfig = PageTableHandle['config']

/**
 * The kernel page table `kernel()` hands out: the lowest-numbered live kernel-configuration page
 * table whose top-level entries 256..512 all hold a node (what `new_kernel_page_table` makes), or
 * null. Read from the snapshot, so it follows `undo` / `seek` and traces replayed into the model.
 */
export function kernelPageTableOf(s: Snapshot): number | null {
  let found: number | null = null
  tableForEach(s.pt.tables, (h, id) => {
    if (found === null && h.config === 'kernel' && unsharedKernelEntries(s, h.rootPaddr).length === 0) found = id
  })
  return found
}

/** A page table (`PageTable<C>`): a handle owning its root node. */
export class PageTable extends Handle {
  protected get kind(): string {
    return 'PageTable'
  }

  /** The page table's entry in the model; throws if the handle is no longer live. */
  private entry(): PageTableHandle {
    this.live()
    const h = pageTableHandle(this.model.state, this.id)
    if (h === null) throw new OstdPanic('REQ-HANDLE-1', `PageTable ${this.id} is not a live handle (dropped, or never created)`, 'requires')
    return h
  }

  /** Its configuration: `'kernel'`, `'user'` or `'untracked'`. */
  config(): PageTableConfig {
    return this.entry().config
  }

  /** `root_paddr()`: the physical address of the root node. */
  rootPaddr(): number {
    return this.entry().rootPaddr
  }

  /**
   * `create_user_page_table()` (kernel page tables only; another configuration panics with
   * REQ-PT-CREATEUSER-1): a new user page table whose top-level entries 256..512 are this table's.
   */
  createUserPageTable(): PageTable {
    this.live()
    const r = this.model.call<PageTableResult>({ type: 'page_table.create_user_page_table', pageTable: this.id })
    return new PageTable(this.model, r.pageTable)
  }

  /**
   * `page_walk(va)`: the software MMU walk from the root, `{ pa, prop }` (the leaf's address plus
   * the offset of `va` in it) or null when `va` is not mapped. A user table's walk of a kernel
   * address goes through the kernel's shared nodes.
   */
  pageWalk(va: VirtAddr): WalkResult | null {
    this.live()
    return this.model.call<WalkResult | null>({ type: 'page_table.page_walk', pageTable: this.id, va: vaArg(va) })
  }

  /**
   * `cursor(range)`: a read-only cursor at `range.start`. `Err(InvalidVaddrRange)` for an empty or
   * out-of-range range, then `Err(UnalignedVaddr)` (behaviour.md §2.5.1); a range overlapping a
   * live cursor's panics (OSTD would block). Creation may allocate the nodes down to the guard.
   */
  cursor(range: { start: VirtAddr; end: VirtAddr }): Result<Cursor, PageTableError> {
    this.live()
    return openCursor(this.model, this.id, false, range)
  }

  /** `cursor_mut(range)`: as `cursor`, a cursor that can map, take and protect. */
  cursorMut(range: { start: VirtAddr; end: VirtAddr }): Result<CursorMut, PageTableError> {
    this.live()
    return openCursor(this.model, this.id, true, range) as Result<CursorMut, PageTableError>
  }

  /**
   * Drops the page table: its root node, and with it the tree below (`on_drop` over the
   * configuration's top-level range; a user table leaves the kernel's shared half alone). The
   * kernel page table can be dropped only while no user page table shares it (REQ-PT-DROP-1).
   */
  drop(): void {
    this.consume(() => this.model.dispatch({ type: 'page_table.drop', pageTable: this.id }))
  }
}

/**
 * The boot page table (`BootPageTable`, ostd::mm::page_table::boot_pt): one per model, made by
 * `model.pageTables.boot()` on first use. Its `id` is its root's physical address.
 */
export class BootPageTable extends Handle {
  protected get kind(): string {
    return 'BootPageTable'
  }

  /**
   * The model's boot page table, or null when there is none (the events then panic with
   * REQ-BOOTPT-LIVE-1). A handle to a boot page table that was dismissed and made again is stale.
   */
  private current(): Snapshot['pt']['boot'] {
    this.live()
    const boot = this.model.state.pt.boot
    if (boot !== null && bootRootPaddr(boot) !== this.id) {
      throw new OstdPanic('REQ-HANDLE-1', `BootPageTable ${this.id} was dismissed (the boot page table now has root ${bootRootPaddr(boot)})`, 'requires')
    }
    return boot
  }

  /**
   * `map_base_page(va, frameNumber, prop)`: maps the 4 KiB page at `va` to physical address
   * `frameNumber * PAGE_SIZE`, allocating missing tables. Panics (REQ-BOOTPT-MAP-1) when the page
   * is already mapped.
   */
  mapBasePage(va: VirtAddr, frameNumber: number, prop: PageProperty): void {
    this.current()
    this.model.dispatch({ type: 'boot_page_table.map_base_page', va: vaArg(va), frameNumber, prop })
  }

  /**
   * `protect_base_page(va, op)`: the page's property becomes `op(property)`, splitting a huge leaf
   * on the way. `op` is called once, with the property the walk finds now, and the event carries
   * its result (the event schema's `prop`). An unmapped page panics (REQ-BOOTPT-PROTECT-1) without
   * calling `op`, as OSTD does: the event is then sent with an identity mask, and its own
   * precondition raises the panic.
   */
  protectBasePage(va: VirtAddr, op: (p: PageProperty) => PageProperty): void {
    const boot = this.current()
    const arg = vaArg(va)
    const found = boot === null ? null : pageWalk(this.model.state, bootRootPaddr(boot), va)
    if (found === null) {
      this.model.dispatch({ type: 'boot_page_table.protect_base_page', va: arg, mask: { clear: 0, set: 0 } })
      return
    }
    this.model.dispatch({ type: 'boot_page_table.protect_base_page', va: arg, prop: op(found.prop) })
  }

  /** `page_walk(root_address(), va)`: `{ pa, prop }` or null, as `PageTable.pageWalk`. */
  pageWalk(va: VirtAddr): WalkResult | null {
    this.current()
    return this.model.call<WalkResult | null>({ type: 'boot_page_table.page_walk', va: vaArg(va) })
  }

  /** `boot_pt::dismiss()`: drops the boot page table, freeing every table it allocated. Consumes the handle. */
  dismiss(): void {
    this.current()
    this.consume(() => this.model.dispatch({ type: 'boot_page_table.drop' }))
  }
}

/** `model.pageTables`: the kernel page table, new page tables and the boot page table. */
export class PageTableFactory {
  constructor(private readonly model: Model) {}

  /**
   * The kernel page table (`new_kernel_page_table()`, made on first use with one
   * `page_table.new_kernel` event). Later calls return a handle with the same `id` while it lives.
   */
  kernel(): PageTable {
    const existing = kernelPageTableOf(this.model.state)
    if (existing !== null) return new PageTable(this.model, existing)
    const r = this.model.call<PageTableResult>({ type: 'page_table.new_kernel' })
    return new PageTable(this.model, r.pageTable)
  }

  /**
   * A new page table: `'user'` is `kernel().createUserPageTable()` (sharing the kernel half);
   * `'untracked'` is an empty untracked page table (`PageTable::<UntrackedPtConfig>::empty()`).
   */
  create(config: 'user' | 'untracked'): PageTable {
    if (config === 'user') return this.kernel().createUserPageTable()
    if (config === 'untracked') {
      const r = this.model.call<PageTableResult>({ type: 'page_table.new', config: 'untracked' })
      return new PageTable(this.model, r.pageTable)
    }
    throw new TypeError(`pageTables.create: expected 'user' or 'untracked', got ${JSON.stringify(config)}`)
  }

  /**
   * The boot page table, made on first use with one `boot_page_table.new` event. `firmware`: the
   * mappings the firmware's page table holds, which `from_current_pt` adopts (4 KiB, 2 MiB or
   * 1 GiB leaves; none by default). They apply only when the table is made: passing them for a
   * boot page table that exists already is a TypeError.
   */
  boot(options: { firmware?: readonly FirmwareLeaf[] } = {}): BootPageTable {
    const boot = this.model.state.pt.boot
    if (boot !== null) {
      if (options.firmware !== undefined) throw new TypeError(`pageTables.boot: the boot page table exists already (root ${bootRootPaddr(boot)}); firmware mappings apply only when it is made`)
      return new BootPageTable(this.model, bootRootPaddr(boot))
    }
    const firmware = options.firmware?.map((m) => ({ va: vaArg(m.va), paddr: m.paddr, level: m.level, prop: m.prop }))
    const r = this.model.call<{ rootPaddr: number }>(firmware === undefined ? { type: 'boot_page_table.new' } : { type: 'boot_page_table.new', firmware })
    return new BootPageTable(this.model, r.rootPaddr)
  }
}
