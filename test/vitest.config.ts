import { configDefaults, defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    // The mutation test runs under Stryker only (`npm run mutation`: test/mutation/vitest.config.ts).
    exclude: [...configDefaults.exclude, 'test/mutation/**'],
    setupFiles: ['test/setup.ts'],
    // A guard against hangs, not a speed target (those live in `npm run bench`): full-mode property runs are slow by design.
    testTimeout: 600_000,
    pool: 'threads',
  },
})
