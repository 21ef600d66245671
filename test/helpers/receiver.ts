import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** The Standard Webhooks `webhook-id` header of a request (Herald sends the event_id). */
export const webhookId = (r: Received): string => String(r.headers['webhook-id']);

/** How the receiver answers its n-th request (0-based); `hang` never answers (a timeout or a kill -9 test). */
export type Responder = (n: number, request: Received) => { status: number; headers?: Record<string, string>; body?: string; hang?: boolean };

export interface Receiver {
  url: string;
  requests: Received[];
  respond: Responder;
  /** Resolves once `predicate` holds over the requests received so far (checked on every request). */
  until(predicate: (requests: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A real webhook receiver on 127.0.0.1 that records every request and answers as `respond` says. */
export async function startReceiver(respond: Responder = () => ({ status: 204 })): Promise<Receiver> {
  const requests: Received[] = [];
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: '',
    requests,
    respond,
    until: (predicate, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(requests)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver condition not met within ${timeoutMs} ms (${requests.length} requests)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const answer = receiver.respond(requests.length, received);
      requests.push(received);
      for (const check of [...waiters]) check();
      if (answer.hang) {
        hanging.add(res);
        return;
      }
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}
