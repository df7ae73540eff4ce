import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort, serverProcess, type ServerProcess } from './process.js';

/** The machine's PostgreSQL (trust auth); each test gets a database of its own on it. */
export const PG_ADMIN_URL = process.env.INKBOARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.INKBOARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const NGINX = '/usr/sbin/nginx';
/** The shipped configuration: the tests run nginx from it, so it cannot drift from what they prove. */
export const NGINX_CONF = resolve(import.meta.dirname, '../../deploy/nginx.conf');

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export interface PgDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database `inkboard_test_<hex>`, so tests never see each other's rows. */
export async function createPgDatabase(): Promise<PgDatabase> {
  const name = `inkboard_test_${hex(6)}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      // FORCE: a process killed mid-test may still hold connections.
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot reach PostgreSQL at ${PG_ADMIN_URL} (${(err as Error).message}); set INKBOARD_TEST_PG_URL to another one`);
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Deletes every Redis key under `prefix` (SCAN, not KEYS, so a shared Redis is not blocked). */
export async function deleteRedisKeys(prefix: string, url = REDIS_URL): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

export interface Cluster {
  processes: ServerProcess[];
  databaseUrl: string;
  redisPrefix: string;
  /** Stops every process, drops the database and deletes the Redis keys. */
  destroy(): Promise<void>;
}

/**
 * N built server processes sharing one fresh PostgreSQL database and one Redis prefix, each on its
 * own port. The first starts alone (it applies the migrations), then the others together.
 */
export async function startCluster(options: { processes?: number; env?: Record<string, string>; redisUrl?: string } = {}): Promise<Cluster> {
  const count = options.processes ?? 3;
  const db = await createPgDatabase();
  const redisPrefix = `inkboard-test-${hex(6)}:`;
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const processes: ServerProcess[] = [];
  const destroy = async () => {
    await Promise.allSettled(processes.map((p) => p.stop()));
    const results = await Promise.allSettled([db.drop(), deleteRedisKeys(redisPrefix, redisUrl)]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    INKBOARD_REDIS_PREFIX: redisPrefix,
    LOG_LEVEL: 'warn',
    INKBOARD_SCRYPT_LOG_N: '10',
    INKBOARD_UPGRADES_PER_MINUTE: '100000',
    ...options.env,
  };
  try {
    processes.push(await serverProcess(env));
    const rest = await Promise.allSettled(Array.from({ length: count - 1 }, () => serverProcess(env)));
    for (const r of rest) if (r.status === 'fulfilled') processes.push(r.value);
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    await destroy().catch(() => undefined);
    throw err;
  }
  return { processes, databaseUrl: db.url, redisPrefix, destroy };
}

export interface Nginx {
  url: string;
  port: number;
  child: ChildProcess;
  /** Graceful stop (SIGQUIT), SIGKILL after 5 s; removes its temp dir. */
  stop(): Promise<void>;
}

/**
 * deploy/nginx.conf rewritten to run as a child of the test: in the foreground, on a free loopback
 * port, with the given upstream ports, and with its pid, logs and temp files in a temp dir (never
 * /var or port 80). Fails loudly when the shipped file no longer has what is rewritten.
 */
export function testNginxConfig(shipped: string, options: { dir: string; port: number; upstreamPorts: number[] }): string {
  const { dir, port, upstreamPorts } = options;
  let conf = shipped;
  // `by` gets the captured indentation; a function, so `$` in a path is never a pattern.
  const replace = (pattern: RegExp, by: string | ((indent: string) => string), what: string) => {
    if (!pattern.test(conf)) throw new Error(`${NGINX_CONF} no longer has ${what}; update testNginxConfig in test/helpers/cluster.ts`);
    conf = conf.replace(pattern, (_match, group: unknown) => (typeof by === 'string' ? by : by(typeof group === 'string' ? group : '')));
  };
  const top = [
    'daemon off;',
    'master_process on;',
    // As root, workers would switch to nobody, who cannot use the temp dir (0700 root).
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'worker_processes 1;',
  ].join('\n');
  replace(/^worker_processes\s+\S+;.*$/m, top, '"worker_processes"');
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `    ${kind}_temp_path ${join(dir, kind)};`)
    .join('\n');
  replace(/^http\s*\{.*$/m, `http {\n    access_log off;\n${temps}`, 'an "http {" block');
  replace(/^\s*server\s+127\.0\.0\.1:300\d\b.*\n/gm, '', 'the example upstream servers 127.0.0.1:300x');
  const servers = upstreamPorts.map((p) => `        server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n');
  replace(/^(\s*)upstream\s+inkboard\s*\{.*$/m, (indent) => `${indent}upstream inkboard {\n${servers}`, 'an "upstream inkboard {" block');
  replace(/^(\s*)listen\s+80;.*$/m, (indent) => `${indent}listen 127.0.0.1:${port};`, '"listen 80;"');
  return conf;
}

/** nginx (from deploy/nginx.conf) in front of the given server ports; resolves when /healthz answers through it. */
export async function startNginx(upstreamPorts: number[]): Promise<Nginx> {
  if (!existsSync(NGINX)) throw new Error(`nginx is missing at ${NGINX}: run "node scripts/test-setup.mjs" (installs it with apt-get)`);
  if (upstreamPorts.length === 0) throw new Error('startNginx needs at least one upstream port');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'inkboard-nginx-'));
  for (const kind of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, kind));
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, testNginxConfig(readFileSync(NGINX_CONF, 'utf8'), { dir, port, upstreamPorts }));
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8').trim();
    } catch {
      return '';
    }
  };
  let stderr = '';
  // -e: the error log before the configuration is read (Debian's default is stderr anyway).
  const child = spawn(NGINX, ['-c', confPath, '-p', dir, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const handle: Nginx = {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    async stop() {
      if (!gone()) {
        child.kill('SIGQUIT'); // graceful: finishes open requests, closes idle connections
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const failure = (what: string) => {
    const log = [stderr.trim(), errorLog()].filter(Boolean).join('\n');
    return new Error(`${what}${log ? `; its log:\n${log}` : ''}`);
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (gone()) {
      await new Promise((r) => setTimeout(r, 100));
      rmSync(dir, { recursive: true, force: true });
      throw failure(`nginx exited with ${child.exitCode ?? child.signalCode}`);
    }
    const ok = await fetch(`${handle.url}/healthz`).then((r) => r.ok, () => false);
    if (ok) return handle;
    if (Date.now() > deadline) {
      const err = failure('nginx did not answer /healthz within 10 s');
      await handle.stop();
      throw err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
