const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses the `500ms`, `5s`, `5m`, `2h`, `7d` notation used by every duration setting; `0` means off. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(trimmed);
  if (!match) throw new Error(`invalid duration '${text}' (expected e.g. 500ms, 5s, 5m, 2h, 7d or 0)`);
  return Math.round(Number(match[1]) * (UNITS[match[2] as string] as number));
}
