/**
 * Every environment variable Herald reads, each declared once. The entry's place in this tree is where its
 * value lands in the typed `Config` (`db.rocksdb.blockCacheSize`); the env schema (`EnvSchema`), `Config`'s
 * type, the parser and README.md's configuration table all derive from it.
 *
 * To add a variable:
 * 1. Add one line where its value belongs (or a new group object), using the kind that reads it:
 *      `exampleMs: duration('HERALD_EXAMPLE_INTERVAL', '1s', 'How often … (`0` = never)', { floor: 1 }),`
 *    Kinds (./kinds.ts): `integer`, `duration` (→ ms), `bytes`, `flag` (→ boolean), `choice`, and `text`
 *    (optionally with a pattern and a parser for anything else). `{ minimum, maximum }` refuse a value out
 *    of range; `{ floor }` raises a smaller one to it. The doc is one line of Markdown: the README row.
 * 2. `npm run docs:config` rewrites README.md's table; test/readme.test.ts fails until you do.
 * 3. Read it where it is used: `app.config.feed.pollMs`.
 */
import { bytes, choice, duration, flag, integer, text } from './kinds.js';
import { API_KEYS_PATTERN, parseAllowHosts, parseApiKeys, parseHeapThreshold } from './parsers.js';
import { parseDuration } from '../lib/duration.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const DURATIONS = '\\d+(\\.\\d+)?(ms|s|m|h|d)';

export const entries = {
  port: integer('PORT', '8080', 'HTTP port', { maximum: 65535 }),
  host: text('HOST', '0.0.0.0', 'Listen address', { minLength: 1 }),
  logLevel: choice('LOG_LEVEL', LOG_LEVELS, 'info', 'pino log level (`fatal` … `trace`, `silent`)'),
  db: {
    url: text('HERALD_DB_URL', 'rocksdb://./data/herald', 'SurrealDB endpoint: `rocksdb://path`, `surrealkv://path`, `mem://`, `ws(s)://host:port`', {
      pattern: '^(mem://|rocksdb://|surrealkv://|ws://|wss://|http://|https://)',
      expected: 'must start with mem://, rocksdb://, surrealkv://, ws://, wss://, http:// or https://',
    }),
    namespace: text('HERALD_DB_NS', 'herald', 'SurrealDB namespace', { minLength: 1 }),
    database: text('HERALD_DB_DB', 'herald', 'SurrealDB database', { minLength: 1 }),
    username: text('HERALD_DB_USER', '', 'SurrealDB user (remote only)'),
    password: text('HERALD_DB_PASS', '', 'SurrealDB password (remote only)'),
    connectTimeoutMs: duration('HERALD_DB_CONNECT_TIMEOUT', '10s', 'Give up opening the database after this long', { floor: 1 }),
    rocksdb: {
      writeBufferSize: bytes('HERALD_ROCKSDB_WRITE_BUFFER_SIZE', '16MiB', 'Embedded RocksDB: size of one memtable (bytes, or `KiB`/`MiB`/`GiB`); a `SURREAL_ROCKSDB_*` variable you set wins ([docs/deployment.md](docs/deployment.md#memory))', { minimum: 1 }),
      maxWriteBufferNumber: integer('HERALD_ROCKSDB_MAX_WRITE_BUFFER_NUMBER', '2', 'Embedded RocksDB: most memtables held in memory', { minimum: 1 }),
      blockCacheSize: bytes('HERALD_ROCKSDB_BLOCK_CACHE_SIZE', '32MiB', 'Embedded RocksDB: block cache size; at least `WRITE_BUFFER_SIZE × MAX_WRITE_BUFFER_NUMBER` (a smaller one stalled the engine: [docs/deployment.md](docs/deployment.md#memory))'),
    },
  },
  apiKeys: text('HERALD_API_KEYS', '', '`key:scope+scope,key2:scope`; empty serves loopback clients only', {
    pattern: API_KEYS_PATTERN,
    expected: 'must be a comma list of key:scope+scope, each scope publish, read or admin',
  }, parseApiKeys),
  bodyLimit: integer('HERALD_BODY_LIMIT', '1048576', 'Max bytes of a `POST /events` body (413 above)', { minimum: 1024 }),
  batchBodyLimit: integer('HERALD_BATCH_BODY_LIMIT', '16777216', 'Max bytes of a `POST /events/batch` body', { minimum: 1024 }),
  commit: {
    maxEvents: integer('HERALD_COMMIT_MAX_EVENTS', '256', 'Group commit: most events per transaction, at most 4096 (a batch request is never split)', { floor: 1 }),
    adaptiveWindowMs: duration('HERALD_COMMIT_ADAPTIVE_WINDOW', '2ms', 'While publishes arrive at most this far apart, wait about one gap for the next before a transaction that is not full, so a steady stream of single-event publishes commits in groups (`0` = off; see [docs/storage.md](docs/storage.md#the-committer-srceventscommitterts))'),
    windowMs: duration('HERALD_COMMIT_WINDOW', '0', 'Wait this long for more events before each transaction that is not full (0 = commit at once)'),
  },
  ws: {
    maxBufferBytes: integer('HERALD_WS_MAX_BUFFER', '1048576', 'WebSocket: unsent bytes a client may fall behind before it is closed with 4000', { minimum: 1 }),
    maxMessageBytes: integer('HERALD_WS_MAX_MESSAGE', '1048576', 'WebSocket: largest client message in bytes (4503 above)', { minimum: 64 }),
    pingIntervalMs: duration('HERALD_WS_PING_INTERVAL', '25s', 'WebSocket: ping every client this often', { floor: 1 }),
    pongTimeoutMs: duration('HERALD_WS_PONG_TIMEOUT', '10s', 'WebSocket: drop a client that has not answered a ping within this', { floor: 1 }),
    maxBadMessages: integer('HERALD_WS_MAX_BAD_MESSAGES', '10', 'WebSocket: invalid messages tolerated per 10 s before closing with 1008'),
    maxSubscriptions: integer('HERALD_WS_MAX_SUBSCRIPTIONS', '100', 'WebSocket: subscriptions one socket may hold; a subscribe beyond it gets `too_many_subscriptions`', { minimum: 1 }),
    maxInboxMessages: integer('HERALD_WS_MAX_INBOX', '64', 'WebSocket: client messages waiting to be handled before the server stops reading that socket', { minimum: 1 }),
    maxInboxBytes: integer('HERALD_WS_MAX_INBOX_BYTES', '4194304', 'WebSocket: bytes of client messages waiting to be handled before the server stops reading that socket', { minimum: 1 }),
  },
  sse: {
    heartbeatMs: duration('HERALD_SSE_HEARTBEAT', '15s', 'Server-Sent Events: write a `: heartbeat` comment this often, so proxies keep an idle stream open ([docs/streaming.md](docs/streaming.md))', { floor: 1 }),
    retryMs: duration('HERALD_SSE_RETRY', '1s', 'Server-Sent Events: the `retry:` delay a stream tells the browser to wait before reconnecting', { floor: 1 }),
  },
  feed: {
    pollMs: duration('HERALD_FEED_POLL_INTERVAL', '250ms', 'How often each process\'s live feed reads the seq counter and any segment committed past its position ([docs/storage.md](docs/storage.md#the-live-feed-srcstreamlive-feedts))', { floor: 1 }),
    liveQuery: text('HERALD_LIVE_QUERY', 'on', '`off` runs the live feed without its LIVE query, tailing the store every `HERALD_FEED_POLL_INTERVAL` — for a SurrealDB cluster ([docs/deployment.md](docs/deployment.md))', {
      pattern: '^(on|off)$',
      expected: 'must be on or off',
    }, (v) => v === 'on'),
  },
  cleanup: {
    intervalMs: duration('HERALD_CLEANUP_INTERVAL', '1h', 'How often expired events and retention are purged (`0` = never)'),
    retentionMs: duration('HERALD_RETENTION', '0', 'Delete events received longer ago than this (`0` = keep forever)'),
    retentionMaxEvents: integer('HERALD_RETENTION_MAX_EVENTS', '0', 'Keep at least this many newest events, rounded up to whole segments: retention deletes whole segments only (`0` = unlimited)'),
  },
  shutdownTimeoutMs: duration('HERALD_SHUTDOWN_TIMEOUT', '10s', 'Graceful shutdown deadline before the process exits anyway'),
  webhooks: {
    allowPrivate: flag('HERALD_WEBHOOK_ALLOW_PRIVATE', 'false', 'Allow webhook callbacks to loopback/private addresses (checked at registration and at connect time); link-local and cloud metadata addresses stay refused unless `HERALD_WEBHOOK_ALLOW_HOSTS` lists them'),
    allowHosts: text('HERALD_WEBHOOK_ALLOW_HOSTS', '', 'Comma list of hostnames, addresses or CIDR ranges (`hooks.internal,10.1.0.0/16`) webhooks may reach although private; `127.0.0.1,localhost` is the safe way to test locally', {
      pattern: '^$|^[^,\\s]+(,[^,\\s]+)*$',
      expected: 'must be a comma list of hostnames, addresses or CIDR ranges, without spaces',
    }, parseAllowHosts),
    timeoutMs: duration('HERALD_WEBHOOK_TIMEOUT', '30s', 'Webhook request timeout; any 2xx within it is a success', { floor: 1 }),
    secretOverlapMs: duration('HERALD_WEBHOOK_SECRET_OVERLAP', '24h', 'After a secret rotation the old secret keeps signing this long'),
    retryScheduleMs: text('HERALD_RETRY_SCHEDULE', '5s,5m,30m,2h,5h,10h,10h', 'Webhook retry delays after the 1st, 2nd, … failed attempt (±20% jitter; an event\'s `max_retries` caps the count)', {
      pattern: `^${DURATIONS}(,${DURATIONS})*$`,
      expected: 'must be a comma list of durations such as 5s,5m,2h',
    }, (t) => t.split(',').map(parseDuration)),
    maxRetryAfterMs: duration('HERALD_WEBHOOK_MAX_RETRY_AFTER', '1h', 'Longest `Retry-After` (on 429/503) honoured; a longer one is cut to this'),
    worker: flag('HERALD_WEBHOOK_WORKER', 'true', 'Run the delivery worker in this process (`false`: this replica only records deliveries)'),
    concurrency: integer('HERALD_WEBHOOK_CONCURRENCY', '64', 'Webhook requests in flight per process, first attempts and retries together (also the most keep-alive connections per origin)', { floor: 1 }),
    perSubscription: integer('HERALD_WEBHOOK_SUBSCRIPTION_CONCURRENCY', '16', 'Webhook requests in flight per subscription and process', { floor: 1 }),
    leaseMs: duration('HERALD_WEBHOOK_LEASE', '30s', 'A subscription\'s cursor, and a claimed retry, is leased to one replica this long, renewed every lease/3; a crashed replica\'s subscriptions and retries are taken over after it', { floor: 1 }),
    pollMs: duration('HERALD_WEBHOOK_POLL', '500ms', 'An idle worker looks for due deliveries this often (a publish in the same process wakes first attempts at once; a manual retry or replay wakes retries)', { floor: 1 }),
    disableAfterMs: duration('HERALD_WEBHOOK_DISABLE_AFTER', '5d', 'Disable a subscription whose deliveries have failed continuously this long (`0` = never)'),
    circuitFailures: integer('HERALD_WEBHOOK_CIRCUIT_FAILURES', '10', 'Consecutive failed attempts that open a subscription\'s circuit: no requests until a cool-down passes, then one probe ([docs/webhooks.md](docs/webhooks.md#endpoint-health), `0` = never)'),
    circuitCoolDownMs: duration('HERALD_WEBHOOK_CIRCUIT_COOLDOWN', '30s', 'First cool-down of an open circuit; it doubles each time a probe fails', { floor: 1 }),
    circuitMaxCoolDownMs: duration('HERALD_WEBHOOK_CIRCUIT_MAX_COOLDOWN', '10m', 'Longest cool-down of an open circuit', { floor: 1 }),
    maxPauseMs: duration('HERALD_WEBHOOK_MAX_PAUSE', '5m', 'Longest pause of a whole endpoint that a `Retry-After` on 429/503 may ask for; a longer one is cut to this (`0` = never pause the endpoint)'),
    retentionMs: duration('HERALD_DELIVERY_RETENTION', '30d', 'Delete delivered, failed and expired deliveries (with their attempts) settled longer ago than this, every `HERALD_CLEANUP_INTERVAL` (`0` = keep forever)'),
  },
  rateLimit: {
    publish: integer('HERALD_RATE_LIMIT_PUBLISH', '1000', 'Publish requests per second per API key, or per client address without keys; a batch and a WebSocket `publish` message count once each; 429 above ([limits](docs/operations.md#rate-limits-and-load-shedding), `0` = off)'),
    read: integer('HERALD_RATE_LIMIT_READ', '200', 'Read and admin requests per second per API key, or per client address without keys, WebSocket upgrades included (`0` = off)'),
  },
  shedding: {
    maxEventLoopDelayMs: duration('HERALD_SHED_EVENT_LOOP_DELAY', '1s', 'Answer 503 `overloaded` while the mean event-loop delay over the last second is above this; probes still answer (`0` = off)'),
    maxHeapUsedBytes: text('HERALD_SHED_HEAP_USED', '90%', 'Answer 503 `overloaded` while the V8 heap in use is above this: bytes (`KiB`/`MiB`/`GiB`) or a percentage of the heap limit (`0` = off)', {
      pattern: '^(\\d+(KiB|MiB|GiB)?|\\d{1,2}%)$',
      expected: 'must be bytes (optionally KiB, MiB or GiB) or a percentage such as 90%',
    }, parseHeapThreshold),
  },
  metrics: flag('HERALD_METRICS', 'true', 'Serve Prometheus metrics at `GET /metrics` (admin scope; [docs/operations.md](docs/operations.md#metrics))'),
  otel: {
    sdkDisabled: flag('OTEL_SDK_DISABLED', 'false', 'OpenTelemetry: `true` keeps tracing off whatever else is set'),
    tracesExporter: choice('OTEL_TRACES_EXPORTER', ['', 'otlp', 'console', 'none'], '', 'OpenTelemetry: `otlp` or `console` turns tracing on; empty means `otlp` when an OTLP endpoint is set, else off ([docs/operations.md](docs/operations.md#tracing))'),
    endpoint: text('OTEL_EXPORTER_OTLP_ENDPOINT', '', 'OpenTelemetry: OTLP/HTTP base URL (`http://collector:4318`); setting it turns tracing on. The SDK reads the other `OTEL_*` variables itself'),
    tracesEndpoint: text('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', '', 'OpenTelemetry: full OTLP/HTTP traces URL; setting it turns tracing on'),
  },
  subscriptions: {
    inactiveAfterMs: duration('HERALD_SUBSCRIPTION_INACTIVE_AFTER', '7d', 'Deactivate a subscription with no delivery for this long, checked every `HERALD_CLEANUP_INTERVAL` (`0` = never)'),
    refreshMs: duration('HERALD_SUBSCRIPTION_REFRESH', '1s', 'How often a replica checks for subscription changes made through other replicas', { floor: 1 }),
  },
};
