import fp from 'fastify-plugin';
import { openSqliteStorage } from '../storage/SqliteStorage.js';
import type { Storage } from '../storage/Storage.js';

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage;
  }
}

/**
 * Decorates `app.storage`: PostgreSQL when `databaseUrl` is set (several processes), else the
 * embedded SQLite file. Closes it when the app closes.
 */
export const storagePlugin = fp<{ databaseUrl: string | null; dbPath: string }>(
  async (app, opts) => {
    // pg is loaded only when it is used.
    const storage: Storage = opts.databaseUrl ? await (await import('../storage/PgStorage.js')).openPgStorage(opts.databaseUrl) : openSqliteStorage(opts.dbPath);
    app.decorate('storage', storage);
    app.addHook('onClose', async () => {
      await storage.close();
    });
  },
  { name: 'inkboard-storage' },
);
