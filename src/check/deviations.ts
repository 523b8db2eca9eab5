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
])
