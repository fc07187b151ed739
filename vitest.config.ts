import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One config for every package. Tests import workspace packages from source so `npm test`
// does not depend on a fresh build; binaries spawned by integration tests use dist/ (built by `prepare`).
const src = (pkg: string) => fileURLToPath(new URL(`./${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      // Subpath entries first: the console imports these without the rest of the protocol package.
      '@cityflow/protocol/congestion': fileURLToPath(
        new URL('./protocol/src/congestion.ts', import.meta.url),
      ),
      '@cityflow/protocol/roles': fileURLToPath(new URL('./protocol/src/roles.ts', import.meta.url)),
      '@cityflow/protocol': src('protocol'),
      '@cityflow/forecast': src('forecast'),
      '@cityflow/hub': src('hub'),
      '@cityflow/edge-agent': src('edge-agent'),
      '@cityflow/simulator': src('simulator'),
    },
  },
  test: {
    include: ['*/test/**/*.test.ts', 'deploy/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
