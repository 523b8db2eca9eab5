/** Vitest config of the mutation test alone (Stryker's test command; see stryker.config.mjs). */
import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/mutation/checker_only.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    pool: 'threads',
  },
})
