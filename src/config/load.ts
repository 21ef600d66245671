import { Type, type TObject } from 'typebox';
import { Value } from 'typebox/value';
import { entries } from './entries.js';
import { Entry, type VariableSchema } from './kinds.js';
import { engineRocksdbSettings } from './rocksdb-engine.js';

interface Tree {
  readonly [key: string]: Entry<unknown> | Tree;
}

/** The typed value of a tree of entries: each entry becomes what its parser returns. */
export type ConfigOf<T> = { -readonly [K in keyof T]: T[K] extends Entry<infer V> ? V : ConfigOf<T[K]> };
export type Config = ConfigOf<typeof entries>;

/** Every entry in declaration order (the README table's order). */
export function variables(tree: Tree = entries): Entry<unknown>[] {
  return Object.values(tree).flatMap((node) => (node instanceof Entry ? [node] : variables(node)));
}

/** Every environment variable Herald reads, with its default and doc; derived from the entries. */
export const EnvSchema: TObject<Record<string, VariableSchema>> = Type.Object(
  Object.fromEntries(variables().map((entry) => [entry.env, entry.schema])),
);

export class ConfigError extends Error {}

/** Markdown doc as plain text for a terminal: links keep their text, code loses its backticks. */
const plain = (markdown: string) => markdown.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replaceAll('`', '');

function read(entry: Entry<unknown>, source: Record<string, string | undefined>, problems: string[]): unknown {
  const given = source[entry.env];
  const text = given === undefined || given === '' ? entry.schema.default : given;
  const shown = `${entry.env}=${JSON.stringify(text)}`;
  if (!Value.Check(entry.schema, text)) {
    problems.push(`${shown}: ${entry.expected} — ${plain(entry.schema.description)}`);
    return undefined;
  }
  let value: unknown;
  try {
    value = entry.parse(text);
  } catch (error) {
    problems.push(`${entry.env}: ${(error as Error).message}`);
    return undefined;
  }
  const outOfRange = entry.check ? Value.Errors(entry.check, value)[0] : undefined;
  if (outOfRange) problems.push(`${shown}: ${outOfRange.message} — ${plain(entry.schema.description)}`);
  return value;
}

function build(tree: Tree, source: Record<string, string | undefined>, problems: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(tree).map(([key, node]) =>
    [key, node instanceof Entry ? read(node, source, problems) : build(node, source, problems)]));
}

/**
 * Rules between variables that are each valid alone. With a block cache smaller than the memtables the
 * embedded engine may hold, a bulk load stalled the store for good, with no error (docs/deployment.md#memory). A `SURREAL_ROCKSDB_*` value set in the environment
 * is what the engine uses, so it is what is checked.
 */
function crossProblems(config: Config, source: Record<string, string | undefined>): string[] {
  if (!config.db.url.startsWith('rocksdb://')) return [];
  const engine = engineRocksdbSettings(config.db.rocksdb, source);
  // An operator's engine value that is not a number (empty included) is the engine's to judge: NaN passes.
  const bytes = (value: string) => (value.trim() === '' ? Number.NaN : Number(value));
  const memtables = bytes(engine.writeBufferSize.value) * bytes(engine.maxWriteBufferNumber.value);
  const cache = bytes(engine.blockCacheSize.value);
  if (!(cache < memtables)) return [];
  return [`HERALD_ROCKSDB_BLOCK_CACHE_SIZE (${cache} bytes) must be at least HERALD_ROCKSDB_WRITE_BUFFER_SIZE × ` +
    `HERALD_ROCKSDB_MAX_WRITE_BUFFER_NUMBER (${memtables} bytes): with a smaller block cache than the memtables it may hold, ` +
    'the embedded engine stalled the store with no error under a bulk load (docs/deployment.md#memory)'];
}

/**
 * Reads and validates the environment (an unset or empty variable takes its default); throws one ConfigError
 * naming every bad variable, its value and what was expected.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const config = build(entries, source, problems);
  if (problems.length === 0) problems.push(...crossProblems(config as Config, source));
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return config as Config;
}
