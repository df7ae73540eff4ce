import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AuthService } from '../auth/AuthService.js';
import { TokenBuckets } from '../auth/TokenBucket.js';
import type { Config } from '../config.js';
import { identify, SESSION_COOKIE } from '../trpc/context.js';
import { GUEST_COOKIE } from '@inkboard/protocol';
import type { Metrics } from './metrics.js';

/** Largest HTTP body of a signed-in caller (a `board.push` from a script). */
export const BODY_LIMIT = 2 * 1024 * 1024;
/**
 * Largest HTTP body of anyone not signed in, and of the anonymous procedures (`auth.*`) for everyone:
 * a sign-in is a few hundred bytes, and nothing unauthenticated should make the server read megabytes.
 */
export const ANONYMOUS_BODY_LIMIT = 16 * 1024;
/**
 * Bytes of request bodies over the small limit one person may send a second (bursts of 8 MiB),
 * charged by Content-Length before the body is read: parsing a 2 MiB JSON body holds the event loop
 * for tens of milliseconds, whatever the procedure later refuses.
 */
export const BODY_BYTES_PER_SECOND = 2 * 1024 * 1024;
export const BODY_BYTES_BURST = 8 * 1024 * 1024;
/** Deepest nesting of `{`/`[` in a tRPC request's JSON (a push needs about 8), checked before it is parsed. */
export const MAX_JSON_DEPTH = 32;
/** Calls in one tRPC batch (HTTP `?batch=1`, or a WebSocket message that is a JSON array). */
export const MAX_BATCH_SIZE = 50;
/**
 * A socket with no traffic either way this long is closed. Longer than the request and headers
 * timeouts (which answer 408): it catches a client that stops reading its response. Upgraded
 * WebSockets are not affected (`ws` clears the socket timeout; the tRPC keep-alive watches them).
 */
export const HTTP_IDLE_TIMEOUT_MS = 120_000;
/** How often Node checks the request and headers timeouts (its default is 30 s). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** File handles kept for the database, logs, static files and worker threads below the process's limit. */
export const RESERVED_FILE_HANDLES = 512;

/** The tRPC route of the Fastify adapter. */
const TRPC_ROUTE = '/trpc/:path';
/** Procedures anyone may call: their bodies stay small whoever calls. */
const ANONYMOUS_PREFIX = 'auth.';

/** The default total connection cap: the process's open-file limit minus a reserve. */
export function defaultMaxConnections(limitsFile = '/proc/self/limits'): number {
  let limit = 4096;
  try {
    const match = readFileSync(limitsFile, 'utf8').match(/^Max open files\s+(\d+)/m);
    if (match) limit = Number(match[1]);
  } catch {
    // Not Linux: assume a common limit; INKBOARD_MAX_CONNECTIONS sets it exactly.
  }
  return Math.max(64, limit - RESERVED_FILE_HANDLES);
}

/** Fastify's options for the HTTP timeouts and body limit (see app.ts). */
export function httpServerOptions(config: Pick<Config, 'httpRequestTimeoutMs' | 'httpHeadersTimeoutMs'>) {
  return {
    bodyLimit: BODY_LIMIT,
    connectionTimeout: HTTP_IDLE_TIMEOUT_MS,
    requestTimeout: config.httpRequestTimeoutMs,
    http: { headersTimeout: Math.min(config.httpHeadersTimeoutMs, config.httpRequestTimeoutMs), connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
  };
}

/** True when the JSON text nests `{`/`[` deeper than `max` (strings skipped); does not parse it. */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string, escapes included.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/**
 * The key of per-address limits: an IPv4 address as it is (an IPv4-mapped IPv6 one as IPv4), an
 * IPv6 address by its /64 prefix, since one client (one home or server) usually holds a whole /64.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('::', 2);
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/** The page's origin is the server's own, or one it was told to trust. */
export function isOwnOrAllowedOrigin(req: FastifyRequest, origin: string, allowedOrigins: readonly string[]): boolean {
  return origin === `${req.protocol}://${req.headers.host ?? ''}` || allowedOrigins.includes(origin);
}

export interface ConnectionLimits {
  /** 0: no per-address limit. */
  perAddress: number;
  total: number;
}

const CLOSE_RESPONSE = (status: string, message: string) => {
  const body = JSON.stringify({ error: status.replace(/^\d+ /, ''), message });
  return `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
};

/**
 * Counts open connections (HTTP and WebSocket alike) per client address and in total; one past a
 * limit is answered with a short 429/503 and closed at once, before anything is read from it.
 * `closeSilent` (at shutdown) cuts every connection that is neither waiting for a response nor a
 * WebSocket: Node's `closeIdleConnections` leaves alone one that connected and has sent nothing yet
 * (its headers timer runs from the connection), and such a connection held shutdown for the 120 s
 * of the idle timeout.
 */
export function limitConnections(server: Server, limits: ConnectionLimits, refused: (kind: 'address' | 'total') => void): { open: () => number; closeSilent: () => number } {
  const perAddress = new Map<string, number>();
  let open = 0;
  /** Open connections, each with its requests in progress (-1: upgraded to a WebSocket). */
  const sockets = new Map<Socket, number>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const busy = sockets.get(socket);
    if (busy === undefined || busy < 0) return;
    sockets.set(socket, busy + 1);
    res.once('close', () => {
      const now = sockets.get(socket);
      if (now !== undefined && now > 0) sockets.set(socket, now - 1);
    });
  });
  server.on('upgrade', (req: IncomingMessage) => {
    if (sockets.has(req.socket)) sockets.set(req.socket, -1);
  });
  server.on('connection', (socket: Socket) => {
    const address = addressKey(socket.remoteAddress ?? 'unknown');
    const mine = perAddress.get(address) ?? 0;
    const kind = open >= limits.total ? 'total' : limits.perAddress > 0 && mine >= limits.perAddress ? 'address' : null;
    if (kind) {
      refused(kind);
      const response =
        kind === 'total'
          ? CLOSE_RESPONSE('503 Service Unavailable', 'The server has too many open connections; retry in a few seconds.')
          : CLOSE_RESPONSE('429 Too Many Requests', `Too many open connections from this address (at most ${limits.perAddress}); close some (e.g. other tabs) and retry.`);
      socket.on('error', () => {});
      socket.end(response);
      // The handle is freed as soon as the answer is written, whatever the client does.
      socket.destroySoon();
      return;
    }
    open++;
    perAddress.set(address, mine + 1);
    sockets.set(socket, 0);
    socket.once('close', () => {
      sockets.delete(socket);
      open--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });
  return {
    open: () => open,
    closeSilent: () => {
      let closed = 0;
      for (const [socket, busy] of sockets) {
        if (busy !== 0) continue;
        socket.destroy();
        closed++;
      }
      return closed;
    },
  };
}

/** A stream that errors with 413 once more than `limit` bytes went through. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly limit: number,
    private readonly message: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) done(Object.assign(new Error(this.message), { statusCode: 413, code: 'PAYLOAD_TOO_LARGE' }));
    else done(null, chunk);
  }
}

/** A tRPC-shaped refusal, so the tRPC client shows its message; the connection is closed after it. */
function refuse(reply: FastifyReply, code: TRPC_ERROR_CODE_KEY, status: number, message: string) {
  return reply
    .code(status)
    .header('connection', 'close')
    .send({ error: { message, code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus: status } } });
}

function procedurePaths(req: FastifyRequest): string[] {
  const path = (req.params as { path?: string }).path ?? '';
  return (req.query as { batch?: string }).batch === '1' ? path.split(',') : [path];
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export interface HttpGuardOptions {
  limits: ConnectionLimits;
  /** Origins besides the server's own whose pages may make cookie-authenticated calls. */
  allowedOrigins: string[];
  auth: AuthService;
  metrics: Metrics;
}

/**
 * The HTTP side of isolation: connections per address and in total, and for tRPC over HTTP a batch
 * cap, JSON-only cookie mutations from the server's own pages, a small body limit for anyone not
 * signed in and a nesting limit, all checked before the body is parsed (docs/limits.md).
 */
export const httpGuardPlugin = fp<HttpGuardOptions>(
  async (app, opts) => {
    const refused = (kind: string) => opts.metrics.refused.inc({ kind });
    const connections = limitConnections(app.server, opts.limits, (kind) => {
      refused(`connections_${kind}`);
      app.log.warn({ kind }, 'connection refused: too many open connections');
    });
    app.decorate('httpConnections', connections);
    app.addHook('preClose', async () => {
      connections.closeSilent();
    });

    // What fails before tRPC sees the request (a body over a limit, a broken body) is answered in
    // tRPC's shape too, so clients show the message.
    app.addHook('onRoute', (route) => {
      if (route.url !== TRPC_ROUTE) return;
      route.errorHandler = (error: Error & { statusCode?: number }, req, reply) => {
        const status = error.statusCode ?? 500;
        if (status === 413) {
          const message = error.message.startsWith('Without signing in') || error.message.startsWith('Requests to auth')
            ? error.message
            : `A request may carry at most ${BODY_LIMIT / 1024 / 1024} MiB; send less at a time (e.g. several pushes).`;
          return refuse(reply, 'PAYLOAD_TOO_LARGE', 413, message);
        }
        if (status === 415) return refuse(reply, 'UNSUPPORTED_MEDIA_TYPE', 415, 'Calls are sent as application/json.');
        if (status >= 400 && status < 500) return refuse(reply, 'BAD_REQUEST', 400, `The request could not be read: ${error.message}`);
        req.log.error({ err: error }, 'request failed before tRPC');
        return refuse(reply, 'INTERNAL_SERVER_ERROR', 500, 'The server could not handle this request; nothing was applied. Retry.');
      };
    });

    app.addHook('onRequest', async (req, reply) => {
      if (req.routeOptions.url !== TRPC_ROUTE || req.headers.upgrade) return;
      const paths = procedurePaths(req);
      if (paths.length > MAX_BATCH_SIZE) {
        refused('batch');
        return refuse(reply, 'BAD_REQUEST', 400, `A batch may hold at most ${MAX_BATCH_SIZE} calls (this one has ${paths.length}); send them in several requests.`);
      }
      if (req.method !== 'POST') return;
      // A form on a page of the same site could otherwise post (with the cookie) as multipart or text.
      const type = headerValue(req.headers['content-type'])?.split(';', 1)[0]?.trim().toLowerCase();
      if (type !== 'application/json') {
        refused('content_type');
        return refuse(reply, 'UNSUPPORTED_MEDIA_TYPE', 415, `Calls are sent as application/json (this one is ${type ?? 'without a content type'}).`);
      }
      const origin = headerValue(req.headers.origin);
      if (origin && (req.cookies[SESSION_COOKIE] !== undefined || req.cookies[GUEST_COOKIE] !== undefined) && !isOwnOrAllowedOrigin(req, origin, opts.allowedOrigins)) {
        refused('origin');
        req.log.warn({ origin }, 'refused a cookie call from a foreign origin');
        return refuse(reply, 'FORBIDDEN', 403, `Origin ${origin} may not make signed-in calls; use the app's own address or an API token.`);
      }
    });

    // Past the small limit, the body is read only for a signed-in caller of a non-anonymous procedure,
    // within that person's budget of body bytes.
    const bodyBytes = new TokenBuckets(BODY_BYTES_PER_SECOND, BODY_BYTES_BURST);
    app.addHook('preParsing', async (req, reply, payload) => {
      if (req.routeOptions.url !== TRPC_ROUTE) return payload;
      const length = Number(headerValue(req.headers['content-length']) ?? NaN);
      if (length <= ANONYMOUS_BODY_LIMIT) return payload;
      const anonymousPath = procedurePaths(req).some((p) => p.startsWith(ANONYMOUS_PREFIX));
      const who = anonymousPath ? null : await identify(opts.auth, req.headers);
      const message = anonymousPath
        ? `Requests to auth.* may carry at most ${ANONYMOUS_BODY_LIMIT / 1024} KiB.`
        : `Without signing in, a request may carry at most ${ANONYMOUS_BODY_LIMIT / 1024} KiB; sign in (or pass a valid API token) first.`;
      if (who) {
        const wait = Number.isFinite(length) ? bodyBytes.spend(who.user.id, length) : 0;
        if (wait === 0) return payload;
        refused('body_rate');
        reply.header('retry-after', String(Math.ceil(wait)));
        const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) ? 1 : 0)} MiB`;
        await refuse(reply, 'TOO_MANY_REQUESTS', 429, `Too many large requests: this one carries ${mib(length)} and one person may send ${mib(BODY_BYTES_PER_SECOND)} of them a second (bursts up to ${mib(BODY_BYTES_BURST)}). Nothing was applied; retry in ${Math.ceil(wait)} s, or send less at a time.`);
        return payload;
      }
      if (Number.isFinite(length)) {
        refused('body');
        await refuse(reply, 'PAYLOAD_TOO_LARGE', 413, message);
        return payload;
      }
      // No Content-Length (chunked): counted as it arrives.
      return payload.pipe(new ByteLimit(ANONYMOUS_BODY_LIMIT, message));
    });

    // The adapter's parser keeps JSON bodies as text: this runs before tRPC parses them.
    app.addHook('preValidation', async (req, reply) => {
      if (req.routeOptions.url !== TRPC_ROUTE) return;
      const input = typeof req.body === 'string' ? req.body : (req.query as { input?: unknown }).input;
      if (typeof input === 'string' && jsonDeeperThan(input, MAX_JSON_DEPTH)) {
        refused('json_depth');
        return refuse(reply, 'BAD_REQUEST', 400, `The request's JSON nests deeper than ${MAX_JSON_DEPTH} levels; no call needs that.`);
      }
    });
  },
  { name: 'inkboard-http-guard', dependencies: ['@fastify/cookie'] },
);

declare module 'fastify' {
  interface FastifyInstance {
    /** Open HTTP/WebSocket connections counted by the HTTP guard. */
    httpConnections: { open: () => number; closeSilent: () => number };
  }
}
