/**
 * The `herald` command as a user runs it: `node bin/herald.js …` in its own process, against a real Herald
 * process with API keys, so every call goes over HTTP or a WebSocket with a key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildDist } from './helpers/build-dist.js';
import { cleanupServers, freePort, makeTempDir, REPO_ROOT, spawnServer, type ServerProcess } from './helpers/spawn-server.js';

const BIN = join(REPO_ROOT, 'bin', 'herald.js');
const KEY = 'cli-test-admin-key';
const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

let server: ServerProcess;
let dataDir: string;

/** A running `herald` process whose output can be awaited line by line. */
interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

function start(args: string[], env: Record<string, string> = {}, input?: string): Cli {
  // The developer's HERALD_* must not leak in; each test says what it means.
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HERALD_')));
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...base, HERALD_URL: server?.url ?? '', HERALD_KEY: KEY, ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin?.end(input);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function herald(args: string[], env?: Record<string, string>, input?: string) {
  const cli = start(args, env, input);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

const jsonLines = (text: string) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { seq: number; event_id: string; [k: string]: unknown });
const startServer = (port?: number) =>
  spawnServer({
    dataDir,
    retryLocked: true,
    readyTimeoutMs: 60_000,
    env: { HERALD_API_KEYS: `${KEY}:admin`, HERALD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', ...(port !== undefined && { PORT: String(port) }) },
  });

beforeAll(async () => {
  buildDist();
  dataDir = makeTempDir('cli');
  server = await startServer();
}, 90_000);
afterAll(cleanupServers);

describe('herald (the command line)', { timeout: 60_000 }, () => {
  it('publishes, then history shows the event as a line and as JSON', async () => {
    const published = await herald(['publish', 'cli.note', '{"n":1,"text":"hello"}', '--source', 'cli-test']);
    expect(published, published.stderr).toMatchObject({ code: 0 });
    const [, seq, eventId] = /^published cli\.note seq=(\d+) event_id=(\S+)\n$/.exec(published.stdout) ?? [];
    const fromStdin = await herald(['publish', 'cli.note', '-', '--json', '--priority', 'high'], {}, '{"n":2}');
    const second = jsonLines(fromStdin.stdout)[0];
    expect(second).toMatchObject({ event_type: 'cli.note', source: 'herald-cli', priority: 'high', payload: { n: 2 } });

    const lines = await herald(['history', '--types', 'cli.note']);
    expect(lines.stdout.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(new RegExp(`^${second?.seq}  \\S+Z  cli\\.note  herald-cli  \\{"n":2\\}$`)),
      expect.stringMatching(new RegExp(`^${seq}  \\S+Z  cli\\.note  cli-test  \\{"n":1,"text":"hello"\\}$`)),
    ]);
    const asJson = await herald(['--json', 'history', '--types', 'cli.note', '--order', 'asc', '--limit', '1']);
    expect(jsonLines(asJson.stdout)).toEqual([expect.objectContaining({ seq: Number(seq), event_id: eventId, payload: { n: 1, text: 'hello' } })]);
  });

  it('lists a subscription created through the API and replays a window to it', async () => {
    const event = jsonLines((await herald(['publish', 'cli.replayed', '--json'])).stdout)[0];
    const created = await api<{ subscription_id: string }>('POST', '/subscriptions', {
      subscriber_name: 'cli-billing', event_types: ['cli.replayed'], callback_url: `http://127.0.0.1:${await freePort()}/hook`,
    });
    const id = created.subscription_id;

    const table = await herald(['subscriptions']);
    expect(table.stdout).toMatch(/^ID +NAME +STATUS +TYPES +CALLBACK\n/);
    expect(table.stdout).toMatch(new RegExp(`^${id}  cli-billing  active  cli\\.replayed  http://127\\.0\\.0\\.1:\\d+/hook$`, 'm'));
    expect(jsonLines((await herald(['subscriptions', '--json', '--name', 'cli-billing'])).stdout)).toEqual([expect.objectContaining({ subscription_id: id })]);

    const replayed = await herald(['replay', id, '--since', '1h']);
    expect(replayed, replayed.stderr).toMatchObject({ code: 0, stdout: `replayed ${id}: deliveries_created=1 events_scanned=1\n` });
    const { deliveries } = await api<{ deliveries: Array<{ event_id: string }> }>('GET', `/subscriptions/${id}/deliveries`);
    expect(deliveries.map((d) => d.event_id)).toEqual([event?.event_id]);
  });

  it('refuses a bad command line with exit 2 and says why, and prints its version', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['history', '--colour'], /Unknown option '--colour'/],
      [['tail', '--after', 'ten'], /--after must be a seq/],
      [['replay', 'some-id'], /missing --since/],
    ];
    for (const [args, message] of cases) {
      const result = await herald(args);
      expect(result, args.join(' ')).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/--help' for usage/);
    }
    expect(await herald(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it("exits 1 with the server's error on a wrong key, and never prints the key", async () => {
    const wrongKey = 'not-the-right-key-4711';
    const result = await herald(['history'], { HERALD_KEY: wrongKey });
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/^herald history: unauthorized \(HTTP 401\): /);
    expect(result.stderr).not.toContain(wrongKey);
  });

  it('serve runs the server as npm start does, answers /health, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const serve = start(['serve'], { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', HERALD_DB_URL: `rocksdb://${makeTempDir('cli-serve')}` });
    await vi.waitFor(async () => {
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
    }, { timeout: 45_000, interval: 100 });
    if (process.platform === 'linux') {
      const [serverPid] = readFileSync(`/proc/${serve.child.pid}/task/${serve.child.pid}/children`, 'utf8').trim().split(' ');
      expect(readFileSync(`/proc/${serverPid}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=2');
    }
    serve.child.kill('SIGTERM');
    expect(await serve.exited, serve.stderr()).toBe(0);
  });

  // Last: it kills and restarts the shared server.
  it('tail streams live events and resumes after the server is killed and restarted, with no gap and no duplicate', { timeout: 120_000 }, async () => {
    const tail = start(['tail', '--json', '--types', 'cli.tailed']);
    try {
      await vi.waitFor(() => expect(tail.stderr()).toContain('streaming from'), { timeout: 20_000, interval: 50 });
      const first = await api<{ event: { seq: number } }>('POST', '/events', { event_type: 'cli.tailed', source: 't', payload: { n: 1 } });
      await vi.waitFor(() => expect(jsonLines(tail.stdout())).toHaveLength(1), { timeout: 20_000, interval: 50 });

      await server.stop('SIGKILL');
      server = await startServer(server.port);
      const later = [];
      for (const n of [2, 3]) later.push((await api<{ event: { seq: number } }>('POST', '/events', { event_type: 'cli.tailed', source: 't', payload: { n } })).event.seq);
      await vi.waitFor(() => expect(jsonLines(tail.stdout()).length).toBeGreaterThanOrEqual(3), { timeout: 30_000, interval: 50 });

      expect(jsonLines(tail.stdout()).map((e) => e.seq)).toEqual([first.event.seq, ...later]);
      expect(tail.stderr()).toMatch(/disconnected.*; reconnecting in \d+ ms/);
      tail.child.kill('SIGINT');
      expect(await tail.exited).toBe(0);
    } finally {
      tail.child.kill('SIGKILL');
    }
  });
});
