import { TRPCError } from '@trpc/server';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HTTP_STATUS, RenderError, type Rendered } from '../render/RenderPool.js';
import { identify } from '../trpc/context.js';

/** An exported SVG opened on its own runs nothing and loads nothing (no scripts, no requests). */
const SVG_CSP = "default-src 'none'; sandbox";

/**
 * SVG and PNG exports, rendered off the event loop by the render pool (the same renderer the web
 * app uses; PNG by resvg). Refusals are JSON `{ error, message }` with the status of their code,
 * and a Retry-After header when the renderer is busy.
 */
export async function exportRoutes(app: FastifyInstance): Promise<void> {
  const render = async (
    boardId: string,
    headers: Record<string, unknown>,
    reply: FastifyReply,
    run: (userId: string) => Promise<Rendered>,
  ): Promise<Rendered | null> => {
    try {
      const who = await identify(app.boards.auth, headers as { authorization?: string; cookie?: string }, {}, { boardId });
      if (!who) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first (or pass a valid API token as "Authorization: Bearer ink_...").' });
      await app.boards.access.require(boardId, who.user.id, 'viewer');
      return await run(who.user.id);
    } catch (err) {
      if (!(err instanceof TRPCError)) throw err;
      if (err instanceof RenderError && err.retryAfterSeconds !== null) void reply.header('retry-after', String(err.retryAfterSeconds));
      void reply.code(HTTP_STATUS[err.code] ?? 500).send({ error: err.code, message: err.message });
      return null;
    }
  };

  app.get<{ Params: { id: string } }>('/api/boards/:id/export.svg', async (req, reply) => {
    const out = await render(req.params.id, req.headers, reply, (userId) => app.render.svg(req.params.id, userId));
    if (out === null) return reply;
    return reply
      .type('image/svg+xml; charset=utf-8')
      .header('content-disposition', `inline; filename="${req.params.id}.svg"`)
      .header('content-security-policy', SVG_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('x-board-seq', String(out.seq))
      .send(Buffer.from(out.bytes.buffer, out.bytes.byteOffset, out.bytes.byteLength));
  });

  /** `?at=SEQ`: the board as it was just after op SEQ (version history: a viewer may see any kept state). */
  app.get<{ Params: { id: string }; Querystring: { scale?: string; at?: string } }>('/api/boards/:id/export.png', async (req, reply) => {
    const scale = Math.min(4, Math.max(0.1, Number(req.query.scale ?? 2) || 2));
    const { at: atArg } = req.query;
    if (atArg !== undefined && !/^\d{1,15}$/.test(atArg)) {
      return reply.code(400).send({ error: 'BAD_REQUEST', message: `"at" must be a seq (a whole number from 0, see history.list), not "${atArg.slice(0, 40)}".` });
    }
    const at = atArg === undefined ? undefined : Number(atArg);
    const out = await render(req.params.id, req.headers, reply, (userId) =>
      at === undefined ? app.render.png(req.params.id, userId, scale) : app.render.pngAt(req.params.id, userId, scale, at, () => app.versions.stateJson(req.params.id, at)),
    );
    if (out === null) return reply;
    return reply
      .type('image/png')
      .header('content-disposition', `inline; filename="${req.params.id}${at === undefined ? '' : `-seq${at}`}.png"`)
      .header('x-content-type-options', 'nosniff')
      .header('x-board-seq', String(out.seq))
      .send(Buffer.from(out.bytes.buffer, out.bytes.byteOffset, out.bytes.byteLength));
  });
}
