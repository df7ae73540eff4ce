import { LANE_PREFIX, LANE_REPLY_ID, laneMessageSchema, oneCursorFast, type LaneError, type LaneEvent, type Role } from '@inkboard/protocol';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { roleTooLow } from '../boards/AccessService.js';
import { EPHEMERAL_RULES, publishEphemeral } from '../boards/ephemeral.js';
import type { Context } from '../trpc/context.js';
import { requireActor, takeRate } from '../trpc/trpc.js';
import { SocketGuard, type SocketLimits } from './socketGuard.js';

const LANE_BYTE = LANE_PREFIX.charCodeAt(0);

/** Lane bytes one connection may have waiting to be handled; past it, messages are refused. */
export const LANE_PENDING_BYTES = 1024 * 1024;

/**
 * The tRPC context of each open WebSocket, for the lane: tRPC makes one per connection (once the
 * connection params arrive) and the lane acts with the same identity and client id. Its `guard`
 * bounds what each connection may cost (socketGuard.ts).
 */
export class SocketContexts {
  private readonly contexts = new WeakMap<WebSocket, { promise: Promise<Context | null>; resolve: (ctx: Context | null) => void; ctx: Context | null }>();
  readonly guard: SocketGuard;

  constructor(limits: Partial<SocketLimits> = {}) {
    this.guard = new SocketGuard((ws) => this.peek(ws), limits);
  }

  private entry(ws: WebSocket) {
    let entry = this.contexts.get(ws);
    if (!entry) {
      let resolve!: (ctx: Context | null) => void;
      const promise = new Promise<Context | null>((r) => (resolve = r));
      entry = { promise, resolve, ctx: null };
      this.contexts.set(ws, entry);
      // A connection that closes before its context exists has nothing to act on.
      ws.once('close', () => resolve(null));
    }
    return entry;
  }

  /** Called by createContext for a WebSocket connection. */
  bind(ws: WebSocket, ctx: Context): void {
    const entry = this.entry(ws);
    entry.ctx = ctx;
    entry.resolve(ctx);
    this.guard.bound(ws);
  }

  /** The connection's context once tRPC has made it; null when it closed first. */
  get(ws: WebSocket): Promise<Context | null> {
    return this.entry(ws).promise;
  }

  /** The connection's context if it exists already. */
  peek(ws: WebSocket): Context | null {
    return this.contexts.get(ws)?.ctx ?? null;
  }
}

/**
 * Takes the lane's messages (`~[...]`: cursor moves, previews, typing, without a reply) off every
 * WebSocket before tRPC sees them, and handles them in arrival order per connection. The wrap has to
 * happen on 'connection', before tRPC's adapter attaches its own message listener.
 */
export function installLane(wss: WebSocketServer, contexts: SocketContexts): void {
  wss.on('connection', (ws: WebSocket) => {
    let chain: Promise<void> = Promise.resolve();
    // Bytes of lane messages waiting in the chain (for the context, or behind a slow check). Before
    // the context exists the guard's handshake budget bounds them; after, this does.
    let pending = 0;
    const emit = ws.emit.bind(ws);
    ws.emit = (event: string | symbol, ...args: unknown[]): boolean => {
      const [data, isBinary] = args;
      if (event === 'message' && isBinary === false && Buffer.isBuffer(data) && data[0] === LANE_BYTE) {
        if (pending + data.length > LANE_PENDING_BYTES) {
          refuseBusy(contexts.peek(ws), ws);
          return true;
        }
        const text = data.toString('utf8');
        // Nothing of this connection's waiting ahead of it, its context made and the roles it needs
        // cached (nearly every cursor move and preview): handled now, without a promise (issue 19).
        if (pending === 0) {
          const ctx = contexts.peek(ws);
          if (ctx && handleLaneMessageNow(ws, text, ctx)) return true;
        }
        const size = data.length;
        pending += size;
        // Never rejects: a failure is answered and logged inside, and must not stop later messages.
        chain = chain
          .then(() => handleLaneMessage(ws, text, contexts))
          .catch(() => {})
          .then(() => {
            pending -= size;
          });
        return true;
      }
      return emit(event, ...args);
    };
  });
}

/** Checks each event as its tRPC mutation would (user, role, rate, schema), then publishes it; a refusal is answered. */
export async function handleLaneMessage(ws: WebSocket, text: string, contexts: SocketContexts): Promise<void> {
  const ctx = await contexts.get(ws);
  if (!ctx) return;
  try {
    for (const event of oneCursorFast(text) ?? parseLaneMessage(text)) {
      try {
        const user = requireActor(ctx);
        const rule = EPHEMERAL_RULES[event.type];
        await ctx.app.access.require(event.boardId, user.id, rule.least);
        takeRate(ctx, rule.limit);
        // A guest types only where the public link allows chat (issue 18; a lookup, after the rate).
        if (event.type === 'typing' && ctx.guest && !(await ctx.app.guests.chatAllowed(event.boardId))) {
          throw new TRPCError({ code: 'FORBIDDEN', message: "The owner turned chat off for this board's guests." });
        }
        publishEphemeral(ctx.app, event, ctx.clientId, user);
      } catch (err) {
        refuse(ctx, ws, err, `lane.${event.type}`);
      }
    }
  } catch (err) {
    refuse(ctx, ws, err, 'lane');
  }
}

/**
 * A lane message's events, parsed and checked by `laneMessageSchema` (PARSE_ERROR or BAD_REQUEST
 * in words otherwise). The commonest message, one cursor move, takes `oneCursorFast` first: the same
 * result without the JSON parse and the schema's run.
 */
function parseLaneMessage(text: string): LaneEvent[] {
  let json: unknown;
  try {
    json = JSON.parse(text.slice(LANE_PREFIX.length));
  } catch {
    throw new TRPCError({ code: 'PARSE_ERROR', message: `A lane message is "${LANE_PREFIX}" followed by a JSON array of events; this one is not valid JSON.` });
  }
  const parsed = laneMessageSchema.safeParse(json);
  if (!parsed.success) throw new TRPCError({ code: 'BAD_REQUEST', message: `Invalid input: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}` });
  return parsed.data;
}

/**
 * `handleLaneMessage` without waiting, when every event's role is in the access cache: true when
 * the message was handled (published or refused), false when it must take the asynchronous way
 * (a role to read from the database, or no signed-in user), before anything of it was done.
 */
function handleLaneMessageNow(ws: WebSocket, text: string, ctx: Context): boolean {
  // A guest acts as itself (its id finds its role, issue 18).
  const user = ctx.user ?? (ctx.guest ? requireActor(ctx) : null);
  if (!user) return false;
  let events = oneCursorFast(text);
  if (!events) {
    let json: unknown;
    try {
      json = JSON.parse(text.slice(LANE_PREFIX.length));
    } catch {
      return false; // the asynchronous way answers it
    }
    const parsed = laneMessageSchema.safeParse(json);
    if (!parsed.success) return false;
    events = parsed.data;
  }
  const now = Date.now();
  const roles: Role[] = [];
  for (const event of events) {
    // A guest's typing needs the link's chat setting: the asynchronous way.
    if (event.type === 'typing' && ctx.guest) return false;
    const role = ctx.app.access.cachedRole(event.boardId, user.id, now);
    // Not cached, or no access (NOT_FOUND or FORBIDDEN: the database tells which).
    if (role == null) return false;
    roles.push(role);
  }
  events.forEach((event, i) => {
    try {
      const rule = EPHEMERAL_RULES[event.type];
      const refusal = roleTooLow(roles[i]!, rule.least);
      if (refusal) throw refusal;
      takeRate(ctx, rule.limit);
      publishEphemeral(ctx.app, event, ctx.clientId, user);
    } catch (err) {
      refuse(ctx, ws, err, `lane.${event.type}`);
    }
  });
  return true;
}

function refuseBusy(ctx: Context | null, ws: WebSocket): void {
  if (!ctx) return;
  refuse(ctx, ws, new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Lane messages arrive faster than the server handles them (over ${LANE_PENDING_BYTES / 1024} KiB waiting); this one was dropped: send less.` }), 'lane');
}

function refuse(ctx: Context, ws: WebSocket, err: unknown, path: string): void {
  const error = err instanceof TRPCError ? err : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'The server could not handle this message; it was dropped.', cause: err });
  if (error.code === 'INTERNAL_SERVER_ERROR') ctx.app.log.error({ err, path, clientId: ctx.clientId }, 'lane message failed');
  if (ws.readyState !== ws.OPEN) return;
  const reply: LaneError = {
    id: LANE_REPLY_ID,
    error: { message: error.message, code: TRPC_ERROR_CODES_BY_KEY[error.code], data: { code: error.code, httpStatus: getHTTPStatusCodeFromError(error), path } },
  };
  ws.send(JSON.stringify(reply));
}
