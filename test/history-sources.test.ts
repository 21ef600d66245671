import { describe, expect, it } from 'vitest';
import { firstWanted } from '../src/store/history-sources.js';

const rows = [
  { key: 10, seqs: [3, 7] },
  { key: 20, seqs: [12] },
  { key: 30, seqs: [21, 25, 29] },
];

describe('firstWanted: which rows of a window hold the candidates still wanted', () => {
  it('ascending: the lowest rows until enough, and the key examined up to', () => {
    expect(firstWanted(rows, { count: 3, asc: true })).toEqual({ rows: rows.slice(0, 2), reached: 20 });
    expect(firstWanted(rows, { count: 1, asc: true })).toEqual({ rows: rows.slice(0, 1), reached: 10 });
  });

  it('descending: the highest rows until enough, still ascending, and every key above `reached` examined', () => {
    expect(firstWanted(rows, { count: 3, asc: false })).toEqual({ rows: rows.slice(2), reached: 29 });
    expect(firstWanted(rows, { count: 4, asc: false })).toEqual({ rows: rows.slice(1), reached: 19 });
  });

  it('keeps every row, and does not say it stopped short, when they hold no more than wanted', () => {
    expect(firstWanted(rows, { count: 6, asc: true })).toEqual({ rows });
    expect(firstWanted(rows, { count: 99, asc: false })).toEqual({ rows });
    expect(firstWanted([], { count: 1, asc: true })).toEqual({ rows: [] });
  });
});
