import { fastifyCookie } from '@fastify/cookie';
import { connectionParamsSchema, GUEST_COOKIE, GUEST_TOKEN_PREFIX, newId, type User } from '@inkboard/protocol';
import type { CreateFastifyContextOptions } from '@trpc/server/adapters/fastify';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { WebSocket } from 'ws';
import type { AuthService, Credential } from '../auth/AuthService.js';
import type { GuestPrincipal, GuestService } from '../auth/GuestService.js';
import { newestGuest, readGuestCookie } from '../auth/guestCookie.js';
import type { ConnectionRegistry } from '../auth/connections.js';
import type { RateLimitKind, TokenBuckets } from '../auth/TokenBucket.js';
import type { Metrics } from '../plugins/metrics.js';
import type { ViolationCounter } from './trpc.js';
import type { AccessService } from '../boards/AccessService.js';
import type { BoardHub } from '../boards/BoardHub.js';
import type { BoardService } from '../boards/BoardService.js';
import type { VersionService } from '../boards/VersionService.js';
import type { Storage } from '../storage/Storage.js';
import type { SocketContexts } from '../plugins/lane.js';

export const SESSION_COOKIE = 'inkboard_session';

/** What every procedure can use, independent of the transport (tests call procedures with it). */
export interface InnerContext {
  storage: Storage;
  service: BoardService;
  /** Version history (issue 16). */
  versions: VersionService;
  hub: BoardHub;
  access: AccessService;
  auth: AuthService;
  /** Public links and guests (issue 18). */
  guests: GuestService;
  connections: ConnectionRegistry;
  /** Each WebSocket's context, for the lane (plugins/lane.ts). */
  sockets: SocketContexts;
  cookie: { secure: boolean; maxAgeSeconds: number };
  limits: Record<RateLimitKind, TokenBuckets>;
  violations: ViolationCounter;
  metrics: Metrics;
  /** Structured log (pino): events and ids, never message contents, passwords or tokens. */
  log: FastifyBaseLogger;
}

/**
 * Per-call context. The services stay behind one `app` field: tRPC copies the context object at
 * every middleware, and a flat context of a dozen services made that copy the costliest part of a
 * cursor move (profiled at 100 clients).
 */
export interface Context {
  app: InnerContext;
  /** The signed-in caller, or null (procedures that need one answer UNAUTHORIZED). */
  user: (User & { username: string }) | null;
  credential: Credential | null;
  /**
   * A guest (public link, no account; issue 18), only when no user is signed in: reaches its one
   * board through `boardProcedure` and the lane, never an account procedure (`user` stays null).
   */
  guest: GuestPrincipal | null;
  /** A guest secret came with the request but no longer opens anything (link off or changed, guest removed, board deleted). */
  guestEnded: boolean;
  /**
   * The guest cookie's secrets by board (a browser may be a guest of several boards; empty when
   * signed in or with a bearer secret). `guest` is the one of the board the WebSocket named in its
   * connection params, else the newest; `boardProcedure` acts as the one of the call's board.
   */
  guestSecrets: ReadonlyMap<string, string>;
  /** The raw session cookie value (to sign out). */
  sessionId: string | null;
  /** One per WebSocket connection (or HTTP request): the presence and cursor key. */
  clientId: string;
  /** The HTTP reply (sets cookies); null on a WebSocket. */
  reply: FastifyReply | null;
  /** Address of the caller, for sign-in limits. */
  address: string;
  /** The WebSocket the call came on, or null over HTTP (slow-consumer checks). */
  socket: WebSocket | null;
}

const PALETTE = ['#e03131', '#2f9e44', '#1971c2', '#f08c00', '#9c36b5', '#0c8599', '#e8590c', '#6741d9'];

/** A stable colour for a name. */
export function colorFor(key: string): string {
  let h = 0;
  for (const ch of key) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

function bearer(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1] ?? null;
}

function isWebSocket(res: unknown): res is WebSocket {
  return typeof (res as WebSocket | null)?.ping === 'function';
}

/**
 * Finds the caller: an API token (Authorization header or the WebSocket's connection params) or the
 * session cookie. Never throws: an unknown credential gives `user: null`, and procedures refuse.
 * The HTTP routes (exports, image files, body budgets) also take a guest (issue 18) as a user with the
 * guest's id, whose access `AccessService` checks like a member's; tRPC calls pass `guests: false`
 * and hold a guest apart (`Context.guest`), so that account procedures never see one.
 */
export async function identify(
  auth: AuthService,
  headers: { authorization?: string | string[]; cookie?: string },
  params: Record<string, unknown> = {},
  options: { guests?: boolean; boardId?: string } = {},
): Promise<{ user: User & { username: string }; credential: Credential; sessionId: string | null } | null> {
  const fromParams = connectionParamsSchema.safeParse(params);
  const token = bearer(headers.authorization) ?? (fromParams.success ? (fromParams.data.token ?? null) : null);
  const sessionId = fastifyCookie.parse(headers.cookie ?? '')[SESSION_COOKIE] ?? null;
  const found = token && !token.startsWith(GUEST_TOKEN_PREFIX) ? await auth.userByToken(token) : sessionId ? await auth.userBySession(sessionId) : null;
  if (found) return { ...found, sessionId: token ? null : sessionId };
  if (options.guests === false || !auth.guestByToken) return null;
  const secret = guestSecret(headers, params, options.boardId ?? null);
  const guest = secret ? await auth.guestByToken(secret) : null;
  return guest ? { user: { id: guest.id, username: '', name: guest.name, color: guest.color }, credential: { kind: 'guest', guestId: guest.id }, sessionId: null } : null;
}

/**
 * The guest secret a request acts with: a bearer token or connection param with the guest prefix
 * (its board is the secret's), else the guest cookie's for `boardId`, else the cookie's newest (which
 * reaches nothing on another board: refused like any other). Null when there is none.
 */
export function guestSecret(headers: { authorization?: string | string[]; cookie?: string }, params: Record<string, unknown> = {}, boardId: string | null = null): string | null {
  const token = bearerGuest(headers, params);
  if (token) return token;
  const boards = cookieGuests(headers);
  return (boardId === null ? undefined : boards.get(boardId)) ?? newestGuest(boards);
}

/** A guest secret passed as a bearer token or the `token` connection param (scripts), or null. */
function bearerGuest(headers: { authorization?: string | string[] }, params: Record<string, unknown>): string | null {
  const fromParams = connectionParamsSchema.safeParse(params);
  const token = bearer(headers.authorization) ?? (fromParams.success ? (fromParams.data.token ?? null) : null);
  return token?.startsWith(GUEST_TOKEN_PREFIX) ? token : null;
}

/** The guest cookie's secrets by board (auth/guestCookie.ts). */
export function cookieGuests(headers: { cookie?: string }): Map<string, string> {
  return readGuestCookie(fastifyCookie.parse(headers.cookie ?? '')[GUEST_COOKIE]);
}

const NO_GUESTS: ReadonlyMap<string, string> = new Map();

export function createContextFactory(inner: InnerContext) {
  return async ({ req, res, info }: CreateFastifyContextOptions): Promise<Context> => {
    const params = (info.connectionParams ?? {}) as Record<string, unknown>;
    const found = await identify(inner.auth, req.headers, params, { guests: false });
    // A guest only when nobody is signed in: an account always wins over a guest cookie.
    // A socket acts as the guest of the board it names (a browser may be a guest of several), else the newest.
    const bearerSecret = found ? null : bearerGuest(req.headers, params);
    const guestSecrets = found || bearerSecret ? NO_GUESTS : cookieGuests(req.headers);
    const hint = connectionParamsSchema.safeParse(params).data?.guestBoard;
    const secret = found ? null : (bearerSecret ?? (hint === undefined ? undefined : guestSecrets.get(hint)) ?? newestGuest(guestSecrets));
    const guest = secret ? await inner.guests.byToken(secret) : null;
    const ws = isWebSocket(res) ? res : null;
    const clientId = newId(10);
    if (ws) {
      const who = { clientId, userId: found?.user.id ?? guest?.id ?? null, auth: found?.credential.kind ?? (guest ? 'guest' : 'none'), ip: req.socket?.remoteAddress };
      inner.log.info(who, 'websocket connected');
      ws.once('close', (code: number) => inner.log.info({ ...who, code }, 'websocket closed'));
      if (found && !inner.connections.add(ws, found.credential, found.user.id)) inner.log.warn(who, 'too many connections for one user: refused');
      if (guest && !inner.connections.add(ws, { kind: 'guest', guestId: guest.id }, guest.id)) inner.log.warn(who, 'too many connections for one guest: refused');
    }
    const ctx: Context = {
      app: inner,
      user: found?.user ?? null,
      credential: found?.credential ?? null,
      guest,
      guestEnded: secret !== null && guest === null,
      guestSecrets,
      sessionId: found?.sessionId ?? null,
      // Short: it travels in every cursor event.
      clientId,
      reply: ws ? null : (res as FastifyReply),
      address: req.socket?.remoteAddress ?? 'unknown',
      socket: ws,
    };
    if (ws) inner.sockets.bind(ws, ctx);
    return ctx;
  };
}
