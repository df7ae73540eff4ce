import websocket from '@fastify/websocket';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import fp from 'fastify-plugin';
import type { InnerContext } from '../trpc/context.js';
import { createContextFactory, SESSION_COOKIE } from '../trpc/context.js';
import { appRouter, type AppRouter } from '../trpc/routers/_app.js';
import { createFrameEncoder } from './frameEncoder.js';

/** Largest WebSocket message a client may send (the `ws` default is 100 MiB). */
export const MAX_WS_MESSAGE_BYTES = 1024 * 1024;

/** tRPC over HTTP and WebSocket at `/trpc`. */
export const trpcPlugin = fp<{ inner: InnerContext; allowedOrigins: string[] }>(
  async (app, opts) => {
    await app.register(websocket, { options: { maxPayload: MAX_WS_MESSAGE_BYTES } });
    // Browsers send cookies with a WebSocket handshake from any site: a cookie-bearing upgrade from
    // a foreign page is refused before the upgrade (cross-site WebSocket hijacking).
    app.addHook('onRequest', async (req, reply) => {
      if (req.headers.upgrade?.toLowerCase() !== 'websocket') return;
      const origin = req.headers.origin;
      const hasSession = (req.headers.cookie ?? '').includes(`${SESSION_COOKIE}=`);
      if (!origin || !hasSession) return;
      const own = `${req.protocol}://${req.headers.host ?? ''}`;
      if (origin === own || opts.allowedOrigins.includes(origin)) return;
      req.log.warn({ origin }, 'refused a cookie WebSocket from a foreign origin');
      return reply.code(403).send({ error: 'Forbidden', message: `Origin ${origin} may not open a signed-in connection.` });
    });
    await app.register(fastifyTRPCPlugin, {
      prefix: '/trpc',
      useWSS: true,
      trpcOptions: {
        router: appRouter,
        createContext: createContextFactory(opts.inner),
        keepAlive: { enabled: true, pingMs: 15_000, pongWaitMs: 10_000 },
        experimental_encoder: createFrameEncoder(),
        onError({ error, path }) {
          if (error.code === 'INTERNAL_SERVER_ERROR') app.log.error({ err: error, path }, 'procedure failed');
        },
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>);
  },
  { name: 'inkboard-trpc' },
);
