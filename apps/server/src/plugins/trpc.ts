import websocket from '@fastify/websocket';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import fp from 'fastify-plugin';
import type { InnerContext } from '../trpc/context.js';
import { createContextFactory, SESSION_COOKIE } from '../trpc/context.js';
import { appRouter, type AppRouter } from '../trpc/routers/_app.js';
import { TokenBuckets } from '../auth/TokenBucket.js';
import { createFrameEncoder, sendSplicedAsText } from './frameEncoder.js';
import { installLane } from './lane.js';
import { receiveDirectly } from './receiveDirect.js';
import { isOwnOrAllowedOrigin, MAX_BATCH_SIZE } from './httpGuard.js';

/** Largest WebSocket message a client may send (the `ws` default is 100 MiB). */
export const MAX_WS_MESSAGE_BYTES = 512 * 1024;

/** tRPC over HTTP and WebSocket at `/trpc`. */
export const trpcPlugin = fp<{ inner: InnerContext; allowedOrigins: string[]; upgradesPerMinute: number }>(
  async (app, opts) => {
    await app.register(websocket, { options: { maxPayload: MAX_WS_MESSAGE_BYTES } });
    // Cursor moves, previews and typing travel beside tRPC, without replies (packages/protocol/src/lane.ts).
    installLane(app.websocketServer, opts.inner.sockets);
    // After the lane, so it sees every message first: the budget before signing in, keep-alive
    // (any message counts, lane included), subscriptions and unsent bytes (socketGuard.ts).
    opts.inner.sockets.guard.install(app.websocketServer, { log: app.log, metrics: opts.inner.metrics });
    app.addHook('onClose', async () => opts.inner.sockets.guard.stop());
    // Board frames are encoded to bytes once per tick (frameEncoder.ts) and must still go as text.
    app.websocketServer.on('connection', sendSplicedAsText);
    // Each read reaches ws's frame parser without the Writable stream's bookkeeping (receiveDirect.ts).
    app.websocketServer.on('connection', receiveDirectly);
    // Browsers send cookies with a WebSocket handshake from any site: a cookie-bearing upgrade from
    // a foreign page is refused before the upgrade (cross-site WebSocket hijacking).
    const upgrades = new TokenBuckets(opts.upgradesPerMinute / 60, opts.upgradesPerMinute);
    app.addHook('onRequest', async (req, reply) => {
      if (req.headers.upgrade?.toLowerCase() !== 'websocket') return;
      if (!upgrades.take(req.ip)) {
        opts.inner.metrics.refused.inc({ kind: 'upgrade' });
        opts.inner.sockets.guard.warn('upgrade', { ip: req.ip }, 'too many WebSocket upgrades from one address');
        return reply.code(429).send({ error: 'Too Many Requests', message: 'Too many connection attempts from this address; retry in a minute.' });
      }
      const origin = req.headers.origin;
      const hasSession = req.cookies[SESSION_COOKIE] !== undefined;
      if (!origin || !hasSession) return;
      if (isOwnOrAllowedOrigin(req, origin, opts.allowedOrigins)) return;
      opts.inner.sockets.guard.warn('foreign_origin', { origin }, 'refused a cookie WebSocket from a foreign origin');
      return reply.code(403).send({ error: 'Forbidden', message: `Origin ${origin} may not open a signed-in connection.` });
    });
    await app.register(fastifyTRPCPlugin, {
      prefix: '/trpc',
      useWSS: true,
      trpcOptions: {
        router: appRouter,
        createContext: createContextFactory(opts.inner),
        // Off: the socket guard pings instead and counts lane messages as liveness too; a dead
        // connection is still noticed within about 10 s.
        keepAlive: { enabled: false },
        experimental_encoder: createFrameEncoder(),
        // Calls per HTTP batch (httpGuard.ts refuses larger ones first, with its own message) and
        // per WebSocket message that is a JSON array.
        maxBatchSize: MAX_BATCH_SIZE,
        onError({ error, path }) {
          if (error.code === 'INTERNAL_SERVER_ERROR') app.log.error({ err: error, path }, 'procedure failed');
        },
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>);
    // Graceful shutdown: finish queued writes, then tell every client to reconnect (elsewhere or
    // after the restart) before the sockets close.
    app.addHook('preClose', async () => {
      await opts.inner.service.flushNow();
      for (const socket of app.websocketServer.clients) socket.send(JSON.stringify({ id: null, method: 'reconnect' }));
    });
  },
  { name: 'inkboard-trpc' },
);
