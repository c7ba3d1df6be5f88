import { defineProject } from 'vitest/config'

// The shared project() helper assumes packages/<name>/test; this package is test/ itself.
export default defineProject({
  resolve: { conditions: ['@tollgate/source'] },
  ssr: { resolve: { conditions: ['@tollgate/source'] } },
  test: {
    name: 'conformance',
    include: ['**/*.test.ts'],
    typecheck: { enabled: true, include: ['**/*.test-d.ts'], tsconfig: '../tsconfig.json' },
  },
})
