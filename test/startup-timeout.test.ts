import { describe, expect, it } from 'vitest';
import { testApp } from './helpers/app.js';

describe('startup after a crash', () => {
  // Under load, reopening RocksDB after a SIGKILL took over Fastify's default 10 s plugin timeout and the
  // process exited with AVV_ERR_PLUGIN_EXEC_TIMEOUT (found by the chaos suite, docs/testing.md).
  it('gives the store plugin longer than the database connect timeout', async () => {
    const app = await testApp({ HERALD_DB_CONNECT_TIMEOUT: '45s' });
    try {
      expect(app.initialConfig.pluginTimeout).toBeGreaterThan(45_000);
    } finally {
      await app.close();
    }
  });
});
