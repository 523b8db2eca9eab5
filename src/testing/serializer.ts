/**
 * A snapshot serializer for `SnapshotDiff`s (`expect.addSnapshotSerializer(diffSerializer)`): a diff
 * in a snapshot is its text (src/log/diff_render.ts), which is stable between runs and reads as a
 * review of the change.
 */
import { isSnapshotDiff } from '../log/diff.js'
import { renderDiff, type RenderOptions } from '../log/diff_render.js'

/** The shape vitest (pretty-format) takes for a serializer plugin. */
export interface DiffSerializer {
  test(value: unknown): boolean
  serialize(value: unknown, config: unknown, indentation: string): string
}

/** A serializer printing diffs with the given render options (structural paths included by default). */
export function createDiffSerializer(options: RenderOptions = {}): DiffSerializer {
  return {
    test: (value) => isSnapshotDiff(value),
    serialize: (value, _config, indentation) => {
      if (!isSnapshotDiff(value)) throw new TypeError('diffSerializer: not a SnapshotDiff')
      return renderDiff(value, options).split('\n').join(`\n${indentation}`)
    },
  }
}

/** The default diff serializer. */
export const diffSerializer: DiffSerializer = createDiffSerializer()
