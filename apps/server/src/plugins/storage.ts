import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import fp from 'fastify-plugin';
import { openSqliteStorage } from '../storage/SqliteStorage.js';
import type { Storage } from '../storage/Storage.js';

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage;
  }
}

/** Modes of the SQLite files (owner read/write only) and of the data folder the server creates. */
export const DB_FILE_MODE = 0o600;
export const DB_DIR_MODE = 0o700;

/**
 * Prepares the SQLite file so that only the server's user can read it: the folder is created 0700
 * when missing, the file 0600. SQLite creates `-wal` and `-shm` with the database file's mode; they
 * are set again after opening, and a file left 0644 by an older version is tightened.
 */
export function prepareDbFile(path: string): void {
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: DB_DIR_MODE });
  if (!existsSync(path)) closeSync(openSync(path, 'a', DB_FILE_MODE));
  restrictDbFiles(path);
}

/** chmod 0600 the database and its WAL files (best effort: a file owned by someone else keeps its mode). */
export function restrictDbFiles(path: string): void {
  if (process.platform === 'win32') return;
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    try {
      if (existsSync(file)) chmodSync(file, DB_FILE_MODE);
    } catch {
      // Not ours to change (e.g. a shared volume); SQLite still opens it.
    }
  }
}

/**
 * Decorates `app.storage`: PostgreSQL when `databaseUrl` is set (several processes), else the
 * embedded SQLite file. Closes it when the app closes.
 */
export const storagePlugin = fp<{ databaseUrl: string | null; dbPath: string }>(
  async (app, opts) => {
    let storage: Storage;
    // pg is loaded only when it is used.
    if (opts.databaseUrl) storage = await (await import('../storage/PgStorage.js')).openPgStorage(opts.databaseUrl);
    else {
      if (opts.dbPath !== ':memory:') prepareDbFile(opts.dbPath);
      storage = openSqliteStorage(opts.dbPath);
      restrictDbFiles(opts.dbPath);
    }
    app.decorate('storage', storage);
    app.addHook('onClose', async () => {
      await storage.close();
    });
  },
  { name: 'inkboard-storage' },
);
