/**
 * The load phase of the crash-durability tests: CLIENTS closed-loop publishers against a real server process,
 * which gets SIGKILL once KILL_AFTER_ACKS publishes were acknowledged (a count, not a timer).
 */
import { Agent } from 'undici';
import { errorCode, publishRaw, type ServerProcess, type StoredEvent } from './spawn-server.js';

export const CLIENTS = 16;
export const KILL_AFTER_ACKS = 2000;

export interface KillUnderLoad {
  /** The body of client `client`'s `n`-th publish, and the key that tells it apart (its event_id or a token). */
  request(client: number, n: number): { key: string; body: string };
  /** Records an acknowledged publish (200 or 201) and returns what is wrong with it, if anything. */
  acked(key: string, status: number, event: StoredEvent): string[];
  /** How many publishes are acknowledged so far. */
  ackCount(): number;
}

export interface LoadOutcome {
  attempted: Set<string>;
  problems: string[];
  /** Requests outstanding when the kill was sent. */
  inFlightAtKill: number;
  killed: boolean;
  /** Connection errors the clients saw after the kill, by code. */
  errorsAfterKill: Map<string, number>;
  msToKill: number;
}

export async function killUnderLoad(server: ServerProcess, agent: Agent, load: KillUnderLoad): Promise<LoadOutcome> {
  const out: LoadOutcome = { attempted: new Set(), problems: [], inFlightAtKill: -1, killed: false, errorsAfterKill: new Map(), msToKill: 0 };
  const t0 = performance.now();
  let inFlight = 0;
  const kill = () => {
    out.killed = true;
    out.msToKill = performance.now() - t0;
    out.inFlightAtKill = inFlight;
    server.child.kill('SIGKILL');
  };
  const client = async (clientNo: number) => {
    for (let n = 0; !out.killed && out.problems.length === 0; n++) {
      const { key, body } = load.request(clientNo, n);
      out.attempted.add(key);
      let res: { status: number; text: string };
      inFlight++;
      try {
        res = await publishRaw(agent, server.url, body);
      } catch (error) {
        if (out.killed) {
          const code = errorCode(error);
          out.errorsAfterKill.set(code, (out.errorsAfterKill.get(code) ?? 0) + 1);
        } else {
          out.problems.push(`client ${clientNo}: request failed before the kill: ${String(error)}`);
        }
        return;
      } finally {
        inFlight--;
      }
      if (res.status !== 201 && res.status !== 200) {
        out.problems.push(`client ${clientNo}: POST /events answered ${res.status}: ${res.text}`);
        continue;
      }
      out.problems.push(...load.acked(key, res.status, (JSON.parse(res.text) as { event: StoredEvent }).event));
      if (!out.killed && load.ackCount() >= KILL_AFTER_ACKS) kill();
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
  // The clients stop early on a problem: end the server anyway, so that the test reports it rather than waits.
  if (!out.killed) server.child.kill('SIGKILL');
  return out;
}
