/**
 * The chaos driver: one real Herald process on one RocksDB directory, killed with SIGKILL at seeded random
 * moments under concurrent publishers (HTTP single, HTTP batch, WebSocket), stream resumers and two webhook
 * subscriptions (one receiver failing at random), then a final graceful restart, a drain, and the checks of
 * verify.ts. Used by `npm run chaos` (cli.ts, the long run) and test/chaos/chaos.test.ts (the short one).
 */
import { join } from 'node:path';
import { allDeliveries, pollUntil } from '../helpers/deliveries.js';
import { cleanupServers, makeTempDir, readAllEvents, type ExitInfo, type StoredEvent } from '../helpers/spawn-server.js';
import { Ledger } from './ledger.js';
import { httpPublisher, wsPublisher, type ActorContext } from './publishers.js';
import { rngFor } from './random.js';
import type { ChaosReport, KillRecord } from './report.js';
import { matchesFilter, newestSeq, Resumer, wsTransport, type StreamFilter } from './resumers.js';
import { ChaosServer } from './server.js';
import { checkDeliveries, checkHistory, checkStream } from './verify.js';
import { Hook } from './webhooks.js';

export interface ChaosOptions {
  /** Events published in all (every one is retried until acknowledged). */
  events: number;
  /** SIGKILLs, spread over the publishing by acknowledged count, each after a seeded random wait. */
  kills: number;
  httpPublishers: number;
  batchPublishers: number;
  wsPublishers: number;
  /** Stream resumers; their filters cycle through RESUMER_FILTERS. */
  resumers: number;
  /** Printed at start: the same seed makes the same decisions per actor (timing still differs). */
  seed: number;
  maxBatch: number;
  wsWindow: number;
  /** Chance per request / per received event that a client drops its connection itself. */
  disconnectRate: number;
  /** Share of the flaky receiver's answers that are 500. */
  flakyRate: number;
  /** The random wait before a kill is up to this long. */
  killDelayMaxMs: number;
  /** Whole-run bound: every actor gives up after it. */
  timeoutMs: number;
  /** Bound on the drain after the final restart. */
  drainTimeoutMs: number;
  log: (line: string) => void;
}

export const RESUMER_FILTERS: StreamFilter[] = [
  {},
  { types: ['chaos_a', 'chaos_b'] },
  { types: ['chaos_*'], priority: ['high', 'critical'] },
  { types: ['chaos_c'] },
];

/** One event in 16 each: every delivery costs the server about a millisecond of CPU (docs/BENCHMARKS.md). */
const HOOK_FILTERS: Record<'steady' | 'flaky', StreamFilter> = {
  steady: { types: ['chaos_a'], priority: ['high', 'critical'] },
  flaky: { types: ['chaos_b'], priority: ['low', 'normal'] },
};

/**
 * Short lease and retry delays, so a killed process's deliveries come back within the run. The connect
 * timeout is raised from its 10 s default: reopening RocksDB after a kill took longer than that on a busy
 * machine (the report counts such failed starts; see docs/testing.md).
 */
const SERVER_ENV = {
  HERALD_DB_CONNECT_TIMEOUT: '120s',
  HERALD_WEBHOOK_ALLOW_PRIVATE: 'true',
  HERALD_WEBHOOK_LEASE: '3s',
  HERALD_WEBHOOK_POLL: '200ms',
  HERALD_RETRY_SCHEDULE: '100ms,200ms,500ms,1s,1s,1s,1s,1s,1s,1s,1s,1s',
  LOG_LEVEL: 'warn',
};

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const t0 = performance.now();
  const { log } = options;
  log(`chaos: seed ${options.seed} (replay with --seed ${options.seed}); ${JSON.stringify({ ...options, log: undefined })}`);
  const server = new ChaosServer(join(makeTempDir('chaos'), 'data'), SERVER_ENV);
  const ledger = new Ledger(options.events);
  const problems: string[] = [];
  const ctx: ActorContext = {
    seed: options.seed,
    server,
    ledger,
    deadline: Date.now() + options.timeoutMs,
    unexpected: (what) => {
      if (problems.length < 1000) problems.push(what);
      if (problems.length <= 20) log(`chaos: unexpected: ${what}`);
    },
    stats: { retries: 0, clientAborts: 0, wsDrops: 0 },
  };
  const hooks = await Promise.all([
    Hook.start(options.seed, 'steady', HOOK_FILTERS.steady, 0),
    Hook.start(options.seed, 'flaky', HOOK_FILTERS.flaky, options.flakyRate),
  ]);
  try {
    const first = await server.start();
    for (const hook of hooks) await hook.subscribe(first.server.url);

    const resumers: Resumer[] = [];
    const resumerRuns: Array<Promise<void>> = [];
    const startResumers = (async () => {
      for (let i = 0; i < options.resumers; i++) {
        // Staggered: the first reads from the start, the others join mid-run "from now".
        await ledger.whenAcked(Math.floor((i * options.events) / (2 * options.resumers)));
        const cursor = i === 0 ? 0 : await newestSeq(ctx);
        const filter = RESUMER_FILTERS[i % RESUMER_FILTERS.length] as StreamFilter;
        const resumer = new Resumer(ctx, `resumer-${i}`, filter, cursor, wsTransport, options.disconnectRate);
        resumers.push(resumer);
        resumerRuns.push(resumer.run());
      }
    })();

    const publishing = Promise.all([
      ...Array.from({ length: options.httpPublishers }, (_, i) => httpPublisher(ctx, `http-${i}`, false, options)),
      ...Array.from({ length: options.batchPublishers }, (_, i) => httpPublisher(ctx, `batch-${i}`, true, options)),
      ...Array.from({ length: options.wsPublishers }, (_, i) => wsPublisher(ctx, `ws-${i}`, options)),
    ]).then(() => log(`chaos: publishing done, ${ledger.acked.size} acknowledged, ${Math.round(performance.now() - t0)} ms`));

    const kills: KillRecord[] = [];
    const killing = killer(options, ctx, publishing, kills).catch((err: Error) => {
      server.fail(err);
      throw err;
    });
    await Promise.all([publishing, killing, startResumers]);
    const publishMs = performance.now() - t0;

    // The final clean restart, then the drain.
    const finalStop = await server.stop();
    const final = await server.start();
    log(`chaos: final restart ready in ${Math.round(final.readyMs)} ms; draining`);
    // Without Herald's own system_alert events (see resumers.ts): the verdicts are about what the run published.
    const history = ((await readAllEvents(final.server.url)) as Array<StoredEvent & { event_type: string; priority: string }>)
      .filter((e) => e.event_type !== 'system_alert');
    const drainDeadline = Date.now() + options.drainTimeoutMs;
    const streamExpected = resumers.map((r) => history.filter((e) => e.seq > r.firstCursor && matchesFilter(r.filter, e)).map((e) => e.seq));
    const hookExpected = hooks.map((h) => new Set([...ledger.acked.keys()].filter((id) => {
      const event = ledger.attempted.get(id);
      return event !== undefined && matchesFilter(h.filter, event);
    })));
    const drained = await Promise.allSettled([
      ...resumers.map((r, i) => r.waitFor(streamExpected[i]?.at(-1) ?? 0, drainDeadline - Date.now())),
      ...hooks.map((h, i) => h.waitDelivered(hookExpected[i] ?? [], drainDeadline - Date.now())),
    ]);
    for (const d of drained) if (d.status === 'rejected') problems.push(`drain: ${(d.reason as Error).message}`);
    const deliveryStatus: Array<Record<string, number>> = [];
    for (const [i, hook] of hooks.entries()) {
      let counts: Record<string, number> = {};
      await pollUntil(
        async () => {
          counts = {};
          for (const d of await allDeliveries(final.server.url, hook.subscriptionId)) counts[d.status] = (counts[d.status] ?? 0) + 1;
          return counts.delivered === hookExpected[i]?.size && Object.keys(counts).length === 1;
        },
        () => JSON.stringify(counts),
        Math.max(1000, drainDeadline - Date.now()),
      ).catch((err: Error) => problems.push(`${hook.name} deliveries not settled: ${err.message}`));
      deliveryStatus.push(counts);
    }
    const drainMs = performance.now() - t0 - publishMs;

    for (const r of resumers) r.stop();
    // A graceful stop lets the requests in flight finish: duplicates are counted after it.
    const lastStop = await server.stop();
    server.fail(new Error('the run is over'));
    await Promise.all(resumerRuns);
    const generations = server.generations.map((g) => ({ number: g.number, startedAt: g.startedAt, ...(g.ended && { signal: g.ended.signal }) }));
    return {
      seed: options.seed,
      options: { ...options, log: undefined },
      wallMs: performance.now() - t0,
      publishMs,
      drainMs,
      attempted: ledger.attempted.size,
      acked: ledger.acked.size,
      history: checkHistory(history, ledger.acked, ledger.attempted),
      resumers: resumers.map((r, i) => ({
        name: r.name,
        filter: r.filter,
        firstCursor: r.firstCursor,
        check: checkStream(streamExpected[i] ?? [], r.received),
        reconnects: { ...r.reconnects },
        closes: { ...r.closes },
      })),
      hooks: await Promise.all(
        hooks.map(async (h, i) => ({
          name: h.name,
          check: checkDeliveries(hookExpected[i] ?? new Set(), h.answers, generations),
          statuses: deliveryStatus[i] ?? {},
          signaturesChecked: await h.signaturesChecked(),
          badSignatures: h.badSignatures,
        })),
      ),
      kills,
      restartsMs: server.generations.slice(1).map((g) => g.readyMs),
      stops: [finalStop, lastStop].map(exitText),
      failedStarts: server.failedStarts,
      clientStats: { ...ctx.stats },
      problems: [...ledger.problems, ...problems],
    };
  } finally {
    server.fail(new Error('the run is over'));
    await cleanupServers();
    await Promise.all(hooks.map((h) => h.receiver.close()));
  }
}

const exitText = (exit: ExitInfo) => (exit.signal ? exit.signal : `code ${exit.code}`);

/**
 * Kill k happens once k/(kills+1) of the events are acknowledged, after a seeded random wait. On a fast
 * machine publishing can end before the last ones (it goes on through each restart's wait): those land
 * after it, on the webhook deliveries and stream resumes still catching up, so every run has all its kills.
 */
async function killer(options: ChaosOptions, ctx: ActorContext, publishing: Promise<void>, kills: KillRecord[]): Promise<void> {
  const rng = rngFor(options.seed, 'killer');
  for (let k = 1; k <= options.kills; k++) {
    await Promise.race([ctx.ledger.whenAcked(Math.floor((k * options.events) / (options.kills + 1))), publishing]);
    const waitMs = rng.int(0, options.killDelayMaxMs);
    // The one deliberate sleep: where the kill lands is the chaos.
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    const ackedAtKill = ctx.ledger.acked.size;
    const killed = ctx.server.current()?.number ?? 0;
    const exit = await ctx.server.kill();
    if (exit.signal !== 'SIGKILL') ctx.unexpected(`generation ${killed} exited with ${exitText(exit)} before the kill`);
    const next = await ctx.server.start();
    kills.push({ generation: killed, ackedAtKill, waitMs, restartMs: next.readyMs });
    options.log(`chaos: kill ${k}/${options.kills} of generation ${killed} at ${ackedAtKill} acks (+${waitMs} ms); restarted in ${Math.round(next.readyMs)} ms`);
  }
}
