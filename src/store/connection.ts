import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Surreal, createRemoteEngines, type DriverContext, type SurrealEngine } from 'surrealdb';
import { NodeEngine } from '@surrealdb/node';
import type { Config } from '../config.js';
import { engineRocksdbSettings } from '../config/rocksdb-engine.js';

export class StoreOpenError extends Error {}

const EMBEDDED = ['mem', 'rocksdb', 'surrealkv'] as const;

export function isEmbedded(url: string): boolean {
  return EMBEDDED.some((scheme) => url.startsWith(`${scheme}://`));
}

/** The on-disk directory of an embedded URL (`rocksdb://./data/herald?sync=every` → `./data/herald`). */
function embeddedPath(url: string): string | null {
  const match = /^(rocksdb|surrealkv):\/\/([^?]+)/.exec(url);
  return match ? (match[2] as string) : null;
}

/**
 * The embedded engine's RocksDB memory settings as the `SURREAL_ROCKSDB_*` variables it reads, leaving out any
 * the operator set: its own defaults scale with the machine's RAM (on 24 GiB: 8 memtables of 128 MiB and a
 * block cache of half the RAM less 1 GiB), so RSS grew with write traffic towards gigabytes.
 */
export function rocksdbEnv(options: Config['db']['rocksdb'], env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.values(engineRocksdbSettings(options, env)).filter((s) => !s.setByOperator).map((s) => [s.variable, s.value]));
}

/**
 * Opens the database. The embedded engine reports a failed open (held LOCK, bad ?sync=) only through its
 * `error` event while `connect()` stays pending forever, so we race the two and a timeout.
 */
export async function openConnection(db: Config['db']): Promise<Surreal> {
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const embedded = (context: DriverContext): SurrealEngine => {
    const engine = new NodeEngine(context);
    engine.subscribe('error', (error) => fail(error));
    // @surrealdb/node's bundled typings declare `features` structurally; the runtime object is the SDK's.
    return engine as unknown as SurrealEngine;
  };
  const surreal = new Surreal({
    engines: { ...createRemoteEngines(), mem: embedded, rocksdb: embedded, surrealkv: embedded },
  });
  const path = embeddedPath(db.url);
  if (path) mkdirSync(dirname(path), { recursive: true });
  // The engine reads these once per process, when it opens its first RocksDB store.
  if (db.url.startsWith('rocksdb://')) Object.assign(process.env, rocksdbEnv(db.rocksdb, process.env));

  const timer = setTimeout(() => fail(new Error(`no answer within ${db.connectTimeoutMs} ms`)), db.connectTimeoutMs);
  try {
    await Promise.race([
      surreal.connect(db.url, {
        namespace: db.namespace,
        database: db.database,
        ...(db.username ? { authentication: { username: db.username, password: db.password } } : {}),
      }),
      failed,
    ]);
    // Remote servers need the ns/db to exist before DEFINE TABLE; embedded ones create them implicitly.
    if (!isEmbedded(db.url)) {
      await surreal.query(`DEFINE NAMESPACE IF NOT EXISTS ${ident(db.namespace)}; USE NS ${ident(db.namespace)}; DEFINE DATABASE IF NOT EXISTS ${ident(db.database)};`);
      await surreal.use({ namespace: db.namespace, database: db.database });
    }
    return surreal;
  } catch (error) {
    void surreal.close().catch(() => {});
    throw new StoreOpenError(describeOpenFailure(db.url, path, error));
  } finally {
    clearTimeout(timer);
  }
}

function ident(name: string): string {
  return `\`${name.replaceAll('`', '')}\``;
}

function describeOpenFailure(url: string, path: string | null, error: unknown): string {
  const reason = errorText(error);
  if (path && /lock/i.test(reason)) {
    return `cannot open ${url}: the data directory ${path} is locked by another process (is another Herald running on it? stop it or set HERALD_DB_URL to another path). Cause: ${reason}`;
  }
  return `cannot open ${url}: ${reason}`;
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/**
 * Closes a connection without racing the queries already sent on it. @surrealdb/node 3.0.3 frees the engine
 * on close() without waiting: a query handed to the engine just before, whose task has not yet taken the
 * engine's lock, then finds it freed and panics (an unwrap in its execute), which aborts the process.
 * Queries sent after close() fail cleanly instead. One more round trip first lets every query already sent
 * reach the engine.
 */
export async function closeConnection(db: Surreal): Promise<void> {
  await db.query('RETURN 1').collect().catch(() => undefined);
  await db.close();
}
