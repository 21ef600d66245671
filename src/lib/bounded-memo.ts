/**
 * `compute` remembered by key, for values that are few in practice (callback URLs, webhook secrets) but
 * come from outside, so the memo is forgotten wholesale once it holds `bound` keys rather than growing
 * without limit. A `compute` that throws remembers nothing.
 */
export function boundedMemo<V>(bound: number, compute: (key: string) => V): (key: string) => V {
  const memo = new Map<string, V>();
  return (key) => {
    if (memo.has(key)) return memo.get(key) as V;
    const value = compute(key);
    if (memo.size >= bound) memo.clear();
    memo.set(key, value);
    return value;
  };
}
