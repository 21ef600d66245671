import { describe, expect, it } from 'vitest';
import { testApp } from './helpers/app.js';

describe('startup after a crash', () => {
  // Under load, reopening RocksDB after a SIGKILL took over Fastify's default 10 s plugin timeout and the
  // process exited with AVV_ERR_PLUGIN_EXEC_TIMEOUT (found by the chaos suite, docs/testing.md).
  // Upgrading a 0.1.0 data directory at start takes minutes too; HERALD_DB_CONNECT_TIMEOUT bounds the open.
  it('sets no plugin deadline, so neither a slow reopen nor a storage upgrade stops the start', async () => {
    const app = await testApp({ HERALD_DB_CONNECT_TIMEOUT: '45s' });
    try {
      expect(app.initialConfig.pluginTimeout).toBe(0);
    } finally {
      await app.close();
    }
  });
});
