import type { FastifyBaseLogger } from 'fastify';
import { every } from '../lib/periodic.js';
import type { EventRepository } from '../store/event-repository.js';

export interface CleanupOptions {
  retentionMs: number;
  retentionMaxEvents: number;
}

export interface CleanupReport {
  expired: number;
  retained: number;
}

const CHUNK = 1000;

/** Purges expired events and applies retention (whole segments, oldest first), in chunks so one run never holds a huge transaction. */
export async function purgeOnce(
  repo: EventRepository,
  options: CleanupOptions,
  now: Date,
): Promise<CleanupReport> {
  let expired = 0;
  for (;;) {
    const n = await repo.purge.expired(now, CHUNK);
    expired += n;
    if (n < CHUNK) break;
  }
  let retained = 0;
  if (options.retentionMs > 0 || options.retentionMaxEvents > 0) {
    // Seqs are dense (one per stored event), so the newest N events are the seqs above counter − N.
    const maxSeq = options.retentionMaxEvents > 0 ? (await repo.seqUpperBound()) - options.retentionMaxEvents : 0;
    const committedBefore = options.retentionMs > 0 ? now.getTime() - options.retentionMs : null;
    for (;;) {
      const { deleted, done } = await repo.purge.oldest(maxSeq, committedBefore);
      retained += deleted;
      if (done) break;
    }
  }
  return { expired, retained };
}

/** Runs purgeOnce on an interval; `stop` waits for a run in progress. */
export function startCleanupLoop(
  repo: EventRepository,
  options: CleanupOptions & { intervalMs: number },
  log: FastifyBaseLogger,
): { stop: () => Promise<void> } {
  return every(options.intervalMs, async () => {
    try {
      const report = await purgeOnce(repo, options, new Date());
      if (report.expired + report.retained > 0) log.info(report, 'cleanup purged events');
    } catch (err) {
      log.error({ err }, 'cleanup failed');
    }
  });
}
