import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { ConfigError, EnvSchema, loadConfig, variables } from '../src/config.js';
import { parseDuration } from '../src/lib/duration.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.db.url).toBe('rocksdb://./data/herald');
    expect(config.apiKeys).toEqual([]);
    expect(config.webhooks).toEqual({
      allowPrivate: false, allowHosts: [], timeoutMs: 30_000, retryScheduleMs: [5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 36e6],
      maxRetryAfterMs: 3_600_000, secretOverlapMs: 86_400_000, worker: true, concurrency: 64, perSubscription: 16,
      leaseMs: 30_000, pollMs: 500, disableAfterMs: 432_000_000, retentionMs: 2_592_000_000,
      circuitFailures: 10, circuitCoolDownMs: 30_000, circuitMaxCoolDownMs: 600_000, maxPauseMs: 300_000,
    });
    expect(config.subscriptions).toEqual({ inactiveAfterMs: 604_800_000, refreshMs: 1000 });
    expect(config.cleanup.intervalMs).toBe(3_600_000);
    expect(config.bodyLimit).toBe(1024 * 1024);
  });

  it('parses API keys and their scopes', () => {
    const config = loadConfig({ HERALD_API_KEYS: 'a:publish+read,b:admin' });
    expect(config.apiKeys).toEqual([{ key: 'a', scopes: ['publish', 'read'] }, { key: 'b', scopes: ['admin'] }]);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['HERALD_DB_URL', 'postgres://x'],
    ['HERALD_API_KEYS', 'nocolon'],
    ['HERALD_API_KEYS', 'k:write'],
    ['HERALD_RETRY_SCHEDULE', '5s,soon'],
    ['HERALD_CLEANUP_INTERVAL', '10 minutes'],
    ['HERALD_WEBHOOK_ALLOW_PRIVATE', 'yes'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrowError(new RegExp(name));
  });

  it.each([
    ['HERALD_WS_PING_INTERVAL', '5 sec', 'must be a duration such as 500ms, 5s'],
    ['HERALD_ROCKSDB_BLOCK_CACHE_SIZE', '32MB', 'must be a byte count'],
    ['LOG_LEVEL', 'loud', 'must be one of fatal, error, warn, info, debug, trace, silent'],
    ['HERALD_WEBHOOK_WORKER', 'yes', 'must be true or false'],
    ['HERALD_BODY_LIMIT', '100', 'must be >= 1024'],
    ['HERALD_WS_MAX_MESSAGE', '10', 'must be >= 64'],
    ['PORT', '70000', 'must be <= 65535'],
  ])('says what %s=%s should have been', (name, value, expected) => {
    expect(() => loadConfig({ [name]: value })).toThrowError(`${name}=${JSON.stringify(value)}: ${expected}`);
  });

  it('refuses a RocksDB block cache smaller than the memtables it must hold, as the engine sees them', () => {
    const small = { HERALD_ROCKSDB_BLOCK_CACHE_SIZE: '16MiB' };
    expect(() => loadConfig(small)).toThrowError(/HERALD_ROCKSDB_BLOCK_CACHE_SIZE \(16777216 bytes\) must be at least .* \(33554432 bytes\)/);
    expect(loadConfig({ ...small, HERALD_ROCKSDB_WRITE_BUFFER_SIZE: '8MiB' }).db.rocksdb.blockCacheSize).toBe(16 * 2 ** 20);
    expect(() => loadConfig({ ...small, HERALD_ROCKSDB_WRITE_BUFFER_SIZE: '8MiB', SURREAL_ROCKSDB_MAX_WRITE_BUFFER_NUMBER: '4' })).toThrowError(ConfigError);
    expect(loadConfig({ ...small, SURREAL_ROCKSDB_BLOCK_CACHE_SIZE: String(64 * 2 ** 20) }).db.rocksdb.blockCacheSize).toBe(16 * 2 ** 20);
    // Only the embedded RocksDB engine reads them.
    expect(loadConfig({ ...small, HERALD_DB_URL: 'mem://' }).db.url).toBe('mem://');
  });

  it('reports every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'abc', HERALD_BODY_LIMIT: '1', HERALD_WEBHOOK_ALLOW_HOSTS: 'a:80' }))
      .toThrowError(/PORT="abc".*\n.*HERALD_BODY_LIMIT="1".*\n.*HERALD_WEBHOOK_ALLOW_HOSTS/);
  });

  it('raises a floored value instead of refusing it (a 0 timeout means the shortest)', () => {
    const config = loadConfig({ HERALD_DB_CONNECT_TIMEOUT: '0', HERALD_COMMIT_MAX_EVENTS: '0', HERALD_WEBHOOK_CONCURRENCY: '0' });
    expect([config.db.connectTimeoutMs, config.commit.maxEvents, config.webhooks.concurrency]).toEqual([1, 1, 1]);
  });

  it('declares each variable once', () => {
    const names = variables().map((entry) => entry.env);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
    expect(Object.keys(EnvSchema.properties)).toEqual(names);
  });

  it('reads the rate limits and the shedding thresholds, the heap one in bytes or as a share of the V8 heap limit', () => {
    const defaults = loadConfig({});
    expect(defaults.rateLimit).toEqual({ publish: 1000, read: 200 });
    expect(defaults.shedding).toEqual({ maxEventLoopDelayMs: 1000, maxHeapUsedBytes: Math.floor(getHeapStatistics().heap_size_limit * 0.9) });
    expect(loadConfig({ HERALD_SHED_HEAP_USED: '512MiB' }).shedding.maxHeapUsedBytes).toBe(512 * 2 ** 20);
    expect(loadConfig({ HERALD_SHED_HEAP_USED: '0', HERALD_RATE_LIMIT_PUBLISH: '0' })).toMatchObject({ shedding: { maxHeapUsedBytes: 0 }, rateLimit: { publish: 0 } });
    for (const bad of ['150%', '90 %', '-1', '1.5GiB']) {
      expect(() => loadConfig({ HERALD_SHED_HEAP_USED: bad }), bad).toThrow(/HERALD_SHED_HEAP_USED/);
    }
    expect(() => loadConfig({ HERALD_RATE_LIMIT_READ: 'lots' })).toThrow(/HERALD_RATE_LIMIT_READ/);
  });

  it('documents every variable with a default and a description', () => {
    for (const [name, schema] of Object.entries(EnvSchema.properties)) {
      expect(schema.default, name).toBeDefined();
      expect(schema.description, name).toBeTruthy();
    }
  });
});

describe('parseDuration', () => {
  it.each([['500ms', 500], ['5s', 5000], ['5m', 300_000], ['2h', 7_200_000], ['7d', 604_800_000], ['0', 0], ['1.5s', 1500]])(
    '%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms),
  );
  it('rejects garbage', () => expect(() => parseDuration('5 sec')).toThrow(/invalid duration/));
});
