/** What a chaos run found: the report's shape, the list of broken guarantees, and the printed summary. */
import type { StreamFilter } from './resumers.js';
import type { DeliveryCheck, HistoryCheck, StreamCheck } from './verify.js';

export interface KillRecord {
  generation: number;
  ackedAtKill: number;
  /** The seeded random wait before the kill. */
  waitMs: number;
  /** Spawn of the next generation to its GET /ready 200. */
  restartMs: number;
}

export interface ChaosReport {
  seed: number;
  options: Record<string, unknown>;
  wallMs: number;
  publishMs: number;
  drainMs: number;
  attempted: number;
  acked: number;
  history: HistoryCheck;
  resumers: Array<{
    name: string;
    filter: StreamFilter;
    firstCursor: number;
    check: StreamCheck;
    reconnects: { afterKill: number; afterDrop: number; afterClose: number };
    closes: Record<string, number>;
  }>;
  hooks: Array<{ name: string; check: DeliveryCheck; statuses: Record<string, number>; signaturesChecked: number; badSignatures: number }>;
  kills: KillRecord[];
  restartsMs: number[];
  /** How the two graceful stops (before the final restart, at the end) exited. */
  stops: string[];
  /** Starts that did not reach ready (each retried), with the server's output. */
  failedStarts: Array<{ generation: number; attempt: number; error: string }>;
  clientStats: { retries: number; clientAborts: number; wsDrops: number };
  /** Errors no kill or client drop explains. */
  problems: string[];
}

/** Every guarantee the run saw broken; empty when the run passed. */
export function failures(report: ChaosReport): string[] {
  const out: string[] = [];
  const h = report.history;
  const expectedKills = Number(report.options.kills);
  if (report.kills.length < expectedKills) out.push(`${report.kills.length} kills of ${expectedKills}`);
  if (report.acked < report.attempted) out.push(`${report.attempted - report.acked} events never acknowledged`);
  if (h.lost.length > 0) out.push(`${h.lost.length} acknowledged events lost, e.g. ${h.lost.slice(0, 3).join(', ')}`);
  if (h.duplicates > 0) out.push(`${h.duplicates} duplicate event_ids in history`);
  if (h.unknown.length > 0) out.push(`${h.unknown.length} stored events nobody sent`);
  if (h.seqMismatch.length > 0) out.push(`${h.seqMismatch.length} events stored with another seq than acknowledged`);
  if (h.nonIncreasing > 0) out.push(`history seqs not strictly increasing at ${h.nonIncreasing} places`);
  for (const r of report.resumers) {
    const c = r.check;
    if (c.gaps + c.duplicates + c.outOfOrder + c.unexpected > 0) {
      out.push(`${r.name}: ${c.gaps} gaps, ${c.duplicates} duplicates, ${c.outOfOrder} out of order, ${c.unexpected} unexpected`);
    }
  }
  for (const hook of report.hooks) {
    const c = hook.check;
    if (c.missing.length > 0) out.push(`${hook.name}: ${c.missing.length} deliveries never made, e.g. ${c.missing.slice(0, 3).join(', ')}`);
    if (c.unknown.length > 0) out.push(`${hook.name}: ${c.unknown.length} deliveries of events not for it`);
    if (c.unexplained > 0) out.push(`${hook.name}: ${c.unexplained} duplicate deliveries no kill explains`);
    if (hook.badSignatures > 0) out.push(`${hook.name}: ${hook.badSignatures} bad signatures`);
  }
  for (const f of report.failedStarts) out.push(`generation ${f.generation} failed to start (attempt ${f.attempt}): ${f.error.slice(-400)}`);
  for (const stop of report.stops) if (stop !== 'code 0') out.push(`a graceful stop exited with ${stop}`);
  out.push(...report.problems);
  return out;
}

const ms = (n: number) => `${Math.round(n)} ms`;

function table(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

export function formatSummary(report: ChaosReport): string {
  const h = report.history;
  const restarts = [...report.restartsMs].sort((a, b) => a - b);
  const rows: Array<[string, string]> = [
    ['seed', String(report.seed)],
    ['events acked / attempted', `${report.acked} / ${report.attempted}`],
    ['events in history', String(h.stored)],
    ['lost (acked, not stored)', String(h.lost.length)],
    ['duplicates in history', String(h.duplicates)],
    ['seq mismatches / non-increasing', `${h.seqMismatch.length} / ${h.nonIncreasing}`],
    ['client retries / HTTP aborts / WS publisher drops', `${report.clientStats.retries} / ${report.clientStats.clientAborts} / ${report.clientStats.wsDrops}`],
  ];
  for (const r of report.resumers) {
    const c = r.check;
    rows.push([
      `${r.name} ${JSON.stringify(r.filter)} after ${r.firstCursor}`,
      `${c.received}/${c.expected} received, gaps ${c.gaps}, dups ${c.duplicates}, out of order ${c.outOfOrder}, unexpected ${c.unexpected}; ` +
        `reconnects: ${r.reconnects.afterKill} kill, ${r.reconnects.afterDrop} drop, ${r.reconnects.afterClose} server close ${JSON.stringify(r.closes)}`,
    ]);
  }
  for (const hook of report.hooks) {
    const c = hook.check;
    rows.push([
      `webhook ${hook.name}`,
      `${c.delivered}/${c.expected} delivered, missing ${c.missing.length}, duplicates ${c.duplicates} (per killed generation ${JSON.stringify(c.perKill)}, ` +
        `unexplained ${c.unexplained}), ${c.requests} requests, ${c.failedAnswers} answered 500; statuses ${JSON.stringify(hook.statuses)}; ` +
        `signatures ${hook.signaturesChecked - hook.badSignatures}/${hook.signaturesChecked} valid`,
    ]);
  }
  rows.push(
    ['kills', `${report.kills.length} (acks at each: ${report.kills.map((k) => k.ackedAtKill).join(', ')})`],
    ['restart ms (min / median / max)', restarts.length ? `${ms(restarts[0] ?? 0)} / ${ms(restarts[Math.floor(restarts.length / 2)] ?? 0)} / ${ms(restarts.at(-1) ?? 0)}` : '-'],
    ['failed starts (retried)', String(report.failedStarts.length)],
    ['graceful stops', report.stops.join(', ')],
    ['unexpected problems', String(report.problems.length)],
    ['wall time', `${ms(report.wallMs)} (publishing + kills ${ms(report.publishMs)}, drain ${ms(report.drainMs)})`],
  );
  const broken = failures(report);
  return `chaos summary\n${table(rows)}\n${broken.length === 0 ? 'PASS' : `FAIL:\n  ${broken.slice(0, 30).join('\n  ')}`}`;
}
