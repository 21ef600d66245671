/** A RocksDB optimistic-transaction conflict: another transaction wrote a key this one read or wrote. Retry. */
export const isWriteConflict = (error: unknown): boolean =>
  error instanceof Error && /conflict|retry the transaction/i.test(error.message);

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
