/**
 * The short chaos run for CI: a few thousand events and three SIGKILLs of the real server process, with
 * every kind of publisher, four stream resumers and two webhook receivers (one failing at random). The long
 * run is `npm run chaos` (docs/testing.md, "Chaos"). The seed is random unless CHAOS_SEED is set, and is
 * printed first, so a failure can be replayed.
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from './chaos.js';
import { freshSeed } from './random.js';
import { failures, formatSummary } from './report.js';

describe('chaos: kill -9 under publish, stream and webhook load', () => {
  it('loses no acknowledged event, streams without gaps or duplicates, and makes every webhook delivery', async () => {
    const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : freshSeed();
    const report = await runChaos({
      events: 3000,
      kills: 3,
      httpPublishers: 2,
      batchPublishers: 2,
      wsPublishers: 1,
      resumers: 4,
      seed,
      maxBatch: 50,
      wsWindow: 8,
      disconnectRate: 0.003,
      flakyRate: 0.3,
      killDelayMaxMs: 300,
      timeoutMs: 240_000,
      drainTimeoutMs: 60_000,
      log: (line) => console.log(line),
    });
    console.log(formatSummary(report));
    expect(failures(report), `seed ${seed}`).toEqual([]);
    // The chaos happened: the kills, the client drops and the receiver's failures.
    expect(report.kills).toHaveLength(3);
    expect(report.history.stored).toBe(3000);
    expect(report.resumers.reduce((n, r) => n + r.reconnects.afterDrop, 0)).toBeGreaterThan(0);
    expect(report.hooks.find((h) => h.name === 'flaky')?.check.failedAnswers).toBeGreaterThan(0);
  }, 300_000);
});
