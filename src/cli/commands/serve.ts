import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { positionals } from '../args.js';
import type { Command } from '../context.js';

/** The package root, from src/cli/commands or from its build in dist/cli/commands. */
const ROOT = new URL('../../../', import.meta.url);
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export const serve: Command = {
  name: 'serve',
  summary: 'run the Herald server here (what npm start does)',
  help: `Usage: herald serve

Runs the Herald server in the foreground, configured by environment variables (PORT, HERALD_DB_URL, …; see
the README's Configuration). In a checkout it runs src/server.ts through tsx, exactly as npm start does,
with MALLOC_ARENA_MAX=2 unless set; otherwise the build in dist/ (npm run build). SIGINT, SIGTERM and SIGHUP
are passed on, and it exits with the server's exit code. The default database, ./data/herald, is relative
to the current directory.`,
  options: {},
  async run(ctx) {
    positionals(ctx.command, ctx.parsed.positionals, [], 0);
    const args = serverArgs();
    if (args === undefined) {
      ctx.note('serve needs the Herald server: run it in a Herald checkout after npm install, or after npm run build');
      return 1;
    }
    // glibc reads MALLOC_ARENA_MAX when the process starts, so the server must be a child with it set.
    const env = { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX || '2' };
    // Its own process group: a terminal's Ctrl-C reaches only this process, which passes it on once
    // (a second SIGINT would find the server's handler gone and end it without a graceful shutdown).
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of FORWARDED) process.on(signal, forward);
    return new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        for (const s of FORWARDED) process.off(s, forward);
        resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
      });
    });
  },
};

/** Node's arguments for the server: the TypeScript sources through tsx in a checkout, else the build. */
function serverArgs(): string[] | undefined {
  const source = fileURLToPath(new URL('src/server.ts', ROOT));
  if (existsSync(source)) {
    const tsx = resolveTsx();
    if (tsx !== undefined) return ['--import', tsx, source];
  }
  const built = fileURLToPath(new URL('dist/server.js', ROOT));
  return existsSync(built) ? [built] : undefined;
}

function resolveTsx(): string | undefined {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return undefined; // Installed without devDependencies.
  }
}
