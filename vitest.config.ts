import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Files that run one at a time, after everything else, in a process the shared files never used:
 * store-options checks what a server does with the RocksDB settings in its environment (an in-process engine
 * writes them to process.env), client-package installs and imports a packed tarball, and the rest assert
 * liveness or kill -9 recovery within deadlines that a second test file competing for the two CPUs would
 * make flaky.
 */
const alone = [
  'test/store-options.test.ts',
  'test/client-package.test.ts',
  'test/fuzz/http.test.ts',
  'test/fuzz/ws.test.ts',
  'test/chaos/chaos.test.ts',
  'test/webhooks-crash.test.ts',
];

/**
 * With HERALD_TESTS=portable (CI's second Node version) these are left out: their subject is not Node (the
 * real-browser pages run Chromium, the documentation's examples the shell), or they are seeded fuzz and chaos
 * runs and the 0.1.0 data upgrade, which one Node version covers. Everything else runs on every version.
 */
const onceOnly = process.env.HERALD_TESTS === 'portable'
  ? ['test/browser/**/*.browser.test.ts', 'test/docs-examples.test.ts', 'test/fuzz/**', 'test/chaos/**', 'test/upgrade-v1*.test.ts']
  : [];

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
    projects: [
      {
        test: {
          ...shared,
          name: 'shared',
          include: ['test/**/*.test.ts'],
          exclude: [...alone, ...onceOnly],
          // Each file in a fresh process (vitest's default; the forks pool reads `isolate` from the root only).
          // Most files wait on I/O (servers, sockets, browsers), so two run at a time even on two cores.
          sequence: { groupOrder: 0 },
        },
      },
      { test: { ...shared, name: 'alone', include: alone, exclude: onceOnly, poolOptions: { forks: { singleFork: true } }, sequence: { groupOrder: 1 } } },
    ],
    maxWorkers: Math.max(2, availableParallelism() - 1),
    minWorkers: 1,
  },
});
