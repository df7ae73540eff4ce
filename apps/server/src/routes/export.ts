import { Resvg } from '@resvg/resvg-js';
import { renderSvg } from '@inkboard/protocol';
import { TRPCError } from '@trpc/server';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { identify } from '../trpc/context.js';

/** Largest PNG side in pixels: bigger boards are scaled down to fit. */
const MAX_PNG_SIDE = 8192;
const HTTP_STATUS: Partial<Record<TRPCError['code'], number>> = { UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404 };

/** SVG with the same renderer the web app uses, rasterized to PNG by resvg. */
export async function exportRoutes(app: FastifyInstance): Promise<void> {
  const svgOf = async (boardId: string, headers: Record<string, unknown>, reply: FastifyReply) => {
    const who = await identify(app.boards.auth, headers as { authorization?: string; cookie?: string });
    try {
      if (!who) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first (or pass a valid API token as "Authorization: Bearer ink_...").' });
      await app.boards.access.require(boardId, who.user.id, 'viewer');
    } catch (err) {
      const e = err as TRPCError;
      void reply.code(HTTP_STATUS[e.code] ?? 500).send({ error: e.code, message: e.message });
      return null;
    }
    return renderSvg((await app.boards.service.fresh(boardId)).elements.values());
  };

  app.get<{ Params: { id: string } }>('/api/boards/:id/export.svg', async (req, reply) => {
    const svg = await svgOf(req.params.id, req.headers, reply);
    if (svg === null) return reply;
    return reply.type('image/svg+xml; charset=utf-8').header('content-disposition', `inline; filename="${req.params.id}.svg"`).send(svg);
  });

  app.get<{ Params: { id: string }; Querystring: { scale?: string } }>('/api/boards/:id/export.png', async (req, reply) => {
    const svg = await svgOf(req.params.id, req.headers, reply);
    if (svg === null) return reply;
    const scale = Math.min(4, Math.max(0.1, Number(req.query.scale ?? 2) || 2));
    const width = Number(/width="(\d+)"/.exec(svg)?.[1] ?? 320);
    const height = Number(/height="(\d+)"/.exec(svg)?.[1] ?? 200);
    const fit = Math.min(scale, MAX_PNG_SIDE / width, MAX_PNG_SIDE / height);
    const png = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: fit },
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    })
      .render()
      .asPng();
    return reply.type('image/png').header('content-disposition', `inline; filename="${req.params.id}.png"`).send(png);
  });
}
