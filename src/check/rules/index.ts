/** Every ENS / INV rule of the model, and the registry assembled from them and the event specs. */
import { EVENT_SPECS } from '../../../reducers/index.js'
import { RuleRegistry, requirementRules } from '../registry.js'
import { frameAllocRules } from './frame/allocator.js'
import { frameEnsRules } from './frame/frame.js'
import { linkedListRules } from './frame/linked_list.js'
import { segmentRules } from './frame/segment.js'
import { uniqueRules } from './frame/unique.js'
import { ioRules } from './io/io.js'
import { ptEntryRules } from './page_table/entry.js'
import { ptEntryCompositeRules } from './page_table/entry_composite.js'
import { ptNodeRules } from './page_table/node.js'
import { ptHandleRules } from './page_table/page_table.js'
import { ptViewRules } from './page_table/view.js'
import { bootPtRules } from './page_table/boot_pt.js'
import { metaEnsRules } from './frame/meta.js'
import { slotInvariants, slotUmbrellas } from './frame/slots.js'
import { storeInvariants, storeUmbrellas } from './frame/store.js'
import { DIGEST_SUMMARIES } from './helpers.js'
import { ptTreeRules } from './page_table/tree.js'
import { ptCursorRules } from './page_table/cursor.js'
import { vmSpaceInvariants, vmSpaceUmbrellas } from './vm_space/invariants.js'
import { vmSpaceOwnerRules } from './vm_space/owner.js'
import { vmSpaceEnsRules } from './vm_space/vm_space.js'
import { embeddingRules, embeddingUmbrellas } from './embedding/index.js'

/** Built once: assembling ~730 rules costs ~0.4 ms, paid by every `History` otherwise. */
let assembled: RuleRegistry | null = null

/** A fresh registry of every rule of the model (a copy: the caller may add rules to it). */
export function defaultRegistry(): RuleRegistry {
  assembled ??= assemble()
  return assembled.copy()
}

function assemble(): RuleRegistry {
  return new RuleRegistry()
    .addAll(requirementRules(EVENT_SPECS, DIGEST_SUMMARIES))
    .addAll(slotInvariants)
    .addAll(slotUmbrellas)
    .addAll(storeInvariants)
    .addAll(storeUmbrellas)
    .addAll(metaEnsRules)
    .addAll(frameEnsRules)
    .addAll(frameAllocRules)
    .addAll(uniqueRules)
    .addAll(segmentRules)
    .addAll(linkedListRules)
    .addAll(ioRules)
    .addAll(ptNodeRules)
    .addAll(ptEntryRules)
    .addAll(ptEntryCompositeRules)
    .addAll(ptHandleRules)
    .addAll(ptViewRules)
    .addAll(bootPtRules)
    .addAll(ptTreeRules)
    .addAll(ptCursorRules)
    .addAll(vmSpaceInvariants)
    .addAll(vmSpaceUmbrellas)
    .addAll(vmSpaceOwnerRules)
    .addAll(vmSpaceEnsRules)
    .addAll(embeddingRules)
    .addAll(embeddingUmbrellas)
}
