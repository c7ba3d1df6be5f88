import { defineProject } from 'vitest/config'

/**
 * The project config every package uses. Workspace packages resolve to their
 * TypeScript sources through the "@tollgate/source" export condition, so tests
 * never need a build first.
 */
export function project(name: string, overrides: { testTimeout?: number; hookTimeout?: number } = {}) {
  return defineProject({
    resolve: { conditions: ['@tollgate/source'] },
    ssr: { resolve: { conditions: ['@tollgate/source'] } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      // Type tests run against the package's own tsconfig (sources + tests), not the whole repo.
      typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
      ...overrides,
    },
  })
}
