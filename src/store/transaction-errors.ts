/** A RocksDB optimistic-transaction conflict: another transaction wrote a key this one read or wrote. Retry. */
export const isWriteConflict = (error: unknown): boolean =>
  error instanceof Error && /conflict|retry the transaction/i.test(error.message);

/**
 * Runs a transaction again, up to `attempts` times in all, while it fails with an error `retryable` accepts
 * (the failed attempt was rolled back whole); the last error reaches the caller. `jitterMs` spreads the
 * retries of writers that all lost on one row: each waits a random time up to jitterMs × its attempt.
 */
export async function retryTransaction<T>(
  attempts: number,
  run: () => Promise<T>,
  retryable: (error: unknown) => boolean = isWriteConflict,
  jitterMs = 0,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= attempts || !retryable(err)) throw err;
      if (jitterMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * jitterMs * attempt));
    }
  }
}

interface QueryResponse {
  success: boolean;
  error?: { message: string };
}

/**
 * The messages of a transaction's failed statements (empty when it committed). The statements after a THROW
 * fail too, with "not executed due to a failed transaction"; `cause` is the first message that is not that.
 */
export function transactionFailure(responses: QueryResponse[]): { messages: string[]; cause: string } | null {
  const messages = responses.filter((r) => !r.success).map((r) => r.error?.message ?? '');
  if (messages.length === 0) return null;
  const cause = messages.find((m) => !/not executed due to a (failed|cancelled) transaction/.test(m)) ?? (messages[0] as string);
  return { messages, cause };
}
