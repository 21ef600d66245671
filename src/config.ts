import { Type, type Static } from '@sinclair/typebox';
import { Value, ValuePointer } from '@sinclair/typebox/value';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { parseDuration } from './lib/duration.js';
import { unbracket } from './lib/host-name.js';

const DURATION = '^(0|\\d+(\\.\\d+)?(ms|s|m|h|d))$';
const duration = (def: string, description: string) =>
  Type.String({ pattern: DURATION, default: def, description });
const integer = (def: string, description: string) =>
  Type.String({ pattern: '^\\d+$', default: def, description });
const bytes = (def: string, description: string) =>
  Type.String({ pattern: '^\\d+(KiB|MiB|GiB)?$', default: def, description });

/** Every environment variable Herald reads, with its default. The README's table mirrors this schema. */
export const EnvSchema = Type.Object({
  PORT: integer('8080', 'HTTP port'),
  HOST: Type.String({ default: '0.0.0.0', minLength: 1, description: 'Listen address' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino log level' },
  ),
  HERALD_DB_URL: Type.String({
    pattern: '^(mem://|rocksdb://|surrealkv://|ws://|wss://|http://|https://)',
    default: 'rocksdb://./data/herald',
    description: 'SurrealDB endpoint: rocksdb://path, surrealkv://path, mem://, ws(s)://host:port',
  }),
  HERALD_DB_NS: Type.String({ default: 'herald', minLength: 1, description: 'SurrealDB namespace' }),
  HERALD_DB_DB: Type.String({ default: 'herald', minLength: 1, description: 'SurrealDB database' }),
  HERALD_DB_USER: Type.String({ default: '', description: 'SurrealDB user (remote only)' }),
  HERALD_DB_PASS: Type.String({ default: '', description: 'SurrealDB password (remote only)' }),
  HERALD_DB_CONNECT_TIMEOUT: duration('10s', 'Give up opening the database after this long'),
  HERALD_ROCKSDB_WRITE_BUFFER_SIZE: bytes('16MiB', 'Embedded RocksDB: size of one memtable (bytes, KiB, MiB or GiB)'),
  HERALD_ROCKSDB_MAX_WRITE_BUFFER_NUMBER: integer('2', 'Embedded RocksDB: most memtables held in memory'),
  HERALD_ROCKSDB_BLOCK_CACHE_SIZE: bytes('32MiB', 'Embedded RocksDB: block cache size (bytes, KiB, MiB or GiB)'),
  HERALD_API_KEYS: Type.String({
    default: '',
    pattern: '^$|^[^:,\\s]+:(publish|read|admin)(\\+(publish|read|admin))*(,[^:,\\s]+:(publish|read|admin)(\\+(publish|read|admin))*)*$',
    description: 'key:scope+scope,key2:scope — empty serves loopback clients only',
  }),
  HERALD_BODY_LIMIT: integer('1048576', 'Max bytes of a POST /events body'),
  HERALD_BATCH_BODY_LIMIT: integer('16777216', 'Max bytes of a POST /events/batch body'),
  HERALD_COMMIT_MAX_EVENTS: integer('256', 'Group commit: most events per transaction, at most 4096 (a batch request is never split)'),
  HERALD_COMMIT_WINDOW: duration('0', 'Group commit: wait this long for more events before each transaction that is not full (0 = commit at once)'),
  HERALD_COMMIT_ADAPTIVE_WINDOW: duration('2ms', 'Group commit: while publishes arrive at most this far apart, wait about one gap for the next before a transaction that is not full (0 = off)'),
  HERALD_FEED_POLL_INTERVAL: duration('250ms', 'Live stream: how often the feed reads the seq counter and the segments committed past its position'),
  HERALD_LIVE_QUERY: Type.Union([Type.Literal('on'), Type.Literal('off')], {
    default: 'on',
    description: 'Live stream: off runs without the LIVE query, tailing the store every HERALD_FEED_POLL_INTERVAL (for a SurrealDB cluster)',
  }),
  HERALD_WS_MAX_BUFFER: integer('1048576', 'WebSocket: unsent bytes a client may fall behind before it is closed with 4000'),
  HERALD_WS_MAX_MESSAGE: integer('1048576', 'WebSocket: largest client message in bytes (4503 above)'),
  HERALD_WS_PING_INTERVAL: duration('25s', 'WebSocket: ping every client this often'),
  HERALD_WS_PONG_TIMEOUT: duration('10s', 'WebSocket: drop a client that has not answered a ping within this'),
  HERALD_WS_MAX_BAD_MESSAGES: integer('10', 'WebSocket: invalid messages tolerated per 10 s before closing with 1008'),
  HERALD_WS_MAX_SUBSCRIPTIONS: integer('100', 'WebSocket: subscriptions one socket may hold; a subscribe beyond it gets too_many_subscriptions'),
  HERALD_WS_MAX_INBOX: integer('64', 'WebSocket: client messages waiting to be handled before the server stops reading that socket'),
  HERALD_WS_MAX_INBOX_BYTES: integer('4194304', 'WebSocket: bytes of client messages waiting to be handled before the server stops reading that socket'),
  HERALD_CLEANUP_INTERVAL: duration('1h', 'How often expired events and retention are purged (0 = never)'),
  HERALD_RETENTION: duration('0', 'Delete events received longer ago than this (0 = keep forever)'),
  HERALD_RETENTION_MAX_EVENTS: integer('0', 'Keep at most this many newest events (0 = unlimited)'),
  HERALD_SHUTDOWN_TIMEOUT: duration('10s', 'Graceful shutdown deadline before the process exits anyway'),
  HERALD_WEBHOOK_ALLOW_PRIVATE: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    default: 'false',
    description: 'Allow webhook callbacks to loopback/private addresses (link-local and cloud metadata stay refused unless listed in HERALD_WEBHOOK_ALLOW_HOSTS)',
  }),
  HERALD_WEBHOOK_ALLOW_HOSTS: Type.String({
    default: '',
    pattern: '^$|^[^,\\s]+(,[^,\\s]+)*$',
    description: 'Comma list of hostnames, addresses or CIDR ranges webhooks may reach even though they are private (the safe way to test locally: 127.0.0.1,localhost)',
  }),
  HERALD_WEBHOOK_TIMEOUT: duration('30s', 'Webhook request timeout; any 2xx within it is a success'),
  HERALD_WEBHOOK_SECRET_OVERLAP: duration('24h', 'After a secret rotation the old secret keeps signing this long'),
  HERALD_RETRY_SCHEDULE: Type.String({
    default: '5s,5m,30m,2h,5h,10h,10h',
    pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)(,\\d+(\\.\\d+)?(ms|s|m|h|d))*$',
    description: 'Webhook retry delays after the 1st, 2nd, … failed attempt (±20% jitter)',
  }),
  HERALD_WEBHOOK_MAX_RETRY_AFTER: duration('1h', 'Longest Retry-After (on 429/503) honoured; longer ones are cut to this'),
  HERALD_WEBHOOK_WORKER: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    default: 'true',
    description: 'Run the webhook delivery worker in this process (deliveries are still recorded when false)',
  }),
  HERALD_WEBHOOK_CONCURRENCY: integer('64', 'Webhook requests in flight per process'),
  HERALD_WEBHOOK_SUBSCRIPTION_CONCURRENCY: integer('16', 'Webhook requests in flight per subscription and process'),
  HERALD_WEBHOOK_LEASE: duration('30s', 'A claimed delivery is leased this long (renewed while in flight); a crashed worker\'s deliveries are retried after it'),
  HERALD_WEBHOOK_POLL: duration('500ms', 'An idle worker looks for due deliveries this often (a local publish wakes it at once)'),
  HERALD_WEBHOOK_DISABLE_AFTER: duration('5d', 'Disable a subscription whose deliveries have failed continuously this long (0 = never)'),
  HERALD_DELIVERY_RETENTION: duration('30d', 'Delete delivered, failed and expired deliveries (and their attempts) settled longer ago than this (0 = keep forever)'),
  HERALD_SUBSCRIPTION_INACTIVE_AFTER: duration('7d', 'Deactivate a subscription with no delivery for this long, checked by the cleanup loop (0 = never)'),
  HERALD_SUBSCRIPTION_REFRESH: duration('1s', 'How often a replica checks for subscription changes made by other replicas'),
});
export type Env = Static<typeof EnvSchema>;

export type Scope = 'publish' | 'read' | 'admin';

export const ConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.String(),
  logLevel: Type.String(),
  db: Type.Object({
    url: Type.String(),
    namespace: Type.String(),
    database: Type.String(),
    username: Type.String(),
    password: Type.String(),
    connectTimeoutMs: Type.Integer({ minimum: 1 }),
    rocksdb: Type.Object({
      writeBufferSize: Type.Integer({ minimum: 1 }),
      maxWriteBufferNumber: Type.Integer({ minimum: 1 }),
      blockCacheSize: Type.Integer({ minimum: 0 }),
    }),
  }),
  apiKeys: Type.Array(
    Type.Object({
      key: Type.String(),
      scopes: Type.Array(Type.Union([Type.Literal('publish'), Type.Literal('read'), Type.Literal('admin')])),
    }),
  ),
  bodyLimit: Type.Integer({ minimum: 1024 }),
  batchBodyLimit: Type.Integer({ minimum: 1024 }),
  commit: Type.Object({
    maxEvents: Type.Integer({ minimum: 1 }),
    windowMs: Type.Integer({ minimum: 0 }),
    adaptiveWindowMs: Type.Integer({ minimum: 0 }),
  }),
  feed: Type.Object({
    pollMs: Type.Integer({ minimum: 1 }),
    liveQuery: Type.Boolean(),
  }),
  ws: Type.Object({
    maxBufferBytes: Type.Integer({ minimum: 1 }),
    maxMessageBytes: Type.Integer({ minimum: 64 }),
    pingIntervalMs: Type.Integer({ minimum: 1 }),
    pongTimeoutMs: Type.Integer({ minimum: 1 }),
    maxBadMessages: Type.Integer({ minimum: 0 }),
    maxSubscriptions: Type.Integer({ minimum: 1 }),
    maxInboxMessages: Type.Integer({ minimum: 1 }),
    maxInboxBytes: Type.Integer({ minimum: 1 }),
  }),
  cleanup: Type.Object({
    intervalMs: Type.Integer({ minimum: 0 }),
    retentionMs: Type.Integer({ minimum: 0 }),
    retentionMaxEvents: Type.Integer({ minimum: 0 }),
  }),
  shutdownTimeoutMs: Type.Integer({ minimum: 0 }),
  webhooks: Type.Object({
    allowPrivate: Type.Boolean(),
    allowHosts: Type.Array(Type.String()),
    timeoutMs: Type.Integer({ minimum: 1 }),
    retryScheduleMs: Type.Array(Type.Integer({ minimum: 0 })),
    maxRetryAfterMs: Type.Integer({ minimum: 0 }),
    secretOverlapMs: Type.Integer({ minimum: 0 }),
    worker: Type.Boolean(),
    concurrency: Type.Integer({ minimum: 1 }),
    perSubscription: Type.Integer({ minimum: 1 }),
    leaseMs: Type.Integer({ minimum: 1 }),
    pollMs: Type.Integer({ minimum: 1 }),
    disableAfterMs: Type.Integer({ minimum: 0 }),
    retentionMs: Type.Integer({ minimum: 0 }),
  }),
  subscriptions: Type.Object({
    inactiveAfterMs: Type.Integer({ minimum: 0 }),
    refreshMs: Type.Integer({ minimum: 1 }),
  }),
});
export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {}

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = {};
  for (const name of Object.keys(EnvSchema.properties)) {
    const value = source[name];
    if (value !== undefined && value !== '') picked[name] = value;
  }
  const env = Value.Default(EnvSchema, picked) as Env;
  const problems = [...Value.Errors(EnvSchema, env)].map((e) => {
    const name = e.path.slice(1);
    const expected = (EnvSchema.properties as Record<string, { description?: string }>)[name]?.description;
    return `${name}=${JSON.stringify(ValuePointer.Get(env, e.path))}: ${e.message}${expected ? ` (${expected})` : ''}`;
  });
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);

  const port = Number(env.PORT);
  if (port > 65535) throw new ConfigError(`invalid configuration:\n  PORT=${env.PORT}: must be at most 65535`);
  const allowHosts = env.HERALD_WEBHOOK_ALLOW_HOSTS === '' ? [] : env.HERALD_WEBHOOK_ALLOW_HOSTS.split(',');
  const badRange = allowHosts.find((entry) => entry.includes('/') && !ipaddr.isValidCIDR(entry));
  if (badRange !== undefined) throw new ConfigError(`invalid configuration:\n  HERALD_WEBHOOK_ALLOW_HOSTS: ${badRange} is not a CIDR range`);
  // An entry with a port (127.0.0.1:9000) or a scheme would never match a target and fail silently.
  const badEntry = allowHosts.find((entry) => !entry.includes('/') && !isIP(unbracket(entry)) && !HOSTNAME.test(entry));
  if (badEntry !== undefined) {
    throw new ConfigError(`invalid configuration:\n  HERALD_WEBHOOK_ALLOW_HOSTS: ${JSON.stringify(badEntry)} is not a hostname, an IP address or a CIDR range (no port or scheme: ports are not part of the rule)`);
  }
  const config: Config = {
    port,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    db: {
      url: env.HERALD_DB_URL,
      namespace: env.HERALD_DB_NS,
      database: env.HERALD_DB_DB,
      username: env.HERALD_DB_USER,
      password: env.HERALD_DB_PASS,
      connectTimeoutMs: Math.max(1, parseDuration(env.HERALD_DB_CONNECT_TIMEOUT)),
      rocksdb: {
        writeBufferSize: parseBytes(env.HERALD_ROCKSDB_WRITE_BUFFER_SIZE),
        maxWriteBufferNumber: Number(env.HERALD_ROCKSDB_MAX_WRITE_BUFFER_NUMBER),
        blockCacheSize: parseBytes(env.HERALD_ROCKSDB_BLOCK_CACHE_SIZE),
      },
    },
    apiKeys: parseApiKeys(env.HERALD_API_KEYS),
    bodyLimit: Number(env.HERALD_BODY_LIMIT),
    batchBodyLimit: Number(env.HERALD_BATCH_BODY_LIMIT),
    commit: {
      maxEvents: Math.max(1, Number(env.HERALD_COMMIT_MAX_EVENTS)),
      windowMs: parseDuration(env.HERALD_COMMIT_WINDOW),
      adaptiveWindowMs: parseDuration(env.HERALD_COMMIT_ADAPTIVE_WINDOW),
    },
    feed: {
      pollMs: Math.max(1, parseDuration(env.HERALD_FEED_POLL_INTERVAL)),
      liveQuery: env.HERALD_LIVE_QUERY === 'on',
    },
    ws: {
      maxBufferBytes: Number(env.HERALD_WS_MAX_BUFFER),
      maxMessageBytes: Number(env.HERALD_WS_MAX_MESSAGE),
      pingIntervalMs: Math.max(1, parseDuration(env.HERALD_WS_PING_INTERVAL)),
      pongTimeoutMs: Math.max(1, parseDuration(env.HERALD_WS_PONG_TIMEOUT)),
      maxBadMessages: Number(env.HERALD_WS_MAX_BAD_MESSAGES),
      maxSubscriptions: Number(env.HERALD_WS_MAX_SUBSCRIPTIONS),
      maxInboxMessages: Number(env.HERALD_WS_MAX_INBOX),
      maxInboxBytes: Number(env.HERALD_WS_MAX_INBOX_BYTES),
    },
    cleanup: {
      intervalMs: parseDuration(env.HERALD_CLEANUP_INTERVAL),
      retentionMs: parseDuration(env.HERALD_RETENTION),
      retentionMaxEvents: Number(env.HERALD_RETENTION_MAX_EVENTS),
    },
    shutdownTimeoutMs: parseDuration(env.HERALD_SHUTDOWN_TIMEOUT),
    webhooks: {
      allowPrivate: env.HERALD_WEBHOOK_ALLOW_PRIVATE === 'true',
      allowHosts,
      timeoutMs: Math.max(1, parseDuration(env.HERALD_WEBHOOK_TIMEOUT)),
      retryScheduleMs: env.HERALD_RETRY_SCHEDULE.split(',').map(parseDuration),
      maxRetryAfterMs: parseDuration(env.HERALD_WEBHOOK_MAX_RETRY_AFTER),
      secretOverlapMs: parseDuration(env.HERALD_WEBHOOK_SECRET_OVERLAP),
      worker: env.HERALD_WEBHOOK_WORKER === 'true',
      concurrency: Math.max(1, Number(env.HERALD_WEBHOOK_CONCURRENCY)),
      perSubscription: Math.max(1, Number(env.HERALD_WEBHOOK_SUBSCRIPTION_CONCURRENCY)),
      leaseMs: Math.max(1, parseDuration(env.HERALD_WEBHOOK_LEASE)),
      pollMs: Math.max(1, parseDuration(env.HERALD_WEBHOOK_POLL)),
      disableAfterMs: parseDuration(env.HERALD_WEBHOOK_DISABLE_AFTER),
      retentionMs: parseDuration(env.HERALD_DELIVERY_RETENTION),
    },
    subscriptions: {
      inactiveAfterMs: parseDuration(env.HERALD_SUBSCRIPTION_INACTIVE_AFTER),
      refreshMs: Math.max(1, parseDuration(env.HERALD_SUBSCRIPTION_REFRESH)),
    },
  };
  const configProblems = [...Value.Errors(ConfigSchema, config)].map((e) => `${e.path}: ${e.message}`);
  if (configProblems.length > 0) throw new ConfigError(`invalid configuration:\n  ${configProblems.join('\n  ')}`);
  return config;
}

const BYTE_UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

function parseBytes(text: string): number {
  const [, digits = '0', unit = ''] = /^(\d+)(\D*)$/.exec(text) ?? [];
  return Number(digits) * (BYTE_UNITS[unit] ?? 1);
}

function parseApiKeys(text: string): Config['apiKeys'] {
  if (text === '') return [];
  return text.split(',').map((entry) => {
    const [key, scopes] = entry.split(':') as [string, string];
    return { key, scopes: [...new Set(scopes.split('+'))] as Scope[] };
  });
}
