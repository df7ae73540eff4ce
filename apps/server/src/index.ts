import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { v8Flags } from './v8Flags.js';

// The only file that listens.

// Before any load: V8's settings for a server that handles many small messages (v8Flags.ts).
for (const flag of v8Flags(process.execArgv)) setFlagsFromString(flag);

let config;
try {
  config = loadConfig();
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
const app = await buildApp(config).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

// libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE is set before Node starts: the module
// loader has started it by the time this line runs) serves file reads and scrypt alike; password
// hashes must leave threads free for the files (auth/secrets.ts).
const threadPool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
if (config.hashConcurrency >= threadPool) {
  app.log.warn({ hashConcurrency: config.hashConcurrency, threadPool }, 'INKBOARD_HASH_CONCURRENCY leaves no libuv thread for file reads: lower it or start Node with a larger UV_THREADPOOL_SIZE');
}

// On one CPU (a small VM or container, or taskset) V8's garbage-collection threads take turns with the
// event loop on that CPU, and every board waits meanwhile: with --single-threaded-gc the same work
// runs on the event loop's own thread (docs/deploy.md, "One CPU"; docs/benchmarks.md, issue 19).
if (availableParallelism() === 1 && !process.execArgv.includes('--single-threaded-gc')) {
  app.log.warn('This process has one CPU: start it with `node --single-threaded-gc apps/server/dist/index.js` (Node does not take this flag from NODE_OPTIONS) so garbage collection does not preempt the event loop (docs/deploy.md, "One CPU")');
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

try {
  await app.listen({ port: config.port, host: config.host });
  const port = (app.server.address() as AddressInfo | null)?.port ?? config.port; // PORT=0 picks a free one
  console.log(`Inkboard is running at http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port} (${config.databaseUrl ? 'PostgreSQL' : `database: ${config.dbPath}`}${config.redisUrl ? ', sharing boards through Redis' : ''})`);
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  console.error(e.code === 'EADDRINUSE' ? `Port ${config.port} is in use: set PORT to a free port, e.g. PORT=3001 npm start` : e.message);
  process.exit(1);
}
