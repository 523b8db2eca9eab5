/**
 * The embedding (operations.md §11): the `Op` enum over `VmStore` as the model's events. An Op IS
 * the public API call, the store IS the snapshot; `op_pre` (id existence) is the first requirement
 * of each event (reducers/embedding/requires.ts, REQ-EMB-*), the `_embedded` axioms are ENS rules
 * on the events, and `VmStore::inv()` is checked at every boundary (ENS-EMB-ALL-1, all.ts).
 *
 * Op → event (ops.ts; test/unit/embedding_ops.test.ts dispatches each):
 *
 *   NewVmSpace        vm_space.new                  ENS-EMB-NEWVMSPACE-1..5                (vm_space.ts)
 *   DropVmSpace       vm_space.drop                 REQ/ENS-EMB-DROPVMSPACE-*              (vm_space.ts)
 *   OpenCursor        vm_space.cursor               REQ/ENS-EMB-OPENCURSOR-*               (vm_space.ts)
 *   OpenCursorMut     vm_space.cursor_mut           REQ/ENS-EMB-OPENCURSORMUT-*            (vm_space.ts)
 *   DropCursor        vm_cursor.drop                REQ/ENS-EMB-DROPCURSOR-1               (vm_space.ts)
 *   Query             cursor.query                  REQ/ENS-EMB-QUERY-*                    (cursor.ts)
 *   FindNext          cursor.find_next              REQ/ENS-EMB-FINDNEXT-1                 (cursor.ts)
 *   Jump              cursor.jump                   REQ/ENS-EMB-JUMP-1                     (cursor.ts)
 *   ProtectNext       vm_cursor_mut.protect_next    REQ/ENS-EMB-PROTECTNEXT-1              (cursor.ts)
 *   VirtAddr          cursor.virt_addr              REQ/ENS-EMB-VIRTADDR-1                 (cursor.ts)
 *   Map               vm_cursor_mut.map             REQ/ENS-EMB-MAP-*                      (cursor.ts)
 *   Unmap             vm_cursor_mut.unmap           REQ/ENS-EMB-UNMAP-*                    (cursor.ts)
 *   NewReader         vm_space.reader               REQ/ENS-EMB-NEWREADER-1                (vm_space.ts)
 *   NewWriter         vm_space.writer               REQ/ENS-EMB-NEWWRITER-1                (vm_space.ts)
 *   NewKernelReader   frame.reader                  ENS-EMB-NEWKERNELREADER-1              (io/io.ts)
 *   NewKernelWriter   frame.writer                  ENS-EMB-NEWKERNELWRITER-1              (io/io.ts)
 *   DropReader        vm_reader.drop                REQ/ENS-EMB-DROPREADER-1               (io/io.ts)
 *   DropWriter        vm_writer.drop                REQ/ENS-EMB-DROPWRITER-1               (io/io.ts)
 *   ReaderReadVal     vm_reader.read_val            REQ/ENS-EMB-IOMETHOD-1                 (handles.ts)
 *   ReaderCollect     vm_reader.collect             REQ/ENS-EMB-IOMETHOD-1                 (handles.ts)
 *   ReaderQuery       vm_reader.remain              REQ/ENS-EMB-IOMETHOD-1 (new event, reducers/embedding/io_query.ts)
 *   WriterWriteVal    vm_writer.write_val           REQ/ENS-EMB-IOMETHOD-1                 (handles.ts)
 *   WriterQuery       vm_writer.avail               REQ/ENS-EMB-IOMETHOD-1 (new event, reducers/embedding/io_query.ts)
 *   ReaderLimit       vm_reader.limit               REQ/ENS-EMB-IOMETHOD-1                 (handles.ts)
 *   ReaderSkip        vm_reader.skip                REQ/ENS-EMB-IOMETHOD-1                 (handles.ts)
 *   WriterFillZeros   vm_writer.fill_zeros          REQ/ENS-EMB-IOMETHOD-1                 (handles.ts)
 *   WriterLimit       vm_writer.limit               REQ/ENS-EMB-IOMETHOD-1                 (handles.ts)
 *   WriterSkip        vm_writer.skip                REQ/ENS-EMB-IOMETHOD-1                 (handles.ts)
 *   Read              vm_reader.read                REQ-EMB-READ-1..2, ENS-EMB-READ-1..2   (io/io.ts; READ-3 a deviation)
 *   Write             vm_writer.write               REQ-EMB-WRITE-1..2 (io), ENS-EMB-WRITE-1 (handles.ts)
 *   FrameFromUnused   frame.from_unused             ENS-EMB-FRAMEFROMUNUSED-1..4           (frame/frame.ts)
 *   FrameFromInUse    frame.from_in_use             ENS-EMB-FRAMEFROMINUSE-1..3            (frame/frame.ts)
 *   FrameDrop         frame.drop                    REQ-EMB-FRAMEDROP-1, ENS-EMB-FRAMEDROP-1..4 (frame/frame.ts; REQ-2 a deviation)
 *   SegmentFromUnused segment.from_unused           ENS-EMB-SEGMENTFROMUNUSED-*            (frame/segment.ts)
 *   SegmentDrop       segment.drop                  REQ/ENS-EMB-SEGMENTDROP-*              (frame/segment.ts)
 *   SegmentSplit      segment.split                 REQ/ENS-EMB-SEGMENTSPLIT-*             (frame/segment.ts)
 *   SegmentNext       segment.next                  REQ/ENS-EMB-SEGMENTNEXT-*              (frame/segment.ts)
 *   SegmentClone      segment.clone                 REQ/ENS-EMB-SEGMENTCLONE-*             (frame/segment.ts)
 *   SegmentSlice      segment.slice                 REQ/ENS-EMB-SEGMENTSLICE-*             (frame/segment.ts)
 *   UniqueFromUnused  unique_frame.from_unused      ENS-EMB-UNIQUEFROMUNUSED-1..3          (handles.ts)
 *   UniqueDrop        unique_frame.drop             REQ-EMB-UNIQUEDROP-1, ENS-EMB-UNIQUEDROP-1 (handles.ts)
 *   FromUnique        unique_frame.into_shared      REQ/ENS-EMB-FROMUNIQUE-1               (frame/unique.ts)
 *   TryFromShared     unique_frame.try_from_shared  REQ/ENS-EMB-TRYFROMSHARED-*            (frame/unique.ts)
 *
 * Every Op event also owes ENS-EMB-ALL-3 (all.ts). MD-11: where an Op "fails", the event returns a
 * failure result (`Err`, `None`, `0`) and leaves the store unchanged — checked by the rules above.
 */
import type { EnsRule, UmbrellaRule } from '../../rule.js'
import { embAllRules, embAllUmbrellas } from './all.js'
import { embCursorRules } from './cursor.js'
import { embHandleRules } from './handles.js'
import { embVmSpaceRules } from './vm_space.js'

export { EMBEDDING_OPS, EMBEDDING_OP_EVENTS } from './ops.js'

export const embeddingRules: EnsRule[] = [...embVmSpaceRules, ...embCursorRules, ...embHandleRules, ...embAllRules]
export const embeddingUmbrellas: UmbrellaRule[] = embAllUmbrellas
