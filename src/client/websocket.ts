/**
 * The part of a WebSocket the client uses: the browser's `WebSocket` and the `ws` package's both fit, so
 * Node 20 (which has no global WebSocket) passes `ws`'s constructor and browsers need nothing.
 */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Listener<unknown> | null;
  onmessage: Listener<{ data: unknown }> | null;
  onclose: Listener<{ code: number; reason: string }> | null;
  onerror: Listener<unknown> | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * A listener checked bivariantly (method syntax): the DOM and `ws` declare their handlers with their own,
 * richer event classes, which a plain function type would refuse to accept in place of these shapes.
 */
type Listener<E> = { bivariant(event: E): void }['bivariant'];

/** The constructor to use: the one given, else the global one, else a message that says what to pass. */
export function webSocketConstructor(given: WebSocketConstructor | undefined): WebSocketConstructor {
  const found = given ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (found === undefined) {
    throw new TypeError("no WebSocket implementation: on Node 20 pass { WebSocket } from the 'ws' package to HeraldClient");
  }
  return found;
}

/** A frame's text: the DOM gives a string; `ws` gives a string too for text frames, a Buffer if asked. */
export function frameText(data: unknown): string {
  return typeof data === 'string' ? data : String(data);
}
