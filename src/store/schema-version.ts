import type { FastifyBaseLogger } from 'fastify';
import type { Surreal } from 'surrealdb';
import { version as HERALD_VERSION } from '../lib/version.js';
import { StoreOpenError } from './connection.js';
import { LEGACY_SCHEMA_VERSION, SCHEMA_VERSION } from './segment-rows.js';
import { upgradeV1 } from './upgrade-v1.js';

/** The database was written by a newer Herald; this one refuses to start rather than misread it. */
export class SchemaVersionError extends StoreOpenError {}

/**
 * The storage schema version recorded in `herald_meta:schema`, or null when none is (an empty database, or
 * one Herald 0.1.0 wrote). Reading a record id of a table that does not exist yet answers NONE, not an error.
 */
async function storedVersion(db: Surreal): Promise<number | null> {
  const [version] = await db.query<[number | null | undefined]>('RETURN herald_meta:schema.version').collect();
  return version ?? null;
}

/**
 * Runs before migrations, so a database written by a newer Herald is refused before this one defines or
 * writes anything in it.
 */
export async function refuseNewerSchema(db: Surreal): Promise<void> {
  const version = await storedVersion(db);
  if (version !== null && version > SCHEMA_VERSION) {
    throw new SchemaVersionError(
      `the database has storage schema ${version} (written by a newer Herald); this Herald ${HERALD_VERSION} reads schema ${SCHEMA_VERSION}. Run a Herald that reads schema ${version}, or point HERALD_DB_URL elsewhere.`,
    );
  }
}

/**
 * Runs after migrations and before anything reads or writes events: records the schema version of an empty
 * database, and upgrades one Herald 0.1.0 wrote (no version row, but its seq counter or event rows).
 */
export async function settleSchema(db: Surreal, log: FastifyBaseLogger): Promise<void> {
  const version = await storedVersion(db);
  if (version === SCHEMA_VERSION) return;
  if (version === null && !(await hasV1Data(db))) {
    await db.query('UPSERT herald_meta:schema SET version = $version RETURN NONE', { version: SCHEMA_VERSION }).collect();
    return;
  }
  if (version !== null && version !== LEGACY_SCHEMA_VERSION) {
    throw new SchemaVersionError(`the database has storage schema ${version}, which this Herald ${HERALD_VERSION} (schema ${SCHEMA_VERSION}) cannot upgrade`);
  }
  await upgradeV1(db, log);
}

async function hasV1Data(db: Surreal): Promise<boolean> {
  const [counter, tables] = await db
    .query<[number | null | undefined, string[]]>('RETURN herald_seq:event.value; RETURN (INFO FOR DB).tables.keys()')
    .collect();
  // migrate() creates the counter at 0 on every database, a fresh one included, so only v1 rows or a counter
  // that moved without any segment (0.1.0 after its events were all purged) mark a 0.1.0 database.
  if (await hasRows(db, tables, 'event')) return true;
  return typeof counter === 'number' && counter > 0 && !(await hasRows(db, tables, 'segment'));
}

async function hasRows(db: Surreal, tables: string[], table: 'event' | 'segment'): Promise<boolean> {
  if (!tables.includes(table)) return false;
  const [rows] = await db.query<[unknown[]]>(`SELECT id FROM ${table} LIMIT 1`).collect();
  return rows.length > 0;
}
