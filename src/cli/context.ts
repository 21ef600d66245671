import { HeraldClient, type WebSocketConstructor } from '../client/index.js';
import { stringValue, UsageError, type OptionSpec, type Parsed } from './args.js';

export const DEFAULT_URL = 'http://localhost:8080';

/** What a command runs with: its parsed arguments, the output streams, and a client for the chosen Herald. */
export interface Context {
  command: string;
  parsed: Parsed;
  /** `--json`: one JSON object per line on stdout. */
  json: boolean;
  /** The Herald base URL (`--url`, else HERALD_URL, else http://localhost:8080); the key is never shown. */
  url: string;
  client(): Promise<HeraldClient>;
  /** A line on stdout: the command's result. */
  print(line: string): void;
  /** A line on stderr: progress and warnings, so stdout stays data. */
  note(line: string): void;
}

export interface Command {
  name: string;
  /** One line for `herald --help`. */
  summary: string;
  /** `herald <name> --help`, without the common options. */
  help: string;
  options: OptionSpec;
  /** Resolves with the exit code (0 when it returns nothing). */
  run(ctx: Context): Promise<number | void>;
}

export function createContext(command: string, parsed: Parsed, env: NodeJS.ProcessEnv): Context {
  const url = stringValue(parsed, 'url') ?? (env.HERALD_URL || DEFAULT_URL);
  const apiKey = stringValue(parsed, 'key') ?? (env.HERALD_KEY || undefined);
  return {
    command,
    parsed,
    json: parsed.values.json === true,
    url,
    client: async () => {
      if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`the Herald URL must be http(s)://host[:port], got '${url}'`, command);
      return new HeraldClient({ baseUrl: url, ...(apiKey !== undefined && { apiKey }), WebSocket: await webSocket() });
    },
    print: (line) => void process.stdout.write(`${line}\n`),
    note: (line) => void process.stderr.write(`herald: ${line}\n`),
  };
}

/** Node 22+ has a global WebSocket; Node 20 gets the `ws` package's, loaded only when needed. */
async function webSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  return global ?? ((await import('ws')).default as unknown as WebSocketConstructor);
}
