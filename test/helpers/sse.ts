import { request, type IncomingMessage } from 'node:http';

/** One dispatched Server-Sent Events message (`event` undefined for an unnamed one), or a comment. */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comment?: string;
}

export interface SseClient {
  status: number;
  response: IncomingMessage;
  /** Everything received so far, in order: messages, `retry:` blocks and comments, one entry each. */
  messages: SseMessage[];
  /** The events (unnamed messages with data), parsed. */
  events(): Array<{ seq: number; event_type: string; [field: string]: unknown }>;
  /** Resolves when the server has ended the response. */
  ended: Promise<void>;
  until(predicate: (messages: SseMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/**
 * A raw HTTP event-stream client: `GET url` with `Accept: text/event-stream`, parsed block by block the way
 * the SSE spec does (field lines up to the blank line), without EventSource's reconnects, so tests see what
 * the server wrote.
 */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, resolve);
    req.on('error', reject);
    req.end();
  });
  const messages: SseMessage[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const check of [...waiters]) check();
  };
  let buffer = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message: SseMessage = {};
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === '') message.comment = value;
        else if (field === 'data') message.data = message.data === undefined ? value : `${message.data}\n${value}`;
        else if (field === 'id' || field === 'event') message[field] = value;
        else if (field === 'retry') message.retry = Number(value);
      }
      messages.push(message);
    }
    notify();
  });
  const ended = new Promise<void>((resolve) => response.on('close', () => {
    resolve();
    notify();
  }));
  return {
    status: response.statusCode ?? 0,
    response,
    messages,
    events: () => messages.filter((m) => m.event === undefined && m.data !== undefined).map((m) => JSON.parse(m.data as string)),
    ended,
    close: () => response.destroy(),
    until: (predicate, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(messages)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`condition not met within ${timeoutMs} ms; last messages: ${JSON.stringify(messages.slice(-3))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}
