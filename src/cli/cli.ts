import { parseArgs } from 'node:util';
import { HeraldError } from '../client/index.js';
import { version } from '../lib/version.js';
import { COMMON_OPTIONS, parseCommand, UsageError } from './args.js';
import { history } from './commands/history.js';
import { publish } from './commands/publish.js';
import { replay } from './commands/replay.js';
import { serve } from './commands/serve.js';
import { subscriptions } from './commands/subscriptions.js';
import { tail } from './commands/tail.js';
import { createContext, DEFAULT_URL, type Command } from './context.js';

const COMMANDS: readonly Command[] = [serve, tail, publish, history, replay, subscriptions];

/** Exit codes: 0 done, 1 Herald or the network said no, 2 the command line is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const COMMON_HELP = `Common options:
  --url <url>              Herald's base URL (default: HERALD_URL, else ${DEFAULT_URL})
  --key <key>              API key (default: HERALD_KEY); prefer the variable, a flag shows in ps
  --json                   one JSON object per line instead of text
  -h, --help               this help`;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `Usage: herald <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

${COMMON_HELP}
  -V, --version            print Herald's version

Run 'herald <command> --help' for a command's options.`;
}

/** Runs one command line and resolves with the exit code; output goes to stdout/stderr. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let command: Command | undefined;
  let url: string | undefined;
  try {
    const { name, rest } = splitCommand(argv);
    if (name === undefined || name === 'help') {
      const topic = name === 'help' ? rest.find((a) => !a.startsWith('-')) : undefined;
      if (topic === undefined) {
        if (name === undefined && !rest.some((a) => a === '--help' || a === '-h')) {
          if (rest.some((a) => a === '--version' || a === '-V')) return write(version);
          throw new UsageError('missing command');
        }
        return write(mainHelp());
      }
      return run([topic, '--help'], env);
    }
    command = COMMANDS.find((c) => c.name === name);
    if (command === undefined) throw new UsageError(`unknown command '${name}'`);
    const parsed = parseCommand(command.name, rest, command.options);
    if (parsed.values.help === true) return write(`${command.help}\n\n${COMMON_HELP}`);
    const ctx = createContext(command.name, parsed, env);
    url = ctx.url;
    return (await command.run(ctx)) ?? EXIT.ok;
  } catch (err) {
    return report(err, command?.name, url);
  }
}

/**
 * The command is the first positional word, so common options may come before it (`herald --json history`).
 * Flags before it are read loosely here only to find it; the command's own strict parse checks them all.
 */
function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  const { tokens } = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, version: { type: 'boolean', short: 'V' } }, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((t) => t.kind === 'positional' || t.kind === 'option-terminator');
  if (first === undefined || first.kind !== 'positional') return { name: undefined, rest: argv };
  return { name: first.value, rest: argv.filter((_, i) => i !== first.index) };
}

function write(text: string): number {
  process.stdout.write(`${text}\n`);
  return EXIT.ok;
}

function report(err: unknown, command: string | undefined, url: string | undefined): number {
  const say = (line: string) => process.stderr.write(`herald${command ? ` ${command}` : ''}: ${line}\n`);
  if (err instanceof UsageError) {
    say(err.message);
    process.stderr.write(`Run 'herald ${command ? `${command} ` : ''}--help' for usage.\n`);
    return EXIT.usage;
  }
  if (err instanceof HeraldError) {
    say(`${err.code}${err.status ? ` (HTTP ${err.status})` : ''}: ${err.message}`);
    if (err.details !== undefined) process.stderr.write(`${JSON.stringify(err.details)}\n`);
    return EXIT.failed;
  }
  // fetch reports a refused or failed connection as TypeError('fetch failed') with the reason in `cause`.
  const cause = (err as { cause?: { message?: unknown } } | null)?.cause;
  if (typeof cause?.message === 'string') say(`cannot reach ${url ?? 'Herald'}: ${cause.message}`);
  else say(err instanceof Error ? err.message : String(err));
  return EXIT.failed;
}
