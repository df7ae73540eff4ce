import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { BoardSource } from './jobs.js';
import type { RenderLimits } from './limits.js';
import { RenderPool } from './RenderPool.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Exports and previews, rendered by worker threads (render/RenderPool.ts). */
    render: RenderPool;
  }
}

/** Starts the render pool on the app's database and ends its workers when the app closes. */
export const renderPlugin = fp(
  async (app: FastifyInstance, opts: { source: BoardSource; limits?: Partial<RenderLimits>; refused?: (kind: string) => void }) => {
    const storage = app.storage;
    const pool = new RenderPool(opts.source, opts.limits ?? {}, (boardId) => storage.boardSeq(boardId), { log: app.log, refused: opts.refused });
    app.decorate('render', pool);
    app.addHook('onClose', () => pool.close());
  },
  { name: 'render', dependencies: ['inkboard-storage'] },
);
