import { performance } from 'node:perf_hooks';
import { fromWireFrame, type BoardEvent, type Frame, type PresenceEntry, type WireFrame } from '@inkboard/protocol';
import type { InkboardClient } from '../../packages/client/src/index.js';
import { connect, grantAccess, waitFor } from './server.js';

export type EventOf<T extends BoardEvent['type']> = Extract<BoardEvent, { type: T }>;

/** A frame as one subscriber got it, with its arrival time (performance.now()). */
export interface ReceivedFrame {
  at: number;
  id: string | undefined;
  frame: Frame;
}

/**
 * A raw subscription of a board over its own WebSocket connection (every call of its client goes
 * over that connection too, so the server sees one clientId for its subscription and its calls).
 */
export interface Watcher {
  name: string;
  client: InkboardClient;
  /** Every frame received, in order. */
  frames: ReceivedFrame[];
  /** Subscription errors (the subscription is over after one). */
  errors: Error[];
  /** Every event of every frame, in order. */
  events(): BoardEvent[];
  eventsOf<T extends BoardEvent['type']>(type: T): EventOf<T>[];
  /** Waits for the first frame (the subscription is live on the server from then on). */
  ready(timeoutMs?: number): Promise<Frame>;
  /** This connection's clientId on the server, read from the presence list of its first frame. */
  clientId(): string;
  /** Waits for an event of `type` matching `match` (among all received so far or later). */
  waitForEvent<T extends BoardEvent['type']>(type: T, match: (e: EventOf<T>) => boolean, what: string, timeoutMs?: number): Promise<EventOf<T>>;
  /** Waits for the subscription to fail, and returns the error. */
  waitForError(what: string, timeoutMs?: number): Promise<Error & { data?: { code?: string } }>;
  /** Stops the subscription; the connection stays open. */
  unsubscribe(): void;
  /** Closes the connection. */
  close(): Promise<void>;
}

export interface WatchOptions {
  /** Role granted on the board before subscribing (default editor); null grants nothing. */
  role?: 'editor' | 'viewer' | null;
  lastEventId?: string | null;
  /** The display name the server shows for this user, when not `name` (to find its presence entry). */
  displayName?: string;
}

export function watch(url: string, boardId: string, name: string, options: WatchOptions = {}): Watcher {
  const role = options.role === undefined ? 'editor' : options.role;
  if (role) grantAccess(url, boardId, name, role);
  const client = connect(url, name, { allOverWebSocket: true });
  const frames: ReceivedFrame[] = [];
  const errors: Error[] = [];
  const input = options.lastEventId === undefined ? { boardId } : { boardId, lastEventId: options.lastEventId };
  const sub = client.trpc.board.onEvents.subscribe(input, {
    onData: (data: { id: string; data: WireFrame }) => frames.push({ at: performance.now(), id: data.id, frame: fromWireFrame(data.data) }),
    onError: (err: Error) => errors.push(err),
  });
  const events = () => frames.flatMap((f) => f.frame.events);
  const eventsOf = <T extends BoardEvent['type']>(type: T) => events().filter((e): e is EventOf<T> => e.type === type);
  let unsubscribed = false;
  const watcher: Watcher = {
    name,
    client,
    frames,
    errors,
    events,
    eventsOf,
    async ready(timeoutMs = 10_000) {
      await waitFor(() => frames.length > 0 || errors.length > 0, `${name}'s first frame`, timeoutMs);
      if (!frames.length) throw new Error(`${name}'s subscription failed: ${errors[0]!.message}`);
      return frames[0]!.frame;
    },
    clientId() {
      const first = frames[0]?.frame;
      if (!first) throw new Error(`${name} has no first frame yet`);
      const presence = first.events.find((e) => e.type === 'presence');
      if (!presence) throw new Error(`${name}'s first frame has no presence event`);
      const shown = options.displayName ?? name;
      const mine = presence.clients.filter((c: PresenceEntry) => c.user.name === shown);
      if (mine.length !== 1) throw new Error(`expected exactly one presence entry named ${shown}, got ${mine.length}`);
      return mine[0]!.clientId;
    },
    async waitForEvent(type, match, what, timeoutMs = 10_000) {
      let found: EventOf<typeof type> | undefined;
      await waitFor(() => (found = eventsOf(type).find(match)) !== undefined, `${name} to receive ${what}`, timeoutMs);
      return found!;
    },
    async waitForError(what, timeoutMs = 10_000) {
      await waitFor(() => errors.length > 0, `${name}'s subscription to fail (${what})`, timeoutMs);
      return errors[0] as Error & { data?: { code?: string } };
    },
    unsubscribe() {
      if (unsubscribed) return;
      unsubscribed = true;
      sub.unsubscribe();
    },
    async close() {
      watcher.unsubscribe();
      await client.close();
    },
  };
  return watcher;
}

/** The error a call fails with; fails the test when the call succeeds. */
export async function rejection(promise: Promise<unknown>, what: string): Promise<Error & { data?: { code?: string } }> {
  let value: unknown;
  try {
    value = await promise;
  } catch (err) {
    return err as Error & { data?: { code?: string } };
  }
  throw new Error(`expected ${what} to be refused, but it succeeded with ${JSON.stringify(value)?.slice(0, 200)}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
