import { randomUUID } from 'node:crypto';
import { connectionParamsSchema, type User } from '@inkboard/protocol';
import type { CreateFastifyContextOptions } from '@trpc/server/adapters/fastify';
import type { BoardHub } from '../boards/BoardHub.js';
import type { BoardService } from '../boards/BoardService.js';
import type { BoardStore } from '../boards/BoardStore.js';

/** What every procedure can use, independent of the transport (tests call procedures with it). */
export interface InnerContext {
  store: BoardStore;
  service: BoardService;
  hub: BoardHub;
}

export interface Context extends InnerContext {
  /** Who is calling; named by the client itself until accounts exist. */
  user: User;
  /** One per WebSocket connection (or HTTP request): the presence and cursor key. */
  clientId: string;
}

const PALETTE = ['#e03131', '#2f9e44', '#1971c2', '#f08c00', '#9c36b5', '#0c8599', '#e8590c', '#6741d9'];

/** A stable colour for a name. */
export function colorFor(key: string): string {
  let h = 0;
  for (const ch of key) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

/** Builds the context from what the connection says about itself; never throws (a bad value is ignored). */
export function createContextFactory(inner: InnerContext) {
  return ({ req, info }: CreateFastifyContextOptions): Context => {
    const fromParams = connectionParamsSchema.safeParse(info.connectionParams ?? {});
    const params = fromParams.success ? fromParams.data : {};
    const header = req.headers['x-inkboard-name'];
    const headerName = typeof header === 'string' ? decodeURIComponent(header).trim().slice(0, 40) : '';
    const name = params.name ?? (headerName || 'Guest');
    const clientId = randomUUID();
    return { ...inner, clientId, user: { id: `guest-${clientId}`, name, color: params.color ?? colorFor(name) } };
  };
}
