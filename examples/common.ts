/** What the examples share: the connection settings from the environment and one-line errors. */
import WebSocket from 'ws';
import { createInkboardClient, type InkboardClient } from '@inkboard/client';

export interface Connection {
  url: string;
  token: string;
}

/** INKBOARD_SERVER (default http://localhost:3000) and INKBOARD_TOKEN (an API token: `inkboard token create NAME`). */
export function connectionFromEnv(): Connection {
  const url = (process.env.INKBOARD_SERVER ?? 'http://localhost:3000').replace(/\/+$/, '');
  const token = process.env.INKBOARD_TOKEN;
  if (!token) throw new UsageError('Set INKBOARD_TOKEN to an API token (create one with: inkboard token create examples).');
  return { url, token };
}

/** A typed client; Node 20 has no WebSocket built in, so it gets the `ws` package. */
export function clientFor(connection: Connection): InkboardClient {
  return createInkboardClient({ ...connection, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
}

/** A mistake of the caller: printed as one line. */
export class UsageError extends Error {}

/** Runs `main`; any failure is one line on stderr and exit code 1. */
export function run(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      console.error(`${name}: ${/fetch failed|ECONNREFUSED/.test(message) ? 'cannot reach the server (set INKBOARD_SERVER)' : message}`);
      process.exit(1);
    },
  );
}
