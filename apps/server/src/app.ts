import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { AuthService } from './auth/AuthService.js';
import { ConnectionRegistry } from './auth/connections.js';
import { AccessService } from './boards/AccessService.js';
import { DEFAULT_GUEST_OPTIONS, GuestService } from './auth/GuestService.js';
import { guestStoreFor } from './storage/GuestStore.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { newId } from '@inkboard/protocol';
import { LocalBoardHub, type BoardHub } from './boards/BoardHub.js';
import { tickPace } from './boards/tickPace.js';
import { BoardService } from './boards/BoardService.js';
import { VersionService } from './boards/VersionService.js';
import { historyStoreFor } from './storage/HistoryStore.js';
import { DEFAULT_BUDGETS } from './boards/budgets.js';
import type { Config } from './config.js';
import { storagePlugin } from './plugins/storage.js';
import type { Storage } from './storage/Storage.js';
import { trpcPlugin } from './plugins/trpc.js';
import { SocketContexts } from './plugins/lane.js';
import { exportRoutes } from './routes/export.js';
import { fileRoutes } from './routes/files.js';
import { embedRoutes } from './routes/embed.js';
import { renderPlugin } from './render/plugin.js';
import { createRateLimiters } from './auth/TokenBucket.js';
import { Metrics, metricsPlugin } from './plugins/metrics.js';
import { ViolationCounter } from './trpc/trpc.js';
import { httpGuardPlugin, httpServerOptions } from './plugins/httpGuard.js';
import { httpHeadersPlugin } from './plugins/httpHeaders.js';
import { redactLogLine } from './logging.js';

export type { AppRouter } from './trpc/routers/_app.js';
export type { Config } from './config.js';
export { loadConfig } from './config.js';

/** The built web app, next to this package. */
export const DEFAULT_WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist');

declare module 'fastify' {
  interface FastifyInstance {
    boards: { storage: Storage; service: BoardService; hub: BoardHub; access: AccessService; auth: AuthService };
    versions: VersionService;
    /** Public links and guests (issue 18). */
    guests: GuestService;
  }
}

/** Builds the server without listening: tests inject requests or listen on port 0. */
export async function buildApp(config: Config, options: { logStream?: NodeJS.WritableStream } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Every line passes redactLogLine: no share code (`/join/<code>`) or token reaches the logs.
    logger:
      config.logLevel === 'silent'
        ? false
        : { level: config.logLevel, hooks: { streamWrite: redactLogLine }, ...(options.logStream ? { stream: options.logStream } : {}) },
    routerOptions: { maxParamLength: 5000 },
    // Body limit and request/header/idle timeouts (plugins/httpGuard.ts).
    ...httpServerOptions(config),
  });

  await app.register(fastifyCookie);
  await app.register(storagePlugin, { databaseUrl: config.databaseUrl, dbPath: config.dbPath });
  const storage = app.storage;
  let metrics: Metrics | null = null;
  // Exports and previews render in worker threads that read the board from the same database.
  await app.register(renderPlugin, {
    source: config.databaseUrl ? { kind: 'pg', url: config.databaseUrl } : { kind: 'sqlite', path: resolve(config.dbPath) },
    limits: config.render ?? {},
    refused: (kind: string) => metrics?.refused.inc({ kind }),
  });
  const onFlush = (delayMs: number, subscribers: number) => {
    metrics?.fanout.observe(delayMs / 1000);
    metrics?.frames.inc(subscribers);
  };
  const pace = tickPace(config.tickMs, config.tickLoadedMs, (tickMs) => app.log.info({ tickMs }, tickMs > config.tickMs ? 'event loop busy: longer ticks' : 'event loop relaxed: normal ticks'));
  const hub: BoardHub = config.redisUrl
    ? await (await import('./boards/RedisBoardHub.js')).RedisBoardHub.connect({ url: config.redisUrl, prefix: config.redisPrefix, processId: newId(12), tickMs: pace, onFlush, log: app.log })
    : new LocalBoardHub(pace, onFlush);
  const service = new BoardService(
    storage,
    hub,
    config.opLogRetention,
    {
      committed: (ops, seconds) => {
        metrics?.ops.inc(ops);
        metrics?.commit.observe(seconds);
      },
    },
    { ...DEFAULT_BUDGETS, ...config.budgets },
  );
  const access = new AccessService(storage, hub);
  // Public links and guests (issue 18): guests' roles are found through `access`.
  const guests = new GuestService(guestStoreFor(storage), access, hub, { ...DEFAULT_GUEST_OPTIONS, ...config.guests });
  // Version history (issue 16): checkpoints after commits, states rebuilt by a worker thread.
  const versions = new VersionService(historyStoreFor(storage), service, config.history ?? {}, app.log);
  service.afterCommit = (boardId, seq, moved) => versions.committed(boardId, seq, moved);
  app.decorate('versions', versions);
  const auth = new AuthService(storage, {
    scrypt: { N: 2 ** config.scryptLogN, r: 8, p: 1 },
    sessionIdleMs: config.sessionIdleMs,
    sessionMaxMs: config.sessionMaxMs,
    hashing: { concurrency: config.hashConcurrency, maxWaiting: config.hashQueue },
    signUps: { perAddressPerMinute: config.signUpsPerAddressPerMinute, perMinute: config.signUpsPerMinute },
  });
  // Exports and image files take guests too (their access is checked like members', issue 18).
  auth.guestByToken = (secret) => guests.byToken(secret);
  app.decorate('guests', guests);
  const guestPruneTimer = setInterval(() => void guests.prune().catch((err: unknown) => app.log.warn({ err }, 'guest clean-up failed')), 3_600_000);
  guestPruneTimer.unref();
  app.addHook('onClose', async () => clearInterval(guestPruneTimer));
  const connections = new ConnectionRegistry();
  metrics = new Metrics({
    connections: () => app.websocketServer?.clients.size ?? 0,
    openBoards: () => hub.stats().boards,
    subscriptions: () => hub.stats().subscriptions,
  });
  // Sign-out and token revocation close their sockets on every process.
  hub.onSignal((signal) => {
    if (signal.type === 'session-ended') connections.closeSession(signal.idHash);
    else if (signal.type === 'token-revoked') connections.closeToken(signal.tokenId);
  });
  await auth.pruneSessions();
  app.decorate('boards', { storage, service, hub, access, auth });
  service.thumbnailRenderer = (boardId) => app.render.thumbnail(boardId);
  // Joining subscribers' snapshots of big boards are serialized by the render workers too.
  service.snapshotSource = app.render;
  const evictTimer = setInterval(() => service.evictIdle(), 60_000);
  evictTimer.unref();
  app.addHook('onClose', async () => {
    clearInterval(evictTimer);
    connections.close();
    await versions.close();
    await hub.close();
  });

  // What each WebSocket may cost (plugins/socketGuard.ts); settings left out keep their defaults.
  const sockets = new SocketContexts({
    handshakeMs: config.wsHandshakeMs,
    handshakeBytes: config.wsHandshakeBytes,
    subscriptionsPerSocket: config.wsSubscriptionsPerSocket,
    maxSocketUnsentBytes: config.wsMaxSocketUnsentBytes,
    maxTotalUnsentBytes: config.wsMaxTotalUnsentBytes,
  });
  // Before the next message is handled, not at the event loop's next turn: commits whose flush to
  // disk has finished are settled (storage/walSync.ts), and ticks that are due go out (BoardHub.flushOverdue).
  sockets.guard.beforeMessage = storage.pollDurable
    ? () => {
        storage.pollDurable!();
        hub.flushOverdue();
      }
    : () => hub.flushOverdue();
  const allowedOrigins = [...config.allowedOrigins, ...(config.publicUrl ? [new URL(config.publicUrl).origin] : [])];
  await app.register(httpHeadersPlugin, { publicUrl: config.publicUrl });
  await app.register(httpGuardPlugin, {
    limits: { perAddress: config.connectionsPerAddress, total: config.maxConnections },
    allowedOrigins,
    auth,
    metrics,
  });
  const cookie = { secure: config.publicUrl?.startsWith('https:') ?? false, maxAgeSeconds: Math.floor(config.sessionMaxMs / 1000) };
  await app.register(trpcPlugin, {
    inner: { storage, service, versions, hub, access, auth, guests, connections, sockets, cookie, limits: createRateLimiters(config.snapshotBytesPerSecond ? { snapshotBytes: { rate: config.snapshotBytesPerSecond, burst: 2 * config.snapshotBytesPerSecond } } : {}), violations: new ViolationCounter(), metrics, log: app.log },
    upgradesPerMinute: config.upgradesPerMinute,
    allowedOrigins: [...config.allowedOrigins, ...(config.publicUrl ? [new URL(config.publicUrl).origin] : [])],
  });

  await app.register(exportRoutes);
  await app.register(fileRoutes, { limits: config.images, databaseUrl: config.databaseUrl, allowedOrigins });
  await app.register(metricsPlugin, { metrics, mode: config.metrics ?? 'local', token: config.metricsToken ?? null });

  app.get('/healthz', async () => {
    await storage.ping();
    return { ok: true };
  });

  const webDist = config.webDist ?? DEFAULT_WEB_DIST;
  if (existsSync(resolve(webDist, 'index.html'))) {
    await app.register(fastifyStatic, { root: webDist, wildcard: false });
    // The read-only embed of a view link, framable only by the origins its owner listed (issue 18).
    await app.register(embedRoutes, { guests, webDist });
    // Client-side routes (e.g. /b/:id) get the app shell.
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/trpc') && !req.url.startsWith('/api')) return reply.sendFile('index.html');
      return reply.code(404).send({ error: 'Not Found', message: `No route ${req.method} ${req.url}` });
    });
  } else {
    await app.register(embedRoutes, { guests, webDist });
    app.get('/', async (_req, reply) =>
      reply.type('text/plain').send(`Inkboard server is running, but the web app is not built (${webDist}). Run: npm run build`),
    );
  }
  return app;
}
