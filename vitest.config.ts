import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The embedded engine keeps worker processes alive after close() once an index exists (with no visible
    // handles).
    pool: 'forks',
    teardownTimeout: 5000,
    testTimeout: 30000,
    hookTimeout: 30000,
  },
});
