// Mutation testing of the reducers, judged by the checker alone (issue 7; QUALITY.md).
// `npm run mutation` mutates every reducer; a subset: `npm run mutation -- --mutate reducers/frame/frame.ts`.
// The test command is test/mutation/checker_only.test.ts (fixed valid histories, full-vs-incremental
// note there), through the vitest runner with per-test coverage: a mutant runs only the histories
// that execute its code. Concurrency 1: the machine's two cores are shared.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  coverageAnalysis: 'perTest',
  mutate: ['reducers/**/*.ts'],
  // Module-level mutants (schemas, constant tables) would run every history for each: skipped, and counted as ignored.
  ignoreStatic: true,
  concurrency: 1,
  timeoutMS: 60_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  thresholds: { high: 95, low: 80, break: null },
}
