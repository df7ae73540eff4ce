import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { publicLinkCodeSchema } from '@inkboard/protocol';
import { TRPCError } from '@trpc/server';
import type { FastifyInstance } from 'fastify';
import type { GuestService } from '../auth/GuestService.js';

/**
 * The read-only embed of a view link (issue 18): `/embed/<code>` serves the web app's shell (its
 * embed page shows the board, no tools), and only this response lets other pages frame it: the
 * origins the owner listed become its `frame-ancestors` (none listed: no page may frame it). Every
 * other response keeps `frame-ancestors 'none'` and `X-Frame-Options: DENY` (plugins/httpHeaders.ts).
 */
export async function embedRoutes(app: FastifyInstance, opts: { guests: GuestService; webDist: string }): Promise<void> {
  const shell = existsSync(resolve(opts.webDist, 'index.html'));
  app.get<{ Params: { code: string } }>('/embed/:code', async (req, reply) => {
    const code = publicLinkCodeSchema.safeParse(req.params.code);
    let origins: string[];
    try {
      if (!code.success) throw new TRPCError({ code: 'NOT_FOUND', message: 'Not an embed link.' });
      origins = (await opts.guests.embed(code.data)).embedOrigins;
    } catch (err) {
      if (!(err instanceof TRPCError)) throw err;
      return reply.code(404).type('text/plain; charset=utf-8').send(err.message);
    }
    const policy = String(reply.getHeader('content-security-policy') ?? '');
    const ancestors = origins.length ? origins.join(' ') : "'none'";
    reply.header('content-security-policy', policy.replace(/frame-ancestors [^;]*/, `frame-ancestors ${ancestors}`));
    if (origins.length) reply.removeHeader('x-frame-options');
    reply.header('cache-control', 'no-store');
    if (!shell) return reply.type('text/plain; charset=utf-8').send('The web app is not built; the embed needs it.');
    return reply.sendFile('index.html');
  });
}
