import { defineConfig } from 'vitest/config'

// Each package (and the cross-package suites in test/) is a vitest project with
// its own vitest.config.ts; adding a package needs no change here.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'test/vitest.config.{ts,mts}', 'bench/vitest.config.{ts,mts}'],
  },
})
