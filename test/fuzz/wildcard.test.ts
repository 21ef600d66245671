/**
 * Type filters with `*` against a long stored event type: a pattern that makes a regular expression
 * backtrack must still be answered promptly. The server runs in its own process, so a stalled event loop
 * shows as a per-request timeout (a failure) instead of a stuck suite.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { cleanupServers } from '../helpers/spawn-server.js';
import { EVENT_TYPE_FILTER_PATTERN } from '../../src/schemas/event.js';
import { PROPERTY_TIMEOUT_MS, expectAnswer, fuzz, jsonHeaders, rawRequest, startFuzzServer, type FuzzServer } from './harness.js';

/** The longest event type the schema allows, made of the one letter the patterns below repeat. */
const LONG_TYPE = 'a'.repeat(128);
/** Far longer than any honest history page over a handful of events takes. */
const ANSWER_WITHIN_MS = 2000;

let server: FuzzServer;

beforeAll(async () => {
  server = await startFuzzServer();
  const res = await rawRequest(server.port, {
    method: 'POST', path: '/events', headers: jsonHeaders, body: Buffer.from(JSON.stringify({ event_type: LONG_TYPE, source: 'fuzz' })),
  });
  expect(res.status).toBe(201);
}, 60_000);

afterAll(async () => {
  // A server still stuck in a pattern is killed here.
  await cleanupServers();
});

/** `a*` repeated, then a letter the stored type lacks: each extra star multiplies a backtracking matcher's work. */
const backtracking = fc
  .record({ stars: fc.integer({ min: 1, max: 12 }), tail: fc.constantFrom('b', 'ab', '_b', 'a.b', '') , head: fc.constantFrom('', 'a', '*') })
  .map(({ stars, tail, head }) => `${head}${'a*'.repeat(stars)}${tail}`);
const anyFilter = fc.stringMatching(new RegExp(EVENT_TYPE_FILTER_PATTERN)).filter((p) => p.length <= 128);

it('GET /events?types=<wildcards> answers within the deadline whatever the pattern', async () => {
  await fuzz(fc.tuple(fc.oneof(backtracking, anyFilter), fc.constantFrom('asc', 'desc')), async ([pattern, order]) => {
    const path = `/events?types=${encodeURIComponent(pattern)}&order=${order}`;
    const res = await rawRequest(server.port, { method: 'GET', path, timeoutMs: ANSWER_WITHIN_MS });
    expectAnswer(res, `GET ${path}`);
  }, { shrink: false }); // a stuck server times out every later request, so shrinking would only mislead
}, PROPERTY_TIMEOUT_MS);
