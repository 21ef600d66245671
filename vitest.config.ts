import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Files that need a process of their own: the embedded engine reads its RocksDB settings from the environment
 * once per process (store-options checks what a fresh process does with them), and client-package installs
 * and imports a packed tarball.
 */
const ownProcess = ['test/store-options.test.ts', 'test/client-package.test.ts'];

const shared = {
  // The embedded engine keeps worker processes alive after close() once an index exists (with no visible
  // handles); forks can be torn down where threads cannot.
  pool: 'forks' as const,
  teardownTimeout: 5000,
  testTimeout: 30000,
  hookTimeout: 30000,
};

export default defineConfig({
  test: {
    // Most files wait on I/O (spawned servers, sockets, browsers): two files at a time on two cores cut a CI
    // run from ~350 s to ~280 s (vitest's default there is one).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    minWorkers: 1,
    projects: [
      {
        // Loading Fastify, TypeBox and the engine binding per file cost ~2.5 s each (150 s of a 360 s run):
        // these files share one module graph. Each still builds its own app and database.
        test: { ...shared, name: 'shared', include: ['test/**/*.test.ts'], exclude: ownProcess, isolate: false },
      },
      { test: { ...shared, name: 'isolated', include: ownProcess } },
    ],
  },
});
