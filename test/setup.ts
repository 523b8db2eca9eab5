// Tests see frozen snapshots: an accidental mutation of a snapshot throws.
import { setSnapshotFreezing } from '../src/model/immer.js'

setSnapshotFreezing(true)
