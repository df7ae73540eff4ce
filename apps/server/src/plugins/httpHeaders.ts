import type { IncomingMessage } from 'node:http';
import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';

/** A Host header fit to put in a policy (anything else is left out, never echoed). */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** The app's own WebSocket origins for `connect-src` ('self' covers ws: only in newer browsers). */
function ownWebSockets(req: IncomingMessage): string {
  const host = req.headers.host;
  return host && PLAIN_HOST.test(host) ? `ws://${host} wss://${host}` : '';
}

const NO_CACHE_PATHS = new Set(['/sw.js', '/manifest.webmanifest', '/index.html', '/']);

/**
 * Browser-facing headers on every response (@fastify/helmet). The built web app has no inline
 * script, so scripts come only from the server itself; styles only from its stylesheet (Svelte sets
 * style properties through the CSSOM, which a policy does not block); images may be `data:` (the
 * cursor, board thumbnails) and `blob:` (PNG export); the WebSocket goes to the same host. No page
 * may frame the app, and the Referrer-Policy keeps `/join/<code>` links from leaking to other sites.
 * Routes with their own stricter policy (SVG exports) set it themselves; theirs wins.
 */
export const httpHeadersPlugin = fp<{ publicUrl: string | null }>(
  async (app, opts) => {
    const https = opts.publicUrl?.startsWith('https:') ?? false;
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'script-src-attr': ["'none'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:', 'blob:'],
          'font-src': ["'self'", 'data:'],
          'connect-src': ["'self'", ownWebSockets],
          'worker-src': ["'self'", 'blob:'],
          // The web app's manifest and service worker (offline app shell, issue 17) come from the server itself.
          'manifest-src': ["'self'"],
          'object-src': ["'none'"],
          'base-uri': ["'none'"],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          ...(https ? { 'upgrade-insecure-requests': [] } : {}),
        },
      },
      xFrameOptions: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      // Only when the app is served over https (browsers ignore it over http, but a proxy test
      // setup on https://localhost would be pinned to https for a year).
      strictTransportSecurity: https ? { maxAge: 180 * 24 * 3600 } : false,
    });
    // The service worker script and the manifest are checked for a new version on every load: never
    // from a cache (hashed assets may be cached; these names stay the same across versions).
    app.addHook('onSend', async (req, reply) => {
      if (NO_CACHE_PATHS.has(req.url.split('?', 1)[0] ?? '')) reply.header('cache-control', 'no-cache');
    });
  },
  { name: 'inkboard-http-headers' },
);
