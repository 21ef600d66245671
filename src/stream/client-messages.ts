import type { ValidateFunction } from 'ajv';
import { MESSAGE_ID_MAX_LENGTH, type ClientMessage, type SubscribeMessage } from '../schemas/stream.js';
import { parseJson } from '../lib/json.js';
import { FilterError, parseFilter, and, type FilterNode } from '../events/filter.js';
import { filtersObject } from '../events/selection.js';
import type { StreamLimits } from './context.js';

/** Why a client's frame is refused: the fields of the error frame that answers it. */
export interface Rejection {
  id: string | number | undefined;
  code: string;
  message: string;
  details?: unknown;
}

/** An error frame carries the client's id only when it is one the protocol allows, so the frame stays valid. */
function echoableId(id: unknown): string | number | undefined {
  if (typeof id === 'string' && id.length <= MESSAGE_ID_MAX_LENGTH) return id;
  if (typeof id === 'number' && Number.isFinite(id)) return id;
  return undefined;
}

/** A WebSocket client's frame as one of the protocol's messages, or why it is not one. */
export function readClientMessage(
  data: Buffer,
  isBinary: boolean,
  validators: ReadonlyMap<string, ValidateFunction>,
): { message: ClientMessage } | { rejection: Rejection } {
  let message: unknown;
  try {
    if (isBinary) throw new Error('binary frames are not part of the protocol');
    message = parseJson(data);
  } catch (err) {
    return { rejection: { id: undefined, code: 'invalid_json', message: `message is not JSON text: ${(err as Error).message}` } };
  }
  const type = (message as { type?: unknown } | null)?.type;
  const id = echoableId((message as { id?: unknown } | null)?.id);
  const validate = typeof type === 'string' ? validators.get(type) : undefined;
  if (!validate) {
    return { rejection: { id, code: 'unknown_type', message: `unknown message type ${JSON.stringify(type)}; expected subscribe, unsubscribe, publish or ping` } };
  }
  if (!validate(message)) {
    const details = (validate.errors ?? []).map((e) => ({ path: e.instancePath, message: e.message, params: e.params }));
    return { rejection: { id, code: 'invalid_message', message: `invalid ${type} message: ${details.map((d) => `${d.path || '/'} ${d.message}`).join('; ')}`, details } };
  }
  return { message: message as ClientMessage };
}

/** What a valid subscribe message filters on (its `filters` fields and `filter` expression together), or why it cannot. */
export function readSubscribeFilter(message: SubscribeMessage): { filter: FilterNode } | { rejection: Rejection } {
  try {
    return { filter: and(...filtersObject(message.filters ?? {}), ...(message.filter === undefined ? [] : [parseFilter(message.filter)])) };
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    return { rejection: { id: message.id, code: 'invalid_filter', message: err.message, details: { path: err.path, problem: err.problem } } };
  }
}

/** The times of a socket's recent bad messages: a client that keeps sending them is closed rather than answered forever. */
export class BadMessageWindow {
  private times: number[] = [];

  constructor(private readonly limits: Pick<StreamLimits, 'maxBadMessages' | 'badMessageWindowMs'>) {}

  /** Counts one bad message now; true when the window then holds more than `maxBadMessages`. */
  add(): boolean {
    const now = Date.now();
    this.times = this.times.filter((t) => now - t < this.limits.badMessageWindowMs);
    this.times.push(now);
    return this.times.length > this.limits.maxBadMessages;
  }
}
