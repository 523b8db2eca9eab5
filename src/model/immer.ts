/**
 * The one immer instance reducers use. Auto-freeze is on by default (tests and interactive use
 * see frozen snapshots, so an accidental mutation throws); the replay engine turns it off for
 * speed with `setSnapshotFreezing(false)`.
 */
import { Immer } from 'immer'

const immer = new Immer({ autoFreeze: true })
let freezing = true

export const produce = immer.produce.bind(immer) as Immer['produce']

export function setSnapshotFreezing(on: boolean): void {
  freezing = on
  immer.setAutoFreeze(on)
}

export function snapshotFreezing(): boolean {
  return freezing
}

export { original, current, isDraft, type Draft } from 'immer'
