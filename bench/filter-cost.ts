/**
 * Filter cost: the matching work of the live path alone, in this process — `Router.dispatch` of the same events
 * to 100 subscriptions holding a 5-condition filter (docs/filters.md) that every event meets, against 100
 * type-only subscriptions (the ceiling). Both sides deliver every event to every subscription; rounds
 * alternate so machine noise falls on both. Reports deliveries per CPU second and the ratio (target ≥ 0.9).
 * The end-to-end form of the same comparison is scenario 4 of `fanout`; this one isolates the router, whose
 * cost is what a filter adds.
 *
 * Env: BENCH_FILTER_EVENTS (events per round, default 20000), BENCH_FILTER_ROUNDS (per side, default 7).
 */
import { randomUUID } from 'node:crypto';
import { compileSelection, subscriptionSelection } from '../src/events/selection.js';
import { and, parseFilter } from '../src/events/filter.js';
import type { Event } from '../src/schemas/event.js';
import { Router, type EventSink, type Routable } from '../src/stream/router.js';
import { fmt, fmtInt, printTable } from './lib.js';

const EVENTS = Number(process.env.BENCH_FILTER_EVENTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_FILTER_ROUNDS ?? 7);
const CLIENTS = 100;
const FILTER = {
  source: 'bench', priority: { $in: ['normal', 'high'] }, 'payload.task': { $prefix: 'summarize' },
  'payload.pct': { $gte: 30 }, 'payload.message': { $exists: true },
};

const events: Event[] = Array.from({ length: EVENTS }, (_, i) => ({
  event_id: randomUUID(), event_type: 'bench_fanout', source: 'bench', target: null, priority: 'normal',
  payload: { i, task: 'summarize-report', message: 'processing chunk of the document', pct: 30.5 },
  metadata: {}, timestamp: new Date().toISOString(), correlation_id: null, workflow_id: null, session_id: null,
  retry_count: 0, max_retries: null, expires_at: null, seq: i + 1,
}));

function router(filtered: boolean): { router: Router; delivered: () => number } {
  const r = new Router();
  let delivered = 0;
  const sink: EventSink = { offer: (_e, matched) => void (delivered += matched.length) };
  for (let i = 0; i < CLIENTS; i++) {
    const selection = subscriptionSelection(['bench_fanout'], filtered ? parseFilter(FILTER) : and());
    const sub: Routable = { eventTypes: selection.types, matches: compileSelection(selection), connection: sink };
    r.add(sub);
  }
  return { router: r, delivered: () => delivered };
}

function round(filtered: boolean): number {
  const { router: r, delivered } = router(filtered);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < events.length; i += 100) r.dispatch(events.slice(i, i + 100));
  const cpu = process.cpuUsage(cpu0);
  if (delivered() !== EVENTS * CLIENTS) throw new Error(`delivered ${delivered()} of ${EVENTS * CLIENTS}`);
  return delivered() / ((cpu.user + cpu.system) / 1e6);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function runFilterCost(): Promise<{ ratio: number }> {
  console.log(`\n== filter cost: Router.dispatch of ${fmtInt(EVENTS)} events to ${CLIENTS} subscriptions, ${ROUNDS} alternating rounds per side`);
  round(false);
  round(true); // warm-up: both paths compiled by the JIT before anything is timed
  const typeOnly: number[] = [];
  const filtered: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    typeOnly.push(round(false));
    filtered.push(round(true));
  }
  const ratio = median(filtered) / median(typeOnly);
  printTable(['subscriptions', 'median deliveries / CPU s', 'min', 'max'], [
    ['type-only (ceiling)', fmtInt(median(typeOnly)), fmtInt(Math.min(...typeOnly)), fmtInt(Math.max(...typeOnly))],
    ['5-condition filter', fmtInt(median(filtered)), fmtInt(Math.min(...filtered)), fmtInt(Math.max(...filtered))],
  ]);
  console.log(`  filtered / type-only = ${fmt(ratio, 3)} (target ≥ 0.9: ${ratio >= 0.9 ? 'MET' : 'NOT MET'})`);
  return { ratio };
}
