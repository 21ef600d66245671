import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { testApp } from './helpers/app.js';
import { connect } from './helpers/ws.js';

const open: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of open.splice(0)) await app.close();
});

async function listening(env: Record<string, string> = {}): Promise<{ app: FastifyInstance; url: string }> {
  const app = await testApp(env);
  open.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/events` };
}

describe('message types named like Object.prototype members', () => {
  const names = [...new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__'])];

  it('each get unknown_type and count toward the 1008 limit', async () => {
    const { url } = await listening({ HERALD_WS_MAX_BAD_MESSAGES: String(names.length) });
    const client = await connect(url);
    names.forEach((type, i) => client.send({ type, id: i }));
    await client.until((f) => f.length >= names.length);
    expect(client.frames).toEqual(names.map((type, i) => expect.objectContaining({ type: 'error', id: i, code: 'unknown_type', message: expect.stringContaining(JSON.stringify(type)) })));
    // Exactly at the limit the socket still answers; one more invalid message closes it.
    client.send({ type: 'ping', id: 'alive' });
    await client.until((f) => f.some((x) => x.type === 'pong'));
    client.send({ type: 'toString' });
    expect(await client.closed).toMatchObject({ code: 1008 });
  });
});
