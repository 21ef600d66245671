import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wildcardMatcher } from '../src/lib/wildcard.js';
import { typeMatcher } from '../src/events/selection.js';

/** The obvious translation, `*` → `.*`: right, but backtracking — an oracle for short inputs only. */
const oracle = (pattern: string, text: string) =>
  new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('.*')}$`, 's').test(text);

describe('wildcardMatcher', () => {
  it.each([
    ['task_*', 'task_started', true],
    ['task_*', 'task_', true],
    ['task_*', 'task', false],
    ['*', '', true],
    ['*', 'anything.at:all', true],
    ['*_failed', 'task_failed', true],
    ['*_failed', 'task_failed_twice', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['a**b', 'ab', true],
    ['billing.*.paid', 'billing.invoice.paid', true],
    ['billing.*.paid', 'billingXinvoice.paid', false],
    ['a*b*c', 'acb', false],
    ['a*b*c', 'abbbc', true],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
  ])('%s against %s is %s', (pattern, text, expected) => {
    expect(wildcardMatcher(pattern)(text)).toBe(expected);
  });

  it('agrees with a regular expression on short patterns and texts', () => {
    const alphabet = fc.constantFrom('a', 'b', '.', '-');
    const text = fc.array(alphabet, { maxLength: 12 }).map((cs) => cs.join(''));
    const pattern = fc.array(fc.oneof(alphabet, fc.constant('*')), { maxLength: 8 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(pattern, text, (p, t) => wildcardMatcher(p)(t) === oracle(p, t)),
      { numRuns: 5000 },
    );
  });

  it('decides a pattern that makes a backtracking regex explode', () => {
    const long = 'a'.repeat(128);
    expect(wildcardMatcher('a*a*a*a*a*a*a*a*b')(long)).toBe(false);
    expect(wildcardMatcher('a*a*a*a*a*a*a*a*a')(long)).toBe(true);
    expect(wildcardMatcher('a*a*a*a*a*a*a*a*b')(`${long}b`)).toBe(true);
  });
});

describe('typeMatcher', () => {
  it('takes every type without patterns, exact names exactly, and any matching wildcard', () => {
    expect(typeMatcher([])('whatever')).toBe(true);
    const matches = typeMatcher(['custom', 'task_*', '*.paid']);
    expect(['custom', 'task_started', 'invoice.paid', 'customer', 'invoice.sent'].map(matches)).toEqual([true, true, true, false, false]);
  });
});
