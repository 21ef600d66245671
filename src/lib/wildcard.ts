/**
 * Glob-style type patterns where `*` stands for any run of characters (empty included) and every other
 * character stands for itself. A backtracking RegExp (`.*` per star) takes exponential time on patterns
 * like `a*a*a*b` against a long run of `a`; this matcher anchors the first and last literal segments and
 * finds each middle segment at its leftmost place with indexOf. Taking the leftmost place is always safe,
 * since it leaves the most text for the segments after it, so nothing is ever retried: at most
 * O(text × pattern) work per test.
 */
export function wildcardMatcher(pattern: string): (text: string) => boolean {
  const segments = pattern.split('*');
  if (segments.length === 1) return (text) => text === pattern;
  const head = segments[0] as string;
  const tail = segments[segments.length - 1] as string;
  const middle = segments.slice(1, -1).filter((s) => s !== '');
  const literalLength = segments.reduce((n, s) => n + s.length, 0);
  return (text) => {
    // The length check keeps head and tail from overlapping (`a*a` must not match `a`).
    if (text.length < literalLength || !text.startsWith(head) || !text.endsWith(tail)) return false;
    const end = text.length - tail.length;
    let at = head.length;
    for (const segment of middle) {
      const found = text.indexOf(segment, at);
      if (found === -1 || found + segment.length > end) return false;
      at = found + segment.length;
    }
    return true;
  };
}

