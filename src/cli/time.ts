import { parseDuration } from '../lib/duration.js';
import { UsageError } from './args.js';

/**
 * A point in time for `--since`/`--until`: RFC 3339 as given (Herald validates it), or a duration back from
 * `now` (`90s`, `15m`, `1h`, `7d`), the notation Herald's settings use.
 */
export function parseTime(text: string, option: string, command: string, now: Date = new Date()): string {
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(text)) return new Date(now.getTime() - parseDuration(text)).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text))) return text;
  throw new UsageError(`--${option} must be an RFC 3339 time (2026-11-01T00:00:00Z) or a duration ago (1h, 7d), got '${text}'`, command);
}
