import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { rocksdbEnv } from '../src/store/connection.js';
import { cleanupServers, makeTempDir, spawnServer } from './helpers/spawn-server.js';

afterAll(cleanupServers);

/** The memtable settings RocksDB wrote to its newest OPTIONS file: what the engine actually runs with. */
function memtableOptions(dataDir: string): { writeBufferSize: number; maxWriteBufferNumber: number } {
  const newest = readdirSync(dataDir).filter((name) => name.startsWith('OPTIONS-')).sort().at(-1);
  if (!newest) throw new Error(`no OPTIONS file in ${dataDir}`);
  const text = readFileSync(join(dataDir, newest), 'utf8');
  const option = (name: string) => Number(new RegExp(`^\\s*${name}=(\\d+)$`, 'm').exec(text)?.[1]);
  return { writeBufferSize: option('write_buffer_size'), maxWriteBufferNumber: option('max_write_buffer_number') };
}

/** Starts a real server on a fresh data dir with `env`, stops it, and returns the options RocksDB recorded. */
async function optionsWith(env: Record<string, string>): Promise<{ writeBufferSize: number; maxWriteBufferNumber: number }> {
  const dataDir = join(makeTempDir('options'), 'db');
  const server = await spawnServer({ dataDir, readyTimeoutMs: 90_000, env: { LOG_LEVEL: 'warn', HERALD_CLEANUP_INTERVAL: '0', ...env } });
  await server.stop();
  return memtableOptions(dataDir);
}

// Each case boots a real server (the engine reads the variables once per process); a busy machine makes that slow.
describe('embedded RocksDB memory settings', { timeout: 120_000 }, () => {
  it('runs the engine with Herald\'s bounded memtables by default', async () => {
    expect(await optionsWith({})).toEqual({ writeBufferSize: 16 * 1024 ** 2, maxWriteBufferNumber: 2 });
  });

  it('takes HERALD_ROCKSDB_* values, but leaves a SURREAL_ROCKSDB_* variable the operator set alone', async () => {
    const options = await optionsWith({
      HERALD_ROCKSDB_WRITE_BUFFER_SIZE: '8MiB',
      HERALD_ROCKSDB_MAX_WRITE_BUFFER_NUMBER: '3',
      SURREAL_ROCKSDB_WRITE_BUFFER_SIZE: '4194304',
    });
    expect(options).toEqual({ writeBufferSize: 4 * 1024 ** 2, maxWriteBufferNumber: 3 });
  });

  it('passes every setting, the block cache too, as bytes', () => {
    const { rocksdb } = loadConfig({ HERALD_ROCKSDB_BLOCK_CACHE_SIZE: '1GiB', HERALD_ROCKSDB_WRITE_BUFFER_SIZE: '512KiB' }).db;
    expect(rocksdbEnv(rocksdb, { SURREAL_ROCKSDB_MAX_WRITE_BUFFER_NUMBER: '4' })).toEqual({
      SURREAL_ROCKSDB_WRITE_BUFFER_SIZE: String(512 * 1024),
      SURREAL_ROCKSDB_BLOCK_CACHE_SIZE: String(1024 ** 3),
    });
  });

  it('rejects a size with an unknown unit', () => {
    expect(() => loadConfig({ HERALD_ROCKSDB_BLOCK_CACHE_SIZE: '32MB' })).toThrow(/HERALD_ROCKSDB_BLOCK_CACHE_SIZE/);
  });
});
