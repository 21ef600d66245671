import type { Surreal } from 'surrealdb';

/**
 * Deletes up to `limit` rows of `table` whose indexed epoch-ms `field` is before `beforeMs` (rows without
 * it are kept); returns how many. Retention runs it in chunks until a chunk comes back short.
 */
export async function purgeBefore(db: Surreal, table: 'delivery' | 'wh_log', field: 'settled_at' | 'at', beforeMs: number, limit: number): Promise<number> {
  const results = await db
    .query<unknown[]>(
      `LET $ids = SELECT VALUE id FROM ${table} WHERE ${field} >= 0 AND ${field} < $before LIMIT $n;
      DELETE $ids RETURN NONE;
      RETURN array::len($ids);`,
      { before: beforeMs, n: limit },
    )
    .collect();
  return Number(results.at(-1) ?? 0);
}
