/**
 * The Server-Sent Events wire format (https://html.spec.whatwg.org/multipage/server-sent-events.html) as
 * Herald writes it: pure functions, one message per call, each ending with the blank line that dispatches it.
 */

/** Whether the request asks for an event stream — what `EventSource` sends as its only Accept value. */
export function acceptsEventStream(accept: string | undefined): boolean {
  return accept?.includes('text/event-stream') ?? false;
}

/**
 * One event: `id` is its seq, so the browser's `Last-Event-ID` on reconnect is the resume cursor. No `event:`
 * field, so `onmessage` sees every event. JSON text has no raw line breaks, so the data is one line.
 */
export const eventMessage = (seq: number, json: string): string => `id: ${seq}\ndata: ${json}\n\n`;

/**
 * A named `error` message. With `id`, the browser's next `Last-Event-ID` becomes it: a cursor_expired error
 * moves the client past what retention purged, so its automatic reconnect does not meet the same error again.
 */
export const errorMessage = (data: object, id?: number): string =>
  `${id === undefined ? '' : `id: ${id}\n`}event: error\ndata: ${JSON.stringify(data)}\n\n`;

/** The reconnection delay the browser waits after the stream ends. */
export const retryMessage = (ms: number): string => `retry: ${ms}\n\n`;

/** A comment line: ignored by EventSource, it keeps proxies and load balancers from timing the stream out. */
export const HEARTBEAT = ': heartbeat\n\n';
