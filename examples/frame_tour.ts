/**
 * A tour of the frame layer through the OSTD-shaped API: frames and their bytes, segments,
 * unique frames, a linked list, readers and writers — every call is an event, checked against
 * the specification as it happens.
 *
 *   npx tsx examples/frame_tour.ts           # run it and print what was checked
 *   npx tsx examples/frame_tour.ts --trace   # print the history as an NDJSON trace
 *
 * The bundled example trace (examples/traces/default.ndjson, what `npm start` replays) is this
 * tour's history; a test keeps the two in step.
 */
import { pathToFileURL } from 'node:url'
import { createModel, Frame, LinkedList, Segment, UniqueFrame, unwrap, type Model } from '../src/index.js'

const TYPED = { type: 'MockFrameMeta', untyped: false, value: { tag: 7 } }
const NODE = (n: number) => ({ type: 'MockUFrameMeta', untyped: true, value: { n } })

export function frameTour(model: Model): void {
  // Frames: allocation is zeroed by default; clones share the frame; bytes are real.
  const frame = unwrap(model.frames.allocFrame())
  const copy = frame.clone() // rc 2
  unwrap(frame.writeBytes(0, new TextEncoder().encode('hello, ostd')))
  unwrap(frame.writeVal(16, 'u64', 0x1122_3344_5566_7788n))
  copy.drop() // rc 1
  const typed = unwrap(model.frames.allocFrame({ meta: TYPED, zeroed: false }))

  // A reader over one frame copies into a writer over another.
  const target = unwrap(model.frames.allocFrame())
  const reader = frame.reader()
  const writer = target.writer()
  reader.limit(24)
  reader.read(writer) // 24 bytes
  reader.drop()
  writer.drop()

  // Forgetting a handle keeps its reference; from_raw revives it.
  const paddr = target.intoRaw()
  const revived = model.frames.fromInUse(paddr) // another handle (rc 2)
  unwrap(revived).drop()
  const back = Frame.fromRaw(model, paddr)
  back.drop()

  // Segments: contiguous frames, split, sliced and iterated into frames.
  const seg = unwrap(model.frames.allocSegment(4))
  const [left, right] = seg.split(0x2000)
  const slice = right.slice({ start: 0, end: 0x1000 })
  for (const f of left.frames()) f.drop()
  slice.drop()
  right.drop()
  const single = Segment.fromFrame(unwrap(model.frames.allocFrame()))
  single.drop()

  // Unique frames: exclusive ownership; a shared frame becomes unique only at rc 1.
  const unique = unwrap(UniqueFrame.fromUnused(model, 0x40_0000, NODE(1)))
  unique.metaMut().write({ n: 2 })
  const shared = unique.intoShared()
  const again = unwrap(UniqueFrame.tryFromShared(shared))

  // A linked list of unique frames, walked and edited with a cursor.
  const list = LinkedList.new(model)
  list.pushBack(again)
  list.pushBack(unwrap(UniqueFrame.fromUnused(model, 0x40_1000, NODE(3))))
  list.pushFront(unwrap(UniqueFrame.fromUnused(model, 0x40_2000, NODE(4))))
  const cursor = list.cursorFrontMut()
  cursor.moveNext()
  cursor.takeCurrent()?.drop()
  list.popBack()?.drop()
  list.drop()

  typed.drop()
  frame.drop()
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const model = createModel({ check: 'full' })
  frameTour(model)
  if (process.argv.includes('--trace')) {
    process.stdout.write(model.history.toNDJSON())
  } else {
    console.log(`${model.history.length} events, ${model.history.violations().length} violations (check full)`)
    for (const type of new Set(model.history.events().map((e) => e.type))) console.log(`  ${type}`)
  }
}
