/**
 * Shared plumbing for the benchmarks: child processes (Herald and the ceiling server), readiness, temp dirs,
 * event bodies and percentiles. Every child is started by us and killed by pid at the end (SIGTERM, then
 * SIGKILL): the embedded SurrealDB engine can keep a process alive after close().
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
// One free-port finder for tests and benches.
import { freePort } from '../test/helpers/spawn-server.js';

export { freePort };

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));


export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `herald-bench-${prefix}-`));
}

export interface Child {
  name: string;
  proc: ChildProcess;
  port: number;
  baseUrl: string;
  /** Last lines the child wrote, shown when it fails. */
  output(): string;
  exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();
const dataDirs = new Set<string>();
// Last resort if the bench itself dies: never leave a server (and a locked RocksDB dir) behind.
process.on('exit', () => {
  for (const proc of live) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const proc of live) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    process.exit(130);
  });
}

function startChild(name: string, script: string, env: Record<string, string>, port: number): Child {
  // BENCH_PROFILE_DIR=/some/dir writes a V8 CPU profile of every Herald child there when it exits (--cpu-prof).
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const profile = profileDir && name === 'herald' ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const proc = spawn(process.execPath, [...profile, '--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  // BENCH_CHILD_LOG_DIR=/some/dir keeps each child's full output as <dir>/<name>-<pid>.log (for debugging).
  const logDir = process.env.BENCH_CHILD_LOG_DIR;
  if (logDir) {
    const file = createWriteStream(join(logDir, `${name}-${proc.pid}.log`));
    proc.stdout?.pipe(file);
    proc.stderr?.pipe(file);
  }
  const exited = new Promise<number | null>((resolveExit) => {
    proc.once('exit', (code) => {
      live.delete(proc);
      resolveExit(code);
    });
  });
  return { name, proc, port, baseUrl: `http://127.0.0.1:${port}`, output: () => tail, exited };
}

export interface HeraldChild extends Child {
  dataDir: string;
}

/** Herald on a fresh RocksDB directory (a locked or reused directory can hang the open). */
export async function startHerald(extraEnv: Record<string, string> = {}): Promise<HeraldChild> {
  const port = await freePort();
  const dataDir = tempDir('db');
  dataDirs.add(dataDir);
  const child = startChild('herald', 'src/server.ts', {
    PORT: String(port),
    HOST: '127.0.0.1',
    HERALD_DB_URL: `rocksdb://${join(dataDir, 'herald')}`,
    LOG_LEVEL: 'warn',
    HERALD_API_KEYS: '',
    // The load comes from one address; the benchmarks measure capacity, not the per-client limits.
    HERALD_RATE_LIMIT_PUBLISH: '0',
    HERALD_RATE_LIMIT_READ: '0',
    ...extraEnv,
  }, port);
  return readyOrStopped({ ...child, dataDir });
}

/** Waits for the child's GET /ready; stops it if it never gets there. */
async function readyOrStopped<T extends Child>(child: T): Promise<T> {
  try {
    await waitReady(child, '/ready');
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return child;
}

/** The bare Fastify no-op server (bench/ceiling-server.ts), or another ceiling script (bench/ceiling-ws-server.ts). */
export async function startCeiling(script = 'bench/ceiling-server.ts'): Promise<Child> {
  const port = await freePort();
  return readyOrStopped(startChild('ceiling', script, { PORT: String(port) }, port));
}

export async function waitReady(child: Child, path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${child.name} exited before it was ready:\n${child.output()}`);
    try {
      const res = await request(`${child.baseUrl}${path}`, { headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.output()}`);
}

/** SIGTERM, then SIGKILL if it has not exited after graceMs; removes a Herald's data directory. */
export async function stopChild(child: Child | HeraldChild | undefined, graceMs = 15_000): Promise<void> {
  if (!child) return;
  const { proc } = child;
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (proc.exitCode === null && proc.signalCode === null) {
        console.error(`  ${child.name} (pid ${proc.pid}) ignored SIGTERM for ${graceMs} ms; sending SIGKILL`);
        proc.kill('SIGKILL');
      }
    }, graceMs);
    await child.exited;
    clearTimeout(timer);
  }
  if ('dataDir' in child) {
    rmSync(child.dataDir, { recursive: true, force: true });
    dataDirs.delete(child.dataDir);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The 10 built-in event types (docs/design.md#events); a `types=` filter on one selects ~10% of a round-robin load. */
export const EVENT_TYPES = [
  'task_started', 'task_progress', 'task_completed', 'task_failed', 'task_cancelled',
  'agent_status_changed', 'workflow_step_changed', 'workflow_completed', 'system_alert', 'custom',
] as const;

/**
 * A ~250-byte task_progress body without event_id (the server generates one, so identical bodies still
 * create distinct events).
 */
export function publishBody(): string {
  return JSON.stringify({
    event_type: 'task_progress',
    source: 'bench-agent',
    target: 'dashboard',
    priority: 'normal',
    payload: { task: 'summarize-report', step: 3, of: 10, message: 'processing chunk of the document', pct: 30.5 },
    metadata: { host: 'bench-1', attempt: 1 },
  });
}

/** One event of a history load: ~200-byte payload, type chosen round-robin by index. */
export function loadEvent(index: number): Record<string, unknown> {
  return {
    event_type: EVENT_TYPES[index % EVENT_TYPES.length],
    source: `agent-${index % 50}`,
    payload: {
      task: `task-${Math.floor(index / 10)}`,
      step: index % 100,
      of: 100,
      message: 'processing chunk of the document for the agent run; this text pads the payload',
      data: 'x'.repeat(64),
    },
  };
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sortedMs.length);
  return sortedMs[Math.min(sortedMs.length, Math.max(1, rank)) - 1] as number;
}

export const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat: user+nice+system+irq+softirq+steal). */
export function machineBusySeconds(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime+stime of a process in seconds (Linux /proc/<pid>/stat; NaN elsewhere). */
export function processCpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/**
 * Other engineers run test suites on the same 2 cores. Waits, up to maxWaitS, until the rest of the machine
 * (everything but this process) has used less than maxPct of one core over a second; returns the last figure.
 */
export async function waitQuiet(maxPct = 25, maxWaitS = 120, indent = '          '): Promise<number> {
  const deadline = Date.now() + maxWaitS * 1000;
  for (let waited = false; ; waited = true) {
    const b0 = machineBusySeconds();
    const u0 = process.cpuUsage();
    await sleep(1000);
    const own = process.cpuUsage(u0);
    const busyPct = (machineBusySeconds() - b0 - (own.user + own.system) / 1e6) * 100;
    if (busyPct < maxPct) {
      if (waited) console.log(`${indent}(machine quiet again: ${fmt(busyPct, 0)}% of a core busy elsewhere)`);
      return busyPct;
    }
    if (Date.now() >= deadline) {
      console.log(`${indent}(machine still busy after ${maxWaitS} s: ${fmt(busyPct, 0)}% of a core elsewhere; running anyway)`);
      return busyPct;
    }
    if (!waited) console.log(`${indent}(waiting for the machine to go quiet: ${fmt(busyPct, 0)}% of a core busy elsewhere)`);
  }
}

/** Resident set of a process in MB, from /proc/<pid>/status (NaN where there is no /proc). */
export function rssMb(pid: number | undefined): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * Opens `count` WebSocket clients on `url` (50 at a time) that only hold their connection, and returns a
 * function closing them all. Rejects if a socket fails to open.
 */
export async function openIdleSockets(url: string, count: number): Promise<() => Promise<void>> {
  const { default: WebSocket } = await import('ws');
  const sockets: InstanceType<typeof WebSocket>[] = [];
  const closeAll = async () => {
    await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once('close', () => resolve());
      ws.terminate();
    })));
  };
  try {
    for (let opened = 0; opened < count; opened += 50) {
      await Promise.all(Array.from({ length: Math.min(50, count - opened) }, () => new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(url);
        sockets.push(ws);
        ws.once('open', () => resolve());
        ws.once('error', reject);
      })));
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  return closeAll;
}
