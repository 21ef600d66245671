import { Type, type Static } from 'typebox';

/** Limits of one filter (docs/filters.md#bounds): they keep compiling and evaluating one cheap. */
export const FILTER_LIMITS = {
  conditions: 64,
  depth: 6,
  listItems: 100,
  stringLength: 1024,
  pathSegments: 8,
  segmentLength: 64,
  /** Of the URL-encoded JSON text in `?filter=`. */
  queryLength: 8192,
} as const;

/**
 * A filter (docs/filters.md): field paths mapped to a value or to `{"$op": operand}`, combined with `$and`,
 * `$or` and `$not`. The schema only says it is an object; the filter parser checks the rest, so an error
 * names the exact path and problem (`filter.$or[1].payload.message: unknown operator $regex`).
 */
export const Filter = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'Field paths (event_id, event_type, source, target, priority, correlation_id, workflow_id, session_id, payload.<path>) ' +
    'mapped to a value or to operators $eq $ne $in $nin $gt $gte $lt $lte $exists $prefix; combinators $and $or $not. ' +
    `At most ${FILTER_LIMITS.conditions} conditions, nested at most ${FILTER_LIMITS.depth} deep. See docs/filters.md.`,
  examples: [{ 'payload.progress': { $gte: 50 }, $or: [{ source: { $in: ['a', 'b'] } }, { 'payload.message': { $prefix: 'urgent' } }] }],
});
export type Filter = Static<typeof Filter>;
