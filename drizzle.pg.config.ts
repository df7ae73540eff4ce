import { defineConfig } from 'drizzle-kit';

/** PostgreSQL migrations (`PgStorage` applies them at start); drizzle.config.ts generates SQLite's. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './apps/server/src/db/schema.pg.ts',
  out: './drizzle/pg',
});
