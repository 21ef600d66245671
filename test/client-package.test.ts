/**
 * The client as a consumer gets it: `npm pack` on a copy of the working tree (so its `prepare` build writes
 * nowhere near the dist/ other tests use), `npm install <tarball>` into an empty project, then a plain .mjs
 * run by node imports `herald/client` and publishes to a listening Herald, and tsc resolves the package's
 * types the way a consumer's NodeNext project does.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './helpers/app.js';
import { cleanupServers, makeTempDir, REPO_ROOT } from './helpers/spawn-server.js';

const run = promisify(execFile);
// Generous: tsc and npm take many seconds on a loaded 2-core machine; hangs are what these catch.
const STEP_TIMEOUT_MS = 180_000;
// npm runs its scripts and tsc with this test's node, so the Node 24 CI run checks the package under 24.
const NODE_DIR = dirname(process.execPath);
const env = { ...process.env, PATH: `${NODE_DIR}:${process.env.PATH ?? ''}`, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const npm = (args: string[], cwd: string) => run('npm', args, { cwd, env, maxBuffer: 16 * 1024 * 1024 });

const writeLines = (file: string, lines: string[]) => writeFileSync(file, `${lines.join('\n')}\n`);

let app: FastifyInstance;
let baseUrl: string;
let consumer: string;
let tarball: string;

beforeAll(async () => {
  app = await testApp();
  baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });

  // The files a clone has (tracked, plus new ones not ignored), with this checkout's node_modules for the build.
  const source = makeTempDir('pack-src');
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
  for (const file of stdout.split('\0').filter(Boolean)) {
    mkdirSync(dirname(join(source, file)), { recursive: true });
    try {
      cpSync(join(REPO_ROOT, file), join(source, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;   // deleted but not yet staged
    }
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(source, 'node_modules'));

  const packed = makeTempDir('pack-out');
  await npm(['pack', '--pack-destination', packed], source);
  const [name] = readdirSync(packed).filter((f) => f.endsWith('.tgz'));
  if (!name) throw new Error('npm pack wrote no tarball');
  tarball = join(packed, name);

  consumer = makeTempDir('pack-consumer');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await npm(['install', '--prefer-offline', '--ignore-scripts', tarball], consumer);
}, 2 * STEP_TIMEOUT_MS);

afterAll(async () => {
  await app?.close();
  await cleanupServers();
});

describe('the packed client (npm pack, then npm install <tarball>)', { timeout: STEP_TIMEOUT_MS }, () => {
  it('holds the built client with its type declarations and the herald command, and no server code or sources', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining([
      'package.json', 'README.md', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/schemas/event.d.ts', 'bin/herald.js', 'dist/cli/main.js',
    ]));
    const shipped = /^(dist\/client\/|dist\/schemas\/[\w-]+\.d\.ts$|dist\/cli\/[\w/-]+\.js$|dist\/lib\/(version|duration)\.js$|bin\/herald\.js$|package\.json$|README\.md$|docs\/client\.md$)/;
    expect(files.filter((f) => !shipped.test(f))).toEqual([]);
  });

  it('runs `npx herald` in the installing project', async () => {
    const { stdout } = await run('npx', ['--no-install', 'herald', 'publish', 'task_started', '--source', 'packed-cli', '--url', baseUrl, '--json'], { cwd: consumer, env });
    const stored = JSON.parse(stdout) as { seq: number };
    const res = await app.inject({ method: 'GET', url: '/events?source=packed-cli' });
    expect(res.json<{ events: { seq: number }[] }>().events.map((e) => e.seq)).toEqual([stored.seq]);
  });

  it('is imported as herald/client by a plain .mjs and publishes to a running Herald', async () => {
    writeLines(join(consumer, 'publish.mjs'), [
      "import { HeraldClient } from 'herald/client';",
      'const herald = new HeraldClient({ baseUrl: process.argv[2] });',
      "const stored = await herald.publish({ event_type: 'task_started', source: 'packed-client' });",
      'console.log(JSON.stringify(stored));',
    ]);
    const { stdout } = await run(process.execPath, ['publish.mjs', baseUrl], { cwd: consumer, env });
    const stored = JSON.parse(stdout) as { seq: number; source: string };
    expect(stored).toMatchObject({ source: 'packed-client', event_type: 'task_started' });

    const res = await app.inject({ method: 'GET', url: '/events?source=packed-client' });
    expect(res.json<{ events: { seq: number }[] }>().events.map((e) => e.seq)).toEqual([stored.seq]);
  });

  it('gives a NodeNext TypeScript project its types', async () => {
    writeLines(join(consumer, 'check.ts'), [
      "import { HeraldClient, type HeraldEvent } from 'herald/client';",
      "const herald = new HeraldClient({ baseUrl: 'http://localhost:8080' });",
      "const stored: HeraldEvent = await herald.publish({ event_type: 'task_started', source: 'typed' });",
      'const seq: number = stored.seq;',
      '// @ts-expect-error: an unknown priority is a type error, so the types are the real ones and not `any`',
      "await herald.publish({ event_type: 'task_started', source: 'typed', priority: 'urgent' });",
      'export { seq };',
    ]);
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2022', 'DOM'], types: [] },
      files: ['check.ts'],
    }));
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer, env })).resolves.toBeDefined();
  });
});
