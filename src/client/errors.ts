/**
 * An error Herald answered with (`{"error": {"code", "message", "details"}}`), or a stream that ended for good.
 * `status` is the HTTP status; it is 0 when no HTTP answer was involved (a WebSocket close code or an error
 * frame, then `details` says which).
 */
export class HeraldError extends Error {
  override readonly name = 'HeraldError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Why `verifyWebhook` refused a request; a receiver should answer it with 400 or 401 and not process it. */
export type WebhookFailure =
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_out_of_tolerance'
  | 'invalid_secret'
  | 'invalid_signature'
  | 'invalid_body';

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly reason: WebhookFailure,
    message: string,
  ) {
    super(message);
  }
}
