/** Every firing case, by module. */
import type { FiringCase } from '../harness.js'
import { frameCases } from './frame.js'
import { ioCases } from './io.js'
import { linkedListCases } from './linked_list.js'
import { ptEntryCases } from './pt_entry.js'
import { ptNodeCases } from './pt_node.js'
import { ptViewCases } from './pt_view.js'
import { ptBootCases } from './pt_boot.js'
import { segmentCases } from './segment.js'
import { uniqueCases } from './unique.js'
import { ptTreeCases } from './pt_tree.js'
import { ptCompositeCases } from './pt_composite.js'
import { ptCursorCases } from './pt_cursor.js'
import { vmSpaceCases } from './vm_space.js'
import { traceCases } from './trace.js'
import { embeddingCases } from './embedding.js'

export const ALL_CASES: readonly FiringCase[] = [...frameCases, ...uniqueCases, ...segmentCases, ...linkedListCases, ...ioCases, ...ptNodeCases, ...ptEntryCases, ...ptTreeCases, ...ptCompositeCases, ...ptViewCases, ...ptBootCases, ...ptCursorCases, ...traceCases, ...vmSpaceCases, ...embeddingCases]
