/**
 * Digest rule IDs the model deliberately does not enforce, each with the reason: the spec and the
 * observed behaviour (behaviour.md) disagree, and the behaviour wins (DESIGN: "follow the behaviour
 * and write the difference down"). `ostd-model rules` lists them as deviations, not as missing;
 * a test checks that none of them is also implemented (a stale entry).
 */
export const DEVIATIONS: ReadonlyMap<string, string> = new Map([
  [
    'REQ-CURSORMUT-PROTECTNEXT-2',
    '`!owner.cur_entry_owner().is_absent()` is not required: `protect_next` searches its window for the next leaf and returns None when there is none (behaviour.md §2.5.10; VmSpace callers loop until None), so an absent current entry is an ordinary call (reducers/page_table/cursor_mut.ts).',
  ],
  [
    'REQ-EMB-FRAMEDROP-2',
    '`cover(frames[fid].paddr) == 0` is not required: OSTD\'s `Frame::drop` of a handle to a page a segment covers is well defined (by INV-ACCT-1 its count is then at least 2, so the drop only decrements), and the model releases such handles internally (a frame taken with `from_in_use` from a segment page, mapped, unmapped and released by the TLB flusher), so the requirement would reject valid OSTD programs (src/check/rules/embedding/index.ts).',
  ],
  [
    'ENS-EMB-READ-3',
    'no ghost `consumed_w` entry is inserted by `read`: the model keeps the exec cursor and the bytes in the entries and memory (behaviour.md §2.8) and has no ghost write views for kernel writers, so there is nothing for such an entry to hold; ENS-EMB-READ-1/2 and ENS-VMIO-COPY-1 check the copy (src/check/rules/io/io.ts).',
  ],
])
