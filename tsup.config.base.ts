import { defineConfig, type Options } from 'tsup'

/**
 * The one build every published package uses: ESM + CJS, each with its own
 * declaration file, so `exports` can point `import` and `require` at matching
 * types (checked by publint and attw in CI).
 */
export function packageBuild(overrides: Options = {}): ReturnType<typeof defineConfig> {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    ...overrides,
  })
}
