import { describe, expect, it } from 'vitest';
import { moveToEnd } from '../src/lib/map-order.js';

describe('moveToEnd', () => {
  it('moves the given keys to the end in the given order, keeps their values, and skips keys the map lacks', () => {
    const map = new Map([['a', 1], ['b', 2], ['c', 3], ['d', 4]]);
    moveToEnd(map, ['b', 'gone', 'a']);
    expect([...map]).toEqual([['c', 3], ['d', 4], ['b', 2], ['a', 1]]);
  });
});
