/**
 * The chaos run's verdicts, as pure functions of what was recorded: the history read back after the final
 * restart, the acknowledgements, each resumer's received seqs, each receiver's answers and the server's
 * generations. test/chaos/verify.test.ts shows each one catching the fault it is there for.
 */

export interface HistoryCheck {
  stored: number;
  /** Acknowledged event_ids not in history. */
  lost: string[];
  /** Extra copies of event_ids in history. */
  duplicates: number;
  /** Stored event_ids no publisher sent. */
  unknown: string[];
  /** Acknowledged with one seq, stored with another. */
  seqMismatch: string[];
  /** Places where history's seq does not increase. */
  nonIncreasing: number;
}

export function checkHistory(
  history: ReadonlyArray<{ event_id: string; seq: number }>,
  acked: ReadonlyMap<string, number>,
  attempted: { has(id: string): boolean },
): HistoryCheck {
  const stored = new Map<string, number>();
  let duplicates = 0;
  let nonIncreasing = 0;
  history.forEach((event, i) => {
    if (stored.has(event.event_id)) duplicates++;
    else stored.set(event.event_id, event.seq);
    if (i > 0 && event.seq <= (history[i - 1] as { seq: number }).seq) nonIncreasing++;
  });
  const lost = [...acked.keys()].filter((id) => !stored.has(id));
  const seqMismatch = [...acked].filter(([id, seq]) => stored.has(id) && stored.get(id) !== seq).map(([id]) => id);
  const unknown = [...stored.keys()].filter((id) => !attempted.has(id));
  return { stored: history.length, lost, duplicates, unknown, seqMismatch, nonIncreasing };
}

export interface StreamCheck {
  expected: number;
  received: number;
  /** Expected seqs never received. */
  gaps: number;
  /** Extra copies of a seq. */
  duplicates: number;
  /** Arrivals with a lower seq than the one before. */
  outOfOrder: number;
  /** Received seqs that are not expected (another filter's events, or not in history). */
  unexpected: number;
}

/** `expected`: the stored events matching the resumer's filter above its first cursor, in seq order. */
export function checkStream(expected: readonly number[], received: readonly number[]): StreamCheck {
  const want = new Set(expected);
  const seen = new Set<number>();
  let duplicates = 0;
  let outOfOrder = 0;
  let unexpected = 0;
  received.forEach((seq, i) => {
    if (seen.has(seq)) duplicates++;
    seen.add(seq);
    if (!want.has(seq)) unexpected++;
    if (i > 0 && seq < (received[i - 1] as number)) outOfOrder++;
  });
  const gaps = expected.filter((seq) => !seen.has(seq)).length;
  return { expected: expected.length, received: received.length, gaps, duplicates, outOfOrder, unexpected };
}

export interface GenerationSpan {
  number: number;
  startedAt: number;
  /** How it ended; the final one may still be running (undefined). */
  signal?: 'SIGKILL' | 'SIGTERM';
}

export interface DeliveryCheck {
  expected: number;
  /** Expected ids that got a 2xx. */
  delivered: number;
  missing: string[];
  /** 2xx answers beyond the first per id. */
  duplicates: number;
  /** Duplicates whose earlier 2xx went to a generation that was then SIGKILLed: generation → count. */
  perKill: Record<number, number>;
  /** Duplicates no kill explains (the earlier 2xx went to a generation that lived on or stopped gracefully). */
  unexplained: number;
  /** 2xx ids that were never expected. */
  unknown: string[];
  requests: number;
  failedAnswers: number;
}

/**
 * A duplicate is explained when the 2xx before it was answered to a generation that was killed: the dead
 * process could not record the outcome, so the next one re-sends. Answers are attributed to the newest
 * generation spawned before them (only one runs at a time; a dead one sends nothing new).
 */
export function checkDeliveries(
  expected: ReadonlySet<string>,
  answers: ReadonlyArray<{ id: string; status: number; at: number }>,
  generations: readonly GenerationSpan[],
): DeliveryCheck {
  const generationAt = (at: number): GenerationSpan | undefined => {
    let found: GenerationSpan | undefined;
    for (const g of generations) if (g.startedAt <= at) found = g;
    return found;
  };
  const lastSuccess = new Map<string, GenerationSpan | undefined>();
  const perKill: Record<number, number> = {};
  let duplicates = 0;
  let unexplained = 0;
  let failedAnswers = 0;
  const unknown = new Set<string>();
  for (const answer of answers) {
    if (answer.status < 200 || answer.status > 299) {
      failedAnswers++;
      continue;
    }
    if (!expected.has(answer.id)) unknown.add(answer.id);
    const generation = generationAt(answer.at);
    if (lastSuccess.has(answer.id)) {
      duplicates++;
      const before = lastSuccess.get(answer.id);
      if (before && before.signal === 'SIGKILL' && before !== generation) perKill[before.number] = (perKill[before.number] ?? 0) + 1;
      else unexplained++;
    }
    lastSuccess.set(answer.id, generation);
  }
  const missing = [...expected].filter((id) => !lastSuccess.has(id));
  return {
    expected: expected.size,
    delivered: expected.size - missing.length,
    missing,
    duplicates,
    perKill,
    unexplained,
    unknown: [...unknown],
    requests: answers.length,
    failedAnswers,
  };
}
