/**
 * Runs the real Herald server (`node --import tsx src/server.ts`) as a child process, for tests that need a
 * process boundary: SIGKILL, SIGTERM, a held RocksDB LOCK, boot-time config errors.
 *
 * Every child and temp directory made here is tracked; call `cleanupServers()` in afterAll. A process-exit
 * hook SIGKILLs whatever is still alive if a test worker ends without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, type Agent } from 'undici';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  child: ChildProcess;
  /** Settles once the process has exited and its stdout/stderr are fully read. */
  exited: Promise<ExitInfo>;
  /** stdout and stderr so far, interleaved in arrival order. */
  output(): string;
  running(): boolean;
  /** Sends `signal` (default SIGTERM) unless the process is already gone; resolves with its exit. */
  stop(signal?: NodeJS.Signals): Promise<ExitInfo>;
}

export interface SpawnOptions {
  /** Data directory; the server gets HERALD_DB_URL=rocksdb://<dataDir>. */
  dataDir: string;
  /** Extra or overriding environment variables (PORT, LOG_LEVEL, HERALD_*, ...). */
  env?: Record<string, string>;
  /** How long to wait for GET /ready to answer 200 (default 30 s). */
  readyTimeoutMs?: number;
  /**
   * Start again when the server exits during startup because the data directory is still locked (a previous
   * holder is going away). Port clashes (EADDRINUSE) are always retried with a fresh port.
   */
  retryLocked?: boolean;
}

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** A fresh directory under the OS temp dir, removed by cleanupServers(). */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `herald-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

/** A port nobody listens on right now (listen on 0, read it, close). Callers retry on EADDRINUSE. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port assigned'));
        return;
      }
      server.close(() => resolvePort(address.port));
    });
  });
}

function childEnv(port: number, dataDir: string, overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Inherit PATH, HOME, ... but nothing that configures Herald from the developer's shell.
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('HERALD_') || name === 'PORT' || name === 'HOST' || name === 'LOG_LEVEL') continue;
    env[name] = value;
  }
  return {
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
    HERALD_DB_URL: `rocksdb://${dataDir}`,
    LOG_LEVEL: 'warn',
    // A test's load all comes from 127.0.0.1: the rate limits are off unless the test sets them.
    HERALD_RATE_LIMIT_PUBLISH: '0',
    HERALD_RATE_LIMIT_READ: '0',
    ...overrides,
  };
}

/**
 * Starts the server process and returns at once, without waiting for readiness — for processes that are
 * expected to fail at boot. Most tests want spawnServer().
 */
export async function startServerProcess(options: SpawnOptions): Promise<ServerProcess> {
  installExitHook();
  const overrides = options.env ?? {};
  const port = overrides.PORT !== undefined ? Number(overrides.PORT) : await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: REPO_ROOT,
    env: childEnv(port, options.dataDir, overrides),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);

  const chunks: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));

  let exitInfo: ExitInfo | null = null;
  child.once('exit', (code, signal) => {
    exitInfo = { code, signal };
    live.delete(child);
  });
  const exited = new Promise<ExitInfo>((resolveExit) => {
    // 'close' comes after 'exit' once stdio is drained, so output() is complete when this settles.
    child.once('close', (code, signal) => resolveExit({ code, signal }));
    child.once('error', () => resolveExit({ code: null, signal: null }));
  });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    exited,
    output: () => chunks.join(''),
    running: () => exitInfo === null,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (exitInfo === null) child.kill(signal);
      return exited;
    },
  };
}

/** Resolves 'ready' once GET /ready answers 200, 'exited' if the process dies first; throws at the deadline. */
export async function waitReady(server: ServerProcess, timeoutMs = 30_000): Promise<'ready' | 'exited'> {
  const deadline = Date.now() + timeoutMs;
  const exited = server.exited.then(() => 'exited' as const);
  while (Date.now() < deadline) {
    if (!server.running()) return 'exited';
    try {
      const res = await fetch(`${server.url}/ready`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return 'ready';
    } catch {
      // Not listening yet.
    }
    // Poll again shortly, or stop polling the moment the process exits.
    const outcome = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 50))]);
    if (outcome === 'exited') return 'exited';
  }
  throw new Error(`server on ${server.url} not ready within ${timeoutMs} ms; output:\n${server.output()}`);
}

/** Starts the server and resolves once GET /ready returns 200. Throws (with the server's output) otherwise. */
export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const server = await startServerProcess(options);
    const state = await waitReady(server, Math.max(1, deadline - Date.now()));
    if (state === 'ready') return server;
    const exit = await server.exited;
    const output = server.output();
    const retryable = /EADDRINUSE/.test(output) || (options.retryLocked === true && /locked/i.test(output));
    if (!retryable || Date.now() >= deadline) {
      throw new Error(
        `server exited before ready (attempt ${attempt}, code ${exit.code}, signal ${exit.signal}); output:\n${output}`,
      );
    }
  }
}

/** SIGKILLs every server still running, waits for them, and removes the temp directories. */
export async function cleanupServers(): Promise<void> {
  const children = [...live];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolveExit) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolveExit();
          child.once('exit', () => resolveExit());
          child.kill('SIGKILL');
        }),
    ),
  );
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

export interface StoredEvent {
  event_id: string;
  seq: number;
  [field: string]: unknown;
}

/** Every event in seq order, read through GET /events?order=asc&after=<cursor>&limit=1000 until next_cursor is null. */
export async function readAllEvents(url: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let after = '0';
  for (let page = 0; ; page++) {
    if (page > 10_000) throw new Error('history paging did not terminate');
    const res = await fetch(`${url}/events?order=asc&after=${after}&limit=1000`);
    const body = (await res.json()) as { events: StoredEvent[]; next_cursor: string | null };
    if (res.status !== 200) throw new Error(`GET /events answered ${res.status}: ${JSON.stringify(body)}`);
    events.push(...body.events);
    if (body.next_cursor === null) return events;
    if (Number(body.next_cursor) <= Number(after)) {
      throw new Error(`next_cursor went from ${after} to ${body.next_cursor}`);
    }
    after = body.next_cursor;
  }
}

/** The `code` of a failed undici/fetch request (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...). */
export function errorCode(error: unknown): string {
  const e = error as { code?: unknown; cause?: { code?: unknown }; name?: unknown } | null;
  if (e && typeof e.code === 'string') return e.code;
  if (e && e.cause && typeof e.cause.code === 'string') return e.cause.code;
  return e && typeof e.name === 'string' ? e.name : String(error);
}

/** POST /events with a raw JSON body through `agent`; a connection error (the server died) throws. */
export async function publishRaw(agent: Agent, url: string, payload: string): Promise<{ status: number; text: string }> {
  const res = await request(`${url}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: payload,
    dispatcher: agent,
    headersTimeout: 20_000,
    bodyTimeout: 20_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}
