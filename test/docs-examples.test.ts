/**
 * Runs every code example in README.md and docs/*.md against a real Herald process, in document order: shell
 * blocks in one bash session per file (so a later block can use an id an earlier one saved), JS with node
 * and TS with tsx. Each must succeed and print what its `→` comments show. `localhost:8080` and the
 * README's receiver port 9000 are rewritten here to free ports; the docs keep the ports a reader uses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from './helpers/build-dist.js';
import { codeBlocks, showsOutput, type CodeBlock, type Runner } from './helpers/markdown-examples.js';
import { cleanupServers, freePort, makeTempDir, REPO_ROOT, spawnServer, type ServerProcess } from './helpers/spawn-server.js';

const DOCS = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
// Inside the repository, so that examples resolve `ws`, `herald/client` (the package's own exports) and `npx herald`.
const SCRATCH = join(REPO_ROOT, '.scratch', `docs-examples-${process.pid}`);
// Generous: a tsx start takes seconds on a loaded machine. Hangs are what these catch, not slowness.
const EXAMPLE_TIMEOUT_MS = 60_000;

/** The environment of an example: the developer's, minus anything that configures Herald or its client. */
function exampleEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HERALD_')));
}

interface Run {
  code: number | null;
  output: string;
}

function runFile(runner: 'node' | 'tsx', file: string): Promise<Run> {
  const args = runner === 'tsx' ? ['--import', 'tsx', file] : [file];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: SCRATCH, env: exampleEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), EXAMPLE_TIMEOUT_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** One bash process per document; each block is sourced from a file, with stdin closed so no command eats the script. */
class ShellSession {
  private readonly child: ChildProcess;
  private output = '';
  private consumed = 0;
  private exitCode: number | null | undefined;
  private readonly waiters = new Set<() => void>();

  constructor() {
    // Its own process group, so the README's background receiver ends with it whatever happens.
    this.child = spawn('bash', ['--norc', '--noprofile'], { cwd: SCRATCH, env: exampleEnv(), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const collect = (chunk: string) => {
      this.output += chunk;
      for (const waiter of [...this.waiters]) waiter();
    };
    this.child.stdout?.setEncoding('utf8').on('data', collect);
    this.child.stderr?.setEncoding('utf8').on('data', collect);
    this.child.once('exit', (code) => {
      this.exitCode = code;
      for (const waiter of [...this.waiters]) waiter();
    });
    this.child.stdin?.write('set -eo pipefail\n');
  }

  /** Runs one block; resolves with what it printed, or rejects with the session's output if it failed. */
  async run(name: string, code: string): Promise<string> {
    const file = join(SCRATCH, `${name}.sh`);
    writeFileSync(file, code);
    const sentinel = `@@${name} done@@`;
    this.child.stdin?.write(`source '${file}' < /dev/null\nprintf '\\n%s\\n' '${sentinel}'\n`);
    await this.until(() => this.output.includes(sentinel, this.consumed) || this.exitCode !== undefined);
    const end = this.output.indexOf(sentinel, this.consumed);
    if (end < 0) throw new Error(`${name} failed (bash exited ${this.exitCode}); output:\n${this.output.slice(this.consumed)}`);
    const printed = this.output.slice(this.consumed, end);
    this.consumed = end + sentinel.length;
    return printed;
  }

  async end(): Promise<number | null> {
    this.child.stdin?.end('exit 0\n');
    await this.until(() => this.exitCode !== undefined);
    return this.exitCode ?? null;
  }

  kill(): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // The group is already gone.
    }
  }

  private until(done: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`shell example did not finish within ${EXAMPLE_TIMEOUT_MS} ms; output:\n${this.output.slice(this.consumed)}`));
      }, EXAMPLE_TIMEOUT_MS);
      this.waiters.add(check);
      check();
    });
  }
}

function expectDocumentedOutput(where: string, documented: string[], output: string): void {
  for (const expected of documented) {
    expect(showsOutput(output, expected), `${where} should print ${expected}; it printed:\n${output}`).toBe(true);
  }
}

describe('the example extractor', () => {
  const markdown = [
    'text', '```sh', 'curl -s localhost:8080/ready   # → {"ready":true}', '```',
    '<!-- example: skip (needs Docker) -->', '', '```sh', 'docker compose up', '```',
    '1. a step', '   ```sql', '   SELECT 1;', '   ```', '```html', '<p>', '```', '```js', '// → 1 task_… {"a":1}', '```',
  ].join('\n');
  const blocks = codeBlocks(markdown);

  it('classifies blocks by language and marker, including indented fences', () => {
    expect(blocks.map((b) => [b.line, b.kind])).toEqual([[2, 'bash'], [7, 'skip'], [11, 'data'], [14, 'unknown'], [17, 'node']]);
    expect(blocks[1]?.skipReason).toBe('needs Docker');
    expect(blocks[2]?.code).toBe('SELECT 1;');
  });

  it('reads documented output, where … elides within a line', () => {
    expect(blocks[0]?.expected).toEqual(['{"ready":true}']);
    expect(showsOutput('{"ready":true}', '{"ready":true}')).toBe(true);
    expect(showsOutput('{"ready":false}', '{"ready":true}')).toBe(false);
    const expected = blocks[4]?.expected[0] ?? '';
    expect(showsOutput('seq 1 task_progress {"a":1}\n', expected)).toBe(true);
    expect(showsOutput('1 task_progress {"a":2}', expected)).toBe(false);
  });
});

beforeAll(() => {
  mkdirSync(SCRATCH, { recursive: true });
  buildDist();
});
afterAll(async () => {
  await cleanupServers();
  rmSync(SCRATCH, { recursive: true, force: true });
});

describe.each(DOCS)('%s', (doc) => {
  const blocks = codeBlocks(readFileSync(join(REPO_ROOT, doc), 'utf8'));
  const runnable = blocks.filter((b): b is CodeBlock & { kind: Runner } => b.kind === 'bash' || b.kind === 'node' || b.kind === 'tsx');

  it('runs every code block, or shows data, or says why not', () => {
    const unmarked = blocks.filter((b) => b.kind === 'unknown').map((b) => `${doc}:${b.line} (\`\`\`${b.info})`);
    expect(unmarked, 'mark these <!-- example: skip (reason) --> or give them a runnable language').toEqual([]);
  });

  it.runIf(runnable.length > 0)('runs its examples in document order and they print what they document', { timeout: 240_000 }, async () => {
    let server: ServerProcess | undefined;
    let session: ShellSession | undefined;
    try {
      const ports = new Map<string, string>();
      if (runnable.some((b) => b.code.includes('localhost:8080'))) {
        server = await spawnServer({ dataDir: makeTempDir('docs'), env: { HOST: 'localhost', HERALD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' }, readyTimeoutMs: 60_000 });
        ports.set('8080', String(server.port));
      }
      if (runnable.some((b) => /\b9000\b/.test(b.code))) ports.set('9000', String(await freePort()));
      const localize = (code: string) => code.replace(/\b(8080|9000)\b/g, (port) => ports.get(port) ?? port);

      for (const block of runnable) {
        const where = `${doc}:${block.line}`;
        const name = `${doc.replace(/\W/g, '-')}-${block.line}`;
        if (block.kind === 'bash') {
          session ??= new ShellSession();
          expectDocumentedOutput(where, block.expected.map(localize), await session.run(name, localize(block.code)));
          continue;
        }
        const file = join(SCRATCH, `${name}.${block.kind === 'tsx' ? 'mts' : 'mjs'}`);
        writeFileSync(file, localize(block.code));
        const run = await runFile(block.kind, file);
        expect(run.code, `${where} exited ${run.code}; output:\n${run.output}`).toBe(0);
        expectDocumentedOutput(where, block.expected.map(localize), run.output);
      }
      if (session) expect(await session.end(), `${doc}: the shell session`).toBe(0);
    } finally {
      session?.kill();
      await server?.stop();
    }
  });
});
