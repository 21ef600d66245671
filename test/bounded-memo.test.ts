import { describe, expect, it } from 'vitest';
import { boundedMemo } from '../src/lib/bounded-memo.js';

describe('boundedMemo', () => {
  it('computes once per key, null included, forgets everything at the bound, and remembers no throw', () => {
    const calls: string[] = [];
    const memo = boundedMemo(2, (key) => {
      calls.push(key);
      if (key === 'bad') throw new Error('bad key');
      return key === 'none' ? null : key.toUpperCase();
    });
    expect([memo('a'), memo('a'), memo('none'), memo('none')]).toEqual(['A', 'A', null, null]);
    expect(calls).toEqual(['a', 'none']);
    expect(() => memo('bad')).toThrow('bad key');
    expect(() => memo('bad')).toThrow('bad key');
    memo('c'); // the third key: the memo starts over with it
    memo('a');
    expect(calls).toEqual(['a', 'none', 'bad', 'bad', 'c', 'a']);
  });
});
