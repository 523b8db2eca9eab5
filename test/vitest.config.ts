import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // A guard against hangs, not a speed target (those live in `npm run bench`): full-mode property runs are slow by design.
    testTimeout: 600_000,
    pool: 'threads',
  },
})
