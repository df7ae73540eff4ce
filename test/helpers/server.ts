import { randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import type { Op } from '@inkboard/protocol';
import { buildApp } from '../../apps/server/src/app.js';
import { sha256 } from '../../apps/server/src/auth/secrets.js';
import type { SqliteStorage } from '../../apps/server/src/storage/SqliteStorage.js';
import type { Config } from '../../apps/server/src/config.js';
import { BoardSession, createInkboardClient, type InkboardClient, type SessionListener } from '../../packages/client/src/index.js';

export interface TestServer {
  app: FastifyInstance;
  url: string;
  port: number;
  dbPath: string;
  /** Stops the server (the database file stays). */
  stop(): Promise<void>;
  /** Starts a new server process-equivalent on the same file and port. */
  restart(): Promise<TestServer>;
  /** Stops and removes the temporary folder. */
  destroy(): Promise<void>;
}

/** The real server on a real port with a temporary SQLite file. */
export async function startServer(
  overrides: Partial<Config> = {},
  reuse?: { dir: string; port: number },
  options: { logStream?: NodeJS.WritableStream } = {},
): Promise<TestServer> {
  const dir = reuse?.dir ?? mkdtempSync(join(tmpdir(), 'inkboard-test-'));
  const dbPath = join(dir, 'inkboard.db');
  // Overrides may leave optional settings undefined (the app's defaults then apply).
  const config = {
    port: reuse?.port ?? 0,
    host: '127.0.0.1',
    dbPath,
    databaseUrl: null,
    redisUrl: null,
    redisPrefix: 'inkboard:',
    tickMs: 10,
    opLogRetention: 10_000,
    webDist: join(dir, 'no-web'),
    logLevel: 'silent',
    publicUrl: null,
    allowedOrigins: [],
    // Cheap hashes keep tests fast; the auth tests check the production parameters separately.
    scryptLogN: 10,
    upgradesPerMinute: 100_000,
    // Every test client connects from 127.0.0.1: per-address limits stay out of the way unless a test lowers them.
    httpRequestTimeoutMs: 15_000,
    httpHeadersTimeoutMs: 10_000,
    connectionsPerAddress: 0,
    maxConnections: 10_000,
    signUpsPerAddressPerMinute: 100_000,
    signUpsPerMinute: 100_000,
    hashConcurrency: 2,
    hashQueue: 1_000,
    sessionIdleMs: 7 * 24 * 3_600_000,
    sessionMaxMs: 30 * 24 * 3_600_000,
    ...overrides,
  } as Config;
  const app = await buildApp(config, options);
  await app.listen({ port: config.port, host: config.host });
  const port = (app.server.address() as AddressInfo).port;
  servers.set(`http://127.0.0.1:${port}`, app);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.close();
  };
  return {
    app,
    port,
    dbPath,
    url: `http://127.0.0.1:${port}`,
    stop,
    restart: async () => {
      await stop();
      return startServer(overrides, { dir, port }, options);
    },
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The running app behind each test URL (a restart on the same port replaces it). */
const servers = new Map<string, FastifyInstance>();

function appAt(url: string): FastifyInstance {
  const app = servers.get(url);
  if (!app) throw new Error(`no test server at ${url}`);
  return app;
}

/**
 * A test account named `name` with an API token, created straight in the database (a cheap hash),
 * so tests that are not about accounts need no sign-up round trip.
 */
export function testUser(url: string, name: string): { id: string; token: string } {
  const app = appAt(url);
  const sqlite = sqliteOf(app);
  const username = name.toLowerCase().replace(/[^a-z0-9_.-]/g, '-').padEnd(3, '_');
  let row = sqlite.prepare('select id from users where username = ?').get(username) as { id: string } | undefined;
  if (!row) {
    const salt = randomBytes(16);
    const hash = scryptSync('password', salt, 32, { N: 1024, r: 8, p: 1 });
    const id = `u-${username}`;
    sqlite
      .prepare('insert into users (id, username, password_hash, name, color, created_at) values (?, ?, ?, ?, ?, ?)')
      .run(id, username, `scrypt$1024$8$1$${salt.toString('base64url')}$${hash.toString('base64url')}`, name, '#1971c2', Date.now());
    row = { id };
  }
  const token = `ink_${randomBytes(32).toString('base64url')}`;
  sqlite
    .prepare('insert into api_tokens (id, user_id, name, prefix, token_hash, created_at) values (?, ?, ?, ?, ?, ?)')
    .run(randomBytes(12).toString('base64url'), row.id, 'test', token.slice(0, 10), sha256(token), Date.now());
  return { id: row.id, token };
}

/** The test server's SQLite handle (test servers use the embedded store). */
export function sqliteOf(app: FastifyInstance): SqliteStorage['sqlite'] {
  return (app.storage as SqliteStorage).sqlite;
}

/** Makes `name` an editor of the board unless they already have a role there. */
export function grantAccess(url: string, boardId: string, name: string, role: 'editor' | 'viewer' = 'editor'): void {
  const { id } = testUser(url, name);
  const app = appAt(url);
  sqliteOf(app).prepare('insert or ignore into board_members (board_id, user_id, role, created_at) values (?, ?, ?, ?)').run(boardId, id, role, Date.now());
  app.boards.access.forget(boardId);
}

/** A typed client in Node (the `ws` package as WebSocket), signed in as the test user `name`. */
export function connect(url: string, name = 'tester', extra: { allOverWebSocket?: boolean; token?: string } = {}): InkboardClient {
  const token = extra.token ?? testUser(url, name).token;
  return createInkboardClient({ url, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket, ...extra, token });
}

/** A live board session over its own connection, as `name` (made an editor of the board if needed). */
export function openSession(url: string, boardId: string, name = 'tester', listener?: SessionListener) {
  grantAccess(url, boardId, name);
  const client = connect(url, name, { allOverWebSocket: true });
  const session = new BoardSession(client, boardId, listener).start();
  return {
    client,
    session,
    close: async () => {
      session.close();
      await client.close();
    },
  };
}

/** Polls until `check` holds or the time is up (then throws with `what`). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Drops the client's socket as a network failure would; the client reconnects by itself. */
export function dropConnection(client: InkboardClient): void {
  const ws = (client.ws as unknown as { connection: { ws?: { close(): void } } | null }).connection?.ws;
  ws?.close();
}

/** Elements as a sorted, comparable list. */
export function canonical(elements: ReadonlyMap<string, unknown> | Iterable<[string, unknown]>) {
  return [...(elements instanceof Map ? elements.entries() : elements)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Pushes as a script should: a push refused as too many (pushes are charged by points, elements and
 * bytes) is sent again after the wait the server names. For tests that build big boards.
 */
export async function pushPatiently(client: InkboardClient, boardId: string, ops: Op[], timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.trpc.board.push.mutate({ boardId, ops });
      return;
    } catch (err) {
      const code = (err as { data?: { code?: string } }).data?.code;
      if (code !== 'TOO_MANY_REQUESTS' || Date.now() > until) throw err;
      const seconds = Number(/retry in (\d+) s/.exec((err as Error).message)?.[1] ?? 1);
      await new Promise((r) => setTimeout(r, seconds * 1000));
    }
  }
}

/** Polls /healthz every 20 ms as another client would, recording each wait, until `end()`. */
export function watchHealth(url: string): { end(): Promise<{ waits: number[]; failed: number }> } {
  const waits: number[] = [];
  let failed = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const started = performance.now();
      try {
        const res = await fetch(`${url}/healthz`);
        await res.arrayBuffer();
        if (res.status !== 200) failed++;
      } catch {
        failed++;
      }
      waits.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async end() {
      stop = true;
      await loop;
      return { waits, failed };
    },
  };
}
