/**
 * Moves these keys of `map` to the end of its iteration order, in the order given; keys it no longer holds
 * are skipped. A Map iterates in insertion order, so a loop that serves its entries in turn and moves the
 * ones it served last starts with the least recently served next time.
 */
export function moveToEnd<K, V>(map: Map<K, V>, keys: Iterable<K>): void {
  for (const key of keys) {
    if (!map.has(key)) continue;
    const value = map.get(key) as V;
    map.delete(key);
    map.set(key, value);
  }
}
