import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { event } from './app.js';

export interface Client {
  ws: WebSocket;
  frames: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves when `predicate` holds over the frames received so far (checked on every frame). */
  until(predicate: (frames: Array<Record<string, unknown>>) => boolean, timeoutMs?: number): Promise<void>;
  send(message: unknown): void;
}

/** Listens on a free loopback port; returns the ws:// base URL. */
export async function listenWs(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `ws://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

export async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(url, { headers });
  const frames: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Record<string, unknown>);
    for (const check of [...waiters]) check();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: String(reason) });
      for (const check of [...waiters]) check();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  return {
    ws,
    frames,
    closed,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    until: (predicate, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(frames)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`condition not met within ${timeoutMs} ms; ${frames.length} frames: ${JSON.stringify(frames.slice(-3))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

/**
 * Makes `slow` (subscribed to `bulk` events) a slow consumer: it stops reading its TCP socket while 8 KB
 * `bulk` events are published 50 at a time until the server closes it, calling `afterBatch` with the count
 * sent so far after each batch. Resolves with that count once reading resumed.
 */
export async function starve(app: FastifyInstance, slow: Client, afterBatch: (sent: number) => Promise<unknown> = async () => {}): Promise<number> {
  const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  const blob = 'x'.repeat(8000);
  let sent = 0;
  let closed = false;
  void slow.closed.then(() => (closed = true));
  while (!closed && sent < 5000) {
    const batch = Array.from({ length: 50 }, () => event({ event_type: 'bulk', payload: { blob } }));
    await app.inject({ method: 'POST', url: '/events/batch', payload: { events: batch } });
    sent += 50;
    await Promise.race([afterBatch(sent), slow.closed]);
  }
  socket.resume();
  return sent;
}
