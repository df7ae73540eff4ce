import { Writable } from 'node:stream';
import { createTRPCClient, httpLink, TRPCClientError, type TRPCClient } from '@trpc/client';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import type { Frame } from '@inkboard/protocol';
import type { Config } from '../../apps/server/src/config.js';
import type { AppRouter } from '../../apps/server/src/trpc/routers/_app.js';
import { createInkboardClient, type InkboardClient } from '../../packages/client/src/index.js';
import { startServer } from './server.js';

export const SESSION_COOKIE = 'inkboard_session';

/** The code of a tRPC error (`UNAUTHORIZED`, `FORBIDDEN`...), or undefined for anything else. */
export function codeOf(err: unknown): string | undefined {
  if (err instanceof TRPCClientError) return (err.data as { code?: string } | undefined)?.code;
  return (err as { data?: { code?: string } } | null)?.data?.code;
}

/** Runs `call`; resolves to `{ ok: true, value }` or `{ ok: false, code, message }`, never rejects. */
export async function outcome<T>(call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string | undefined; message: string }> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    return { ok: false, code: codeOf(err), message: (err as Error).message };
  }
}

export interface RawResponse {
  status: number;
  body: { result?: { data?: unknown }; error?: { message: string; data?: { code?: string; httpStatus?: number } } };
  setCookie: string[];
}

/** One tRPC call over plain HTTP (no client library), so the status and Set-Cookie can be read. */
export async function rawCall(
  url: string,
  path: string,
  input: unknown,
  opts: { type?: 'query' | 'mutation'; cookie?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let res: Response;
  if ((opts.type ?? 'mutation') === 'query') {
    const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    res = await fetch(`${url}/trpc/${path}${qs}`, { headers });
  } else {
    headers['content-type'] = 'application/json';
    res = await fetch(`${url}/trpc/${path}`, { method: 'POST', headers, body: input === undefined ? undefined : JSON.stringify(input) });
  }
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {}, setCookie: res.headers.getSetCookie() };
}

/** The session id in a response's Set-Cookie, or null. */
export function sessionIdFrom(setCookie: string[]): string | null {
  for (const c of setCookie) {
    const m = c.match(new RegExp(`^${SESSION_COOKIE}=([^;]*)`));
    if (m && m[1]) return decodeURIComponent(m[1]);
  }
  return null;
}

export interface SignedIn {
  user: { id: string; username: string; name: string; color: string };
  sessionId: string;
  /** A Cookie header carrying the session. */
  cookie: string;
  setCookie: string[];
}

async function signed(url: string, path: 'auth.signUp' | 'auth.signIn', input: Record<string, unknown>): Promise<SignedIn> {
  const res = await rawCall(url, path, input);
  if (res.status !== 200) {
    const err = new Error(`${path} failed (${res.status}): ${res.body.error?.message}`) as Error & { data?: { code?: string } };
    err.data = { code: res.body.error?.data?.code };
    throw err;
  }
  const sessionId = sessionIdFrom(res.setCookie);
  if (!sessionId) throw new Error(`${path} set no session cookie: ${JSON.stringify(res.setCookie)}`);
  return { user: (res.body.result!.data as { user: SignedIn['user'] }).user, sessionId, cookie: `${SESSION_COOKIE}=${sessionId}`, setCookie: res.setCookie };
}

export const signUp = (url: string, username: string, password: string, name?: string) =>
  signed(url, 'auth.signUp', { username, password, ...(name ? { name } : {}) });
export const signIn = (url: string, username: string, password: string) => signed(url, 'auth.signIn', { username, password });

/** A typed tRPC client over HTTP only, with a cookie and/or a bearer token. */
export function httpClient(url: string, auth: { cookie?: string; token?: string } = {}): TRPCClient<AppRouter> {
  const headers: Record<string, string> = {};
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: () => headers })] });
}

/** What happened to one WebSocket the client opened. */
export interface SocketRecord {
  ws: WebSocket;
  openedAt: number | null;
  closedAt: number | null;
  closeCode: number | null;
  closeReason: string;
  errors: string[];
}

export interface WsClient extends InkboardClient {
  sockets: SocketRecord[];
}

/**
 * The Inkboard client over a WebSocket that sends a Cookie and/or an Origin header (as a browser
 * would) and records every socket it opens. With `allOverWebSocket`, queries and mutations go over
 * the socket too.
 */
export function wsClient(url: string, opts: { cookie?: string; origin?: string; token?: string; allOverWebSocket?: boolean; guestBoard?: string } = {}): WsClient {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.origin) headers.origin = opts.origin;
  const sockets: SocketRecord[] = [];
  class HeaderWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
      const rec: SocketRecord = { ws: this, openedAt: null, closedAt: null, closeCode: null, closeReason: '', errors: [] };
      sockets.push(rec);
      this.on('open', () => (rec.openedAt = Date.now()));
      this.on('close', (code, reason) => {
        rec.closedAt = Date.now();
        rec.closeCode = code;
        rec.closeReason = reason.toString();
      });
      this.on('error', (err) => rec.errors.push(err.message));
    }
  }
  const client = createInkboardClient({
    url,
    WebSocket: HeaderWebSocket as unknown as typeof globalThis.WebSocket,
    ...(opts.token ? { token: opts.token } : {}),
    ...(opts.allOverWebSocket ? { allOverWebSocket: true } : {}),
    ...(opts.guestBoard ? { guestBoard: opts.guestBoard } : {}),
  });
  return { ...client, sockets };
}

export interface Watch {
  frames: { at: number; frame: Frame }[];
  started: boolean;
  /** The subscription ended without an error (e.g. the client closed after a 4401). */
  completed: boolean;
  error: { at: number; code: string | undefined; message: string } | null;
  stop(): void;
}

/** Subscribes to a board's events and records what arrives. */
export function watch(client: InkboardClient, boardId: string): Watch {
  const w: Watch = { frames: [], started: false, completed: false, error: null, stop: () => {} };
  const sub = client.trpc.board.onEvents.subscribe(
    { boardId },
    {
      onStarted: () => (w.started = true),
      onData: (tracked) => w.frames.push({ at: Date.now(), frame: (tracked as unknown as { data: Frame }).data }),
      onError: (err) => (w.error = { at: Date.now(), code: codeOf(err), message: err.message }),
      onComplete: () => (w.completed = true),
    },
  );
  w.stop = () => sub.unsubscribe();
  return w;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds; throws with `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A writable stream that keeps every log line written to it. */
export function logCollector(): { stream: Writable; lines: string[]; text(): string } {
  const lines: string[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter(Boolean));
      cb();
    },
  });
  return { stream, lines, text: () => [...lines, partial].join('\n') };
}

export interface LoggedServer {
  app: FastifyInstance;
  url: string;
  dbPath: string;
  logs: ReturnType<typeof logCollector>;
  destroy(): Promise<void>;
}

/** Like `startServer`, but logging at `logLevel` (default debug) into a collector. */
export async function startLoggedServer(overrides: Partial<Config> = {}): Promise<LoggedServer> {
  const logs = logCollector();
  const server = await startServer({ logLevel: 'debug', ...overrides }, undefined, { logStream: logs.stream });
  return { app: server.app, url: server.url, dbPath: server.dbPath, logs, destroy: server.destroy };
}
