/**
 * The "classroom" benchmark: one board, N clients that all move their cursor at 30 Hz, 10 of them
 * drawing (live previews at 60 Hz, a committed ~120-point stroke every 2 s). Measured against the
 * Inkboard server (a child process) and, under the same workload, a minimal socket.io relay; plus
 * a join benchmark (a new client loading a 10,000-element board).
 *
 *   node --import tsx bench/classroom.ts [--quick] [--n 10,25,50,100,200,300,400] [--reps 3]
 *        [--server apps/server/dist/index.js] [--systems inkboard,socketio] [--workers 2]
 *        [--warmup 3] [--measure 10] [--drain 2] [--quiet-wait 10] [--join-trials 5] [--no-join]
 *        [--no-skip] [--tick-ms MS] [--db-dir DIR] [--server-prof] [--server-log] [--server-node-args=ARGS]
 *        [--join-only] [--processes 0,1,2,3] [--pg-url URL] [--redis-server PATH] [--server-nice N]
 *        [--guests] [--shared-sampler] [--back-to-back]
 *
 * The sampled clients (those that parse every frame and time cursor moves and committed ops) run in a
 * worker thread of their own beside the --workers load threads: in a load thread their frames waited
 * behind hundreds of other clients' (its event loop lagged 10-50 ms at N = 600), which real clients on
 * their own machines never do. In the school there is one per board. --shared-sampler spreads 8 of
 * them over the load threads, and every client times the ops it receives, as before 2026-12-06.
 *
 * The runs are interleaved: repetition 1 at every N, then repetition 2 at every N, and so on, so that
 * a slow spell of the machine (its core 1.4-1.9x slower for a minute or more, docs/benchmarks.md)
 * takes one run of several N instead of every run of one N. --back-to-back runs the repetitions of
 * one N one after another, as before 2026-12-06 (4), and gives a variant that failed at two smaller
 * N two runs per larger N.
 *
 * --guests (issue 18): every client is a guest of the board's public link (no account), as a class
 * opening a teacher's link would be; the same workload and figures as members.
 *
 * --server-nice N runs every server (Inkboard and the socket.io relay alike) under `nice -n N`;
 * default -10 as root, so the load generator, which stands in for clients on other machines, does
 * not preempt the server it measures on a machine of two cores.
 * --processes K,... (issue 7): each Inkboard run starts K server processes on a fresh PostgreSQL
 * database and a Redis of its own (RedisBoardHub), all on one board, the clients spread round-robin
 * over their ports; 0 in the list means the default single process on SQLite (no Redis), so
 * `--processes 0,1,2,3` gives all in one table. Unset: only the SQLite single process, as before.
 * The server is started once per run (fresh temporary database, a free port found here); every
 * client is its own user with an API token (servers from before accounts are used without).
 * --server-prof writes a CPU profile of every server to bench/results/prof/ (see profile-summary.ts).
 * Everything runs on 127.0.0.1; every phase has a time limit. Results: a table on stdout and JSON in
 * bench/results/ (git-ignored). See docs/benchmarks.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import pg from 'pg';
import WebSocket from 'ws';
import type { ShardConfig, ShardReport, System } from './lib/loadgen.js';
import { measureCoreSpeed, type CoreSpeed } from './lib/coreSpeed.js';
import { runJoin, type JoinResult } from './lib/join.js';
import { setupClassroom, wsConnect } from './lib/setup.js';
import { collectGarbageIn } from '../test/helpers/process.js';
import {
  histAdd,
  histMerge,
  histSummary,
  machineCpu,
  median,
  newHist,
  procCpuSeconds,
  procRssMb,
  schedStat,
  selfThreadsWaitNs,
  round1,
  round2,
  sleep,
  strokePoints,
  wall,
  type HistSummary,
} from './lib/util.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HERE = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- options

function parseArgs(argv: string[]) {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`Unexpected argument ${a}`);
    // Split at the first '=' only: --server-node-args=--max-semi-space-size=64 keeps its value.
    const eq = a.indexOf('=');
    const [k, v] = eq < 0 ? [a.slice(2), undefined] : [a.slice(2, eq), a.slice(eq + 1)];
    if (v !== undefined) flags.set(k, v);
    else if (argv[i + 1] && !argv[i + 1]!.startsWith('--')) flags.set(k, argv[++i]!);
    else flags.set(k, true);
  }
  const quick = flags.has('quick');
  const num = (k: string, d: number) => (flags.has(k) ? Number(flags.get(k)) : d);
  const known = ['quick', 'n', 'reps', 'server', 'systems', 'workers', 'warmup', 'measure', 'drain', 'no-join', 'no-skip', 'server-prof', 'join-trials', 'tick-ms', 'quiet-wait', 'server-node-args', 'server-log', 'db-dir', 'join-only', 'processes', 'pg-url', 'redis-server', 'server-nice', 'board-size', 'pin', 'gc-threads', 'guests', 'server-env', 'shared-sampler', 'back-to-back', 'help'];
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`Unknown option --${k}`);
  if (flags.has('help')) {
    console.log('node --import tsx bench/classroom.ts [--quick] [--n 10,25,50,100,200,300,400] [--reps 3] [--server PATH] [--systems inkboard,socketio] [--workers 2] [--warmup S] [--measure S] [--drain S] [--quiet-wait S] [--join-trials 5] [--tick-ms MS] [--no-join] [--no-skip] [--server-prof] [--processes 0,1,2,3 (0 = one process on SQLite; K >= 1 = K processes on PostgreSQL + Redis)] [--pg-url postgres://postgres@127.0.0.1:5432/postgres] [--redis-server redis-server] [--server-nice N (nice -n of the servers; default -10 as root, else 0)] [--board-size S (the school workload: boards of S clients, one drawer each)] [--pin (server on CPU 0, load generator on the others)] [--gc-threads (a pinned Inkboard keeps the V8 GC threads instead of --single-threaded-gc)] [--guests (every client a guest of the public link)] [--server-env KEY=VALUE,... (Inkboard servers\' environment, e.g. INKBOARD_TICK_LOADED_MS=25)] [--shared-sampler (the sampled clients in the load threads, ops timed at every client: the instrument before 2026-12-06)] [--back-to-back (the repetitions of one N one after another, as before 2026-12-06 (4); default: repetition 1 at every N, then repetition 2 at every N, ...)]');
    process.exit(0);
  }
  const nList = String(flags.get('n') ?? (quick ? '10,50,100' : '10,25,50,100,200,300,400'))
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b);
  const opts = {
    quick,
    nList,
    reps: num('reps', quick ? 1 : 3),
    server: resolve(ROOT, String(flags.get('server') ?? 'apps/server/dist/index.js')),
    systems: String(flags.get('systems') ?? 'inkboard,socketio').split(',') as System[],
    workers: num('workers', 2),
    warmupS: num('warmup', quick ? 1.5 : 3),
    measureS: num('measure', quick ? 4 : 10),
    drainS: num('drain', quick ? 1.5 : 2),
    join: !flags.has('no-join'),
    joinTrials: num('join-trials', 5),
    skip: !flags.has('no-skip'),
    serverProf: flags.has('server-prof'),
    tickMs: flags.has('tick-ms') ? Number(flags.get('tick-ms')) : null,
    /** Extra environment of the Inkboard servers (A/B of a setting): KEY=VALUE pairs, comma-separated. */
    serverEnv: Object.fromEntries(
      String(flags.get('server-env') ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => {
          const eq = pair.indexOf('=');
          if (eq <= 0) throw new Error(`--server-env: expected KEY=VALUE, got ${pair}`);
          return [pair.slice(0, eq), pair.slice(eq + 1)];
        }),
    ) as Record<string, string>,
    quietS: num('quiet-wait', quick ? 3 : 10),
    /** Extra node options for the server processes, e.g. --trace-gc (diagnostics). */
    serverNodeArgs: flags.has('server-node-args') ? String(flags.get('server-node-args')).split(/\s+/).filter(Boolean) : [],
    /** Keep each server's output in bench/results/<stamp>-<run>.server.log. */
    serverLog: flags.has('server-log'),
    /** The sampled clients in a worker thread of their own (--shared-sampler: spread over the load threads, as before 2026-12-06). */
    samplerThread: !flags.has('shared-sampler'),
    /**
     * Run order: repetition 1 at every N, then repetition 2 at every N, ... (the default) instead of
     * the repetitions of one N back to back (--back-to-back). This VM has spells of a minute or more
     * in which its core runs 1.4-1.9x slower (docs/benchmarks.md); back to back, one spell can take
     * every run of one N and decide its median; interleaved, it takes one run of several N, and each
     * median shows the machine's usual speed. Interleaved, every variant gets all its repetitions
     * (back to back, one that failed at two smaller N gets two).
     */
    interleave: !flags.has('back-to-back'),
    /**
     * Scheduling priority of the server processes (`nice -n`). The load generator stands in for
     * clients on other machines; on this one it shares the CPUs with the servers, and a negative
     * value keeps its threads from preempting them. Default -10 when the benchmark runs as root
     * (raising a priority needs it), else 0 (unchanged). Both systems get the same.
     */
    serverNice: flags.has('server-nice') ? Number(flags.get('server-nice')) : process.getuid?.() === 0 ? -10 : 0,
    /** Only the join benchmark. */
    joinOnly: flags.has('join-only'),
    /** Every client a guest through the board's public link (issue 18) instead of a member with an account. */
    guests: flags.has('guests'),
    /** Where the servers' temporary database goes (default: the OS temp dir), e.g. /dev/shm to take disk syncs out. */
    dbDir: flags.has('db-dir') ? String(flags.get('db-dir')) : os.tmpdir(),
    /**
     * Server deployments of the Inkboard runs: 0 = one process on SQLite (the default), K >= 1 = K
     * processes on PostgreSQL + Redis. Null: --processes not given (SQLite only, as before).
     */
    processes: flags.has('processes')
      ? String(flags.get('processes'))
          .split(',')
          .map((v) => (v.trim().toLowerCase() === 'sqlite' ? 0 : Number(v)))
      : null,
    /** Admin connection for the throwaway databases inkboard_bench_<hex> (trust auth on this machine). */
    pgUrl: String(flags.get('pg-url') ?? process.env.INKBOARD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'),
    redisServer: String(flags.get('redis-server') ?? 'redis-server'),
    /**
     * The "school" workload (issue 19): the N clients are spread over boards of this many (the last
     * may be smaller), one drawer per board, previews of 4 points; 0: the classroom, one board.
     */
    boardSize: num('board-size', 0),
    /** Pin every server to CPU 0 and this process (the load generator's threads) to the other CPUs. */
    pin: flags.has('pin'),
    /**
     * A pinned Inkboard server (one CPU) starts with --single-threaded-gc, as docs/deploy.md advises
     * for one CPU: V8's GC threads would otherwise take turns with the event loop on that CPU. The
     * relay keeps V8's default, which measured better for it (N = 200: cursor p99 17.8 ms at 74% CPU
     * against 147.9 ms at 88% with the flag). --gc-threads: V8's default for both (as before 2026-12-05).
     */
    singleThreadedGc: flags.has('pin') && !flags.has('gc-threads'),
  };
  if (!Number.isInteger(opts.boardSize) || opts.boardSize < 0) throw new Error('--board-size takes a whole number of clients per board (0: one board)');
  if (!Number.isInteger(opts.serverNice) || opts.serverNice < -20 || opts.serverNice > 19) throw new Error('--server-nice takes an integer from -20 to 19');
  if (opts.processes) {
    if (!opts.processes.length || opts.processes.some((k) => !Number.isInteger(k) || k < 0 || k > 16))
      throw new Error('--processes needs a list of process counts 0-16, e.g. 0,1,2,3 (0 = one process on SQLite)');
    opts.processes = [...new Set(opts.processes)];
  }
  for (const s of opts.systems) if (s !== 'inkboard' && s !== 'socketio') throw new Error(`Unknown system ${s}`);
  if (!opts.nList.length) throw new Error('--n needs a list of client counts, e.g. 50,100,200');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
/**
 * The protocol sources next to the measured server (apps/server/dist/index.js -> packages/protocol/src):
 * clients decode frames and apply snapshots with the code of the same commit.
 */
const protocolDir = (() => {
  const next = resolve(dirname(opts.server), '../../../packages/protocol/src');
  return existsSync(join(next, 'clientBoard.ts')) ? next : join(ROOT, 'packages/protocol/src');
})();
/**
 * Cursor moves and previews over the ephemeral lane (`~[...]`) when the measured server has it
 * (apps/server/dist/plugins/lane.js next to it), else as tRPC mutations (e.g. a snapshot of a commit before it).
 */
const serverHasLane = existsSync(join(dirname(opts.server), 'plugins', 'lane.js'));
/** drawers: in the whole classroom; in a school, per board. */
const WORKLOAD = opts.boardSize
  ? { cursorHz: 30, previewHz: 60, strokeMs: 2000, strokePoints: 120, pointsPerPreview: 4, drawers: 1, sampled: 8 }
  : { cursorHz: 30, previewHz: 60, strokeMs: 2000, strokePoints: 120, pointsPerPreview: 2, drawers: 10, sampled: 8 };
/** The board (0-based) of client idx. */
const boardOf = (idx: number) => (opts.boardSize ? Math.floor(idx / opts.boardSize) : 0);
/** Delivery a run must reach: every op and final cursor (classroom); 99.9% (school, as issue 19 defines it). */
const DELIVERY_MIN = opts.boardSize ? 0.999 : 1;
/** A run's load generator is called overloaded above this event-loop lag (p99) or below this send rate. */
const GEN_LAG_LIMIT_MS = 10;
const GEN_SEND_MIN = 0.95;
const LATENCY_LIMIT_MS = 50;

const log = (s: string) => console.log(s);
const resultsDir = join(ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');

// ---------------------------------------------------------------- servers

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

interface RunningServer {
  system: System;
  port: number;
  pid: number;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

async function startServer(system: System, label: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const port = await freePort();
  const tmp = mkdtempSync(join(opts.dbDir, 'inkboard-bench-'));
  const prof = opts.serverProf ? ['--cpu-prof', `--cpu-prof-dir=${join(resultsDir, 'prof')}`, `--cpu-prof-name=${stamp}-${label}.cpuprofile`] : [];
  const script = system === 'inkboard' ? opts.server : join(HERE, 'socketio-relay.mjs');
  if (!existsSync(script)) throw new Error(`${script} does not exist: build the server first (npx turbo run build) or pass --server`);
  // Every client connects from 127.0.0.1: the per-address upgrade limit (made for abuse from one
  // address) is lifted, and password hashing made cheap (accounts are set up for every run).
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    INKBOARD_DB: join(tmp, 'bench.db'),
    INKBOARD_UPGRADES_PER_MINUTE: '1000000',
    // Likewise the per-address connection cap and the sign-up limits (every student signs up from 127.0.0.1).
    INKBOARD_CONNECTIONS_PER_ADDRESS: '0',
    INKBOARD_SIGNUPS_PER_ADDRESS_PER_MINUTE: '1000000',
    INKBOARD_SIGNUPS_PER_MINUTE: '1000000',
    INKBOARD_SCRYPT_LOG_N: '10',
    // --guests: every client joins through the public link from 127.0.0.1.
    INKBOARD_GUESTS_PER_BOARD: '10000',
    INKBOARD_GUEST_JOINS_PER_ADDRESS_PER_MINUTE: '10000',
    ...extraEnv,
  };
  if (opts.tickMs !== null) env.INKBOARD_TICK_MS = String(opts.tickMs);
  if (system === 'inkboard') Object.assign(env, opts.serverEnv);
  delete env.NODE_OPTIONS;
  // Inkboard: the inspector's port free (0) for `collectGarbage`, which opens it with SIGUSR1.
  const inspect = system === 'inkboard' && !opts.serverNodeArgs.some((a) => a.startsWith('--inspect')) ? ['--inspect-port=0'] : [];
  const argv = [...prof, ...(opts.singleThreadedGc && system === 'inkboard' ? ['--single-threaded-gc'] : []), ...inspect, ...opts.serverNodeArgs, script];
  // --pin: the server on CPU 0 (taskset), as issue 19 measured; niceness as before.
  const cmd = [...(opts.pin ? ['taskset', '-c', '0'] : []), ...(opts.serverNice ? ['nice', '-n', String(opts.serverNice)] : []), process.execPath, ...argv];
  const child = spawn(cmd[0]!, cmd.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const logFile = opts.serverLog ? join(resultsDir, `${stamp}-${label}.server.log`) : null;
  const onOutput = (d: Buffer) => {
    out = (out + d).slice(-20_000);
    if (logFile) appendFileSync(logFile, d);
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ready = system === 'inkboard' ? 'is running at' : 'listening on';
  if (logFile) appendFileSync(logFile, `${wall().toFixed(1)} server started (wall ms; runs log their window in the JSON)\n`);
  const deadline = Date.now() + 20_000;
  while (!out.includes(ready)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${system} server did not start:\n${out}`);
    }
    await sleep(50);
  }
  const stop = async () => {
    cleanups.delete(stop);
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 8_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  // Stopped on SIGINT/SIGTERM and at the time limit too.
  cleanups.add(stop);
  return {
    system,
    port,
    pid: child.pid!,
    child,
    output: () => out,
    stop,
  };
}

// ---------------------------------------------------------------- several processes (issue 7)

type Backend = 'sqlite' | 'postgres+redis' | 'none';

/** How the system of a run is deployed: K processes, on SQLite (K = 1) or on PostgreSQL + Redis. */
interface Deploy {
  processes: number;
  backend: Backend;
}

/** What is measured: a system in one deployment; `key` names it in summaries and N_max. */
interface Variant {
  system: System;
  deploy: Deploy;
  key: string;
}

const SQLITE: Deploy = { processes: 1, backend: 'sqlite' };
const deployOf = (k: number): Deploy => (k === 0 ? SQLITE : { processes: k, backend: 'postgres+redis' });
const variantOf = (system: System, deploy: Deploy): Variant => ({
  system,
  deploy: system === 'socketio' ? { processes: 1, backend: 'none' } : deploy,
  key: system === 'socketio' ? 'socketio' : deploy.backend === 'sqlite' ? 'inkboard' : `inkboard-pg${deploy.processes}`,
});
const variantTitle = (v: Variant) =>
  v.system === 'socketio' ? 'socket.io relay' : v.deploy.backend === 'sqlite' ? 'Inkboard, K = 1 on SQLite' : `Inkboard, K = ${v.deploy.processes} on PostgreSQL + Redis`;
/** Short form for the table of several processes. */
const kLabel = (d: Deploy) => (d.backend === 'sqlite' ? '1 SQLite' : `${d.processes} PG+R`);

/** Undone on SIGINT/SIGTERM and at the hard time limit: throwaway databases, Redis, servers. */
const cleanups = new Set<() => Promise<void>>();
async function runCleanups(timeoutMs = 15_000): Promise<void> {
  const all = Promise.allSettled([...cleanups].map((f) => f()));
  await Promise.race([all, sleep(timeoutMs)]);
}

async function pgAdmin<T = unknown>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: opts.pgUrl });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot reach PostgreSQL at ${opts.pgUrl} (${(err as Error).message}); pass --pg-url`);
  }
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

interface BenchDatabase {
  name: string;
  url: string;
  drop: () => Promise<void>;
}

/** A fresh, empty database inkboard_bench_<hex> (as test/helpers/cluster.ts does for tests). */
async function createDatabase(): Promise<BenchDatabase> {
  const name = `inkboard_bench_${randomBytes(6).toString('hex')}`;
  await pgAdmin(`CREATE DATABASE ${name}`);
  const url = new URL(opts.pgUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | null = null;
  const drop = () => {
    // FORCE: a server killed at the time limit may still hold connections.
    dropped ??= pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => {
      cleanups.delete(drop);
    });
    return dropped;
  };
  cleanups.add(drop);
  return { name, url: url.toString(), drop };
}

/** Server processes of the database (PostgreSQL backends), for their CPU. */
async function pgBackendPids(dbName: string): Promise<number[]> {
  const rows = await pgAdmin<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName]);
  return rows.map((r) => Number(r.pid));
}

interface RedisStats {
  publishCalls: number;
  publishUsec: number;
  commands: number;
}

interface BenchRedis {
  port: number;
  pid: number;
  url: string;
  /** PUBLISH calls and Redis's own time in them (INFO commandstats), all commands processed (INFO stats). */
  stats: () => Promise<RedisStats>;
  stop: () => Promise<void>;
}

/** A private redis-server on a free port (no persistence), so its CPU is its own. */
async function startRedis(label: string): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(opts.dbDir, 'inkboard-bench-redis-'));
  const child = spawn(opts.redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onOutput = (d: Buffer) => (out = (out + d).slice(-8_000));
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  const spawnError = new Promise<Error>((r) => child.once('error', r));
  let failed: Error | null = null;
  void spawnError.then((e) => (failed = e));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  let client: Redis | null = null;
  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      client?.disconnect();
      if (!gone() && !failed) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
      cleanups.delete(stop);
    })();
    return stopped;
  };
  cleanups.add(stop);
  const deadline = Date.now() + 10_000;
  while (!out.includes('Ready to accept connections')) {
    if (failed || gone() || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server (${opts.redisServer}) for ${label} did not start: ${failed ? (failed as Error).message : out.slice(-2000)}`);
    }
    await sleep(20);
  }
  const url = `redis://127.0.0.1:${port}`;
  client = new Redis(url, { maxRetriesPerRequest: 1 });
  const stats = async (): Promise<RedisStats> => {
    const text = await client!.info('all');
    const field = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    return {
      publishCalls: field(/^cmdstat_publish:calls=(\d+)/m),
      publishUsec: field(/^cmdstat_publish:calls=\d+,usec=(\d+)/m),
      commands: field(/^total_commands_processed:(\d+)/m),
    };
  };
  return { port, pid: child.pid!, url, stats, stop };
}

/** The server processes of one run, and what they share. */
interface Deployment {
  servers: RunningServer[];
  redis: BenchRedis | null;
  db: BenchDatabase | null;
  stop: () => Promise<void>;
}

/**
 * One process as before, or K processes on a fresh PostgreSQL database and a private Redis: the
 * first starts alone (it applies the migrations), then the others together.
 */
async function startDeployment(system: System, deploy: Deploy, label: string): Promise<Deployment> {
  if (deploy.backend !== 'postgres+redis') {
    const server = await startServer(system, label);
    return { servers: [server], redis: null, db: null, stop: () => server.stop() };
  }
  const servers: RunningServer[] = [];
  let redis: BenchRedis | null = null;
  let db: BenchDatabase | null = null;
  const stop = async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    const results = await Promise.allSettled([redis?.stop(), db?.drop()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    [redis, db] = await Promise.all([startRedis(label), createDatabase()]);
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, INKBOARD_REDIS_PREFIX: `inkboard-bench-${randomBytes(4).toString('hex')}:` };
    const name = (i: number) => `${label}-p${i + 1}`;
    servers.push(await startServer(system, name(0), env));
    const rest = await Promise.allSettled(Array.from({ length: deploy.processes - 1 }, (_, i) => startServer(system, name(i + 1), env)));
    for (const r of rest) if (r.status === 'fulfilled') servers.push(r.value);
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { servers, redis, db, stop };
}

// ---------------------------------------------------------------- one run

interface RunResult {
  system: System;
  /** Server processes (K) and what they run on; socket.io: 1, 'none'. */
  processes: number;
  backend: Backend;
  variant: string;
  n: number;
  rep: number;
  cursor: HistSummary;
  op: HistSummary;
  ack: HistSummary;
  opsExpected: number;
  opDelivery: number | null;
  clientsMissingOps: number;
  cursorDelivery: number | null;
  /** Updates (ops, cursors) that reached a client of another board. */
  crossBoard: number;
  boards: number;
  /** The servers' garbage collection in the window (nodejs_gc_duration_seconds), % of one core. */
  serverGcPct: number | null;
  /** GC seconds while the clients connected and warmed up (before the window). */
  serverGcSetupS: number | null;
  /** The servers' RSS with accounts and boards made, before the clients connect (Inkboard: after a full GC, `collectGarbage`). */
  serverRssMbBase: number | null;
  /** How long the full GC before the base took (null: not made, the relay). */
  baseGcMs: number | null;
  /** V8's young generation (new space) as committed at the base and at the end of the window, MB (Inkboard). */
  newSpaceMbBase: number | null;
  newSpaceMbEnd: number | null;
  /** (peak RSS - base) / N, KiB. */
  rssKbPerConnection: number | null;
  serverCpuPct: number | null;
  serverRssMbPeak: number | null;
  serverRssMbEnd: number | null;
  serverRssMbIdle: number | null;
  /** Time the server's main (event-loop) thread was runnable but waiting for a CPU, % of the window. */
  serverWaitPct: number | null;
  /** The same summed over the load generator's threads. */
  genWaitPct: number;
  genCpuPct: number;
  machineCpuPct: number;
  otherCpuPct: number | null;
  bytesPerClientPerS: number;
  msgsPerClientPerS: number;
  /** Inkboard: board frames per second at the median client (one per 25 ms tick when healthy: 40). */
  framesPerClientPerS: number | null;
  /** Server responsiveness (see startProbe). */
  probeRtt: HistSummary;
  /** The last probe of the window was still unanswered at its end. */
  probeStuck: boolean;
  bytesPerPoint: number | null;
  opEventBytes: number | null;
  sendRate: number;
  previewSendRate: number;
  genLagP99: number;
  /** The sampled clients' thread's event-loop lag p99 (null: no thread of their own). */
  samplerLagP99: number | null;
  genLagMean: number;
  genLagMax: number;
  mainLagP99: number;
  genOverloaded: boolean;
  maxClientSendBacklog: number;
  subscriptionErrors: number;
  closedClients: number;
  pushErrors: number;
  mutationErrors: number;
  errorSample: string | null;
  connectMs: number;
  /** Accounts, tokens and board membership for the run (servers with accounts). */
  setupMs: number;
  /** CPU use of the machine (% of one core) in the second before the run, with nothing of ours running. */
  loadBefore: number;
  /** The server's core timed by a short fixed job just before the run (lib/coreSpeed.ts); null if it failed. */
  coreSpeed: CoreSpeed | null;
  /** Per server process (serverCpuPct is their sum, serverRssMbPeak the peak of their sum, serverWaitPct their mean). */
  serverCpuPctPerProcess: (number | null)[];
  serverRssMbPeakPerProcess: number[];
  serverWaitPctPerProcess: (number | null)[];
  /** The run's private redis-server (K processes on PostgreSQL + Redis), % of one core over the window. */
  redisCpuPct: number | null;
  redisCpuS: number | null;
  redisRssMb: number | null;
  /** PostgreSQL backends connected to the run's database (pg_stat_activity at the window's start). */
  pgCpuPct: number | null;
  /** PUBLISH calls in the window (INFO commandstats delta), per second, and Redis's own µs per call (usec / calls). */
  publishes: number | null;
  publishesPerS: number | null;
  publishUsecPerCall: number | null;
  redisCommandsPerS: number | null;
  /**
   * Events the server published in the window: the clients' cursor moves, previews (with the
   * `done` of each stroke) and committed ops sent in it, less refused requests. Each goes to N - 1 clients.
   */
  eventsPublished: number;
  eventsPerS: number;
  eventsPerPublish: number | null;
  /** Redis CPU µs per event published (redisCpuS / eventsPublished). */
  redisUsPerEvent: number | null;
  /** Server CPU µs (sum over the K processes) per event published. */
  serverUsPerEvent: number | null;
  pass: boolean;
  failReasons: string[];
}

function assignClients(n: number) {
  if (opts.boardSize) {
    // School: the first client of each board draws; the sampled clients are non-drawers of boards
    // spread over the school (at most one per board). With a sampler thread, one in every board: they
    // time the ops too (5 a board in 10 s), 300 receipts at N = 600.
    const boards = Math.ceil(n / opts.boardSize);
    const want = opts.samplerThread ? boards : Math.min(WORKLOAD.sampled, boards);
    const sampled = new Set<number>();
    for (let k = 0; k < want; k++) {
      const b = Math.floor((k * boards) / want);
      const idx = b * opts.boardSize + 1;
      if (idx < n && boardOf(idx) === b) sampled.add(idx);
    }
    return Array.from({ length: n }, (_, idx) => ({ idx, drawer: idx % opts.boardSize === 0, sampled: sampled.has(idx) }));
  }
  const drawers = Math.min(WORKLOAD.drawers, n);
  const sampled = new Set<number>();
  const pool = n - drawers;
  const want = Math.min(WORKLOAD.sampled, n);
  for (let k = 0; k < want; k++) sampled.add(pool >= want ? drawers + Math.floor((k * pool) / want) : k);
  return Array.from({ length: n }, (_, idx) => ({ idx, drawer: idx < drawers, sampled: sampled.has(idx) }));
}

const workerBoot = (file: string) =>
  `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(file)}); })`;

function waitFor<T>(worker: Worker, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolveMsg, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker: no ${type} within ${timeoutMs} ms`)), timeoutMs);
    const onMsg = (m: { type: string; message?: string }) => {
      if (m.type === 'error') {
        clearTimeout(timer);
        worker.off('message', onMsg);
        reject(new Error(m.message));
      } else if (m.type === type) {
        clearTimeout(timer);
        worker.off('message', onMsg);
        resolveMsg(m as T);
      }
    };
    worker.on('message', onMsg);
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * The CPUs are shared with other work: before a run, wait (up to `maxS`) for a second in which the
 * rest of the machine uses less than half a core. Returns that load (% of one core).
 */
async function waitForQuiet(maxS: number): Promise<number> {
  const deadline = Date.now() + maxS * 1000;
  let busy = 0;
  for (;;) {
    const a = machineCpu();
    await sleep(1000);
    const b = machineCpu();
    busy = ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * os.cpus().length * 100;
    if (busy < 50 || Date.now() > deadline) return round1(busy);
  }
}

/**
 * Server responsiveness, measured from outside: a separate connection that receives no board
 * traffic sends a request every 50 ms and times the answer (Inkboard: the adapter's text PING ->
 * PONG; socket.io: an acknowledged 'join' of an unused room). Grows when the server's event loop is
 * saturated, whatever the load generator does. Inkboard's probe signs in with `token` first: the
 * server cuts a socket that has not signed in within 5 s (socketGuard's handshakeMs), and an
 * unsigned probe measured only the warm-up.
 */
async function startProbe(system: System, port: number, token: string | null) {
  const hist = newHist();
  const connect = wsConnect(port, token);
  const url = system === 'inkboard' ? connect.url : `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let sentAt = 0;
  let waiting = false;
  let recording = false;
  let n = 0;
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error('probe: no connection within 10 s')), 10_000);
    ws.once('error', fail);
    if (system === 'inkboard')
      ws.once('open', () => {
        clearTimeout(timer);
        if (connect.first) ws.send(connect.first);
        ready();
      });
    ws.on('message', (data: Buffer) => {
      const s = data.toString();
      if (system === 'socketio') {
        if (s === '2') return ws.send('3');
        if (s.startsWith('0')) return ws.send('40');
        if (s.startsWith('40')) {
          clearTimeout(timer);
          return ready();
        }
        if (!s.startsWith('43')) return;
      } else if (s !== 'PONG') return;
      if (waiting && recording) histAdd(hist, performance.now() - sentAt);
      waiting = false;
    });
  });
  const timer = setInterval(() => {
    if (waiting) return; // one probe in flight at a time; a late answer still counts when it comes
    waiting = true;
    sentAt = performance.now();
    ws.send(system === 'inkboard' ? 'PING' : `42${++n}["join","probe-room"]`);
  }, 50);
  return {
    start: () => (recording = true),
    stop: () => {
      recording = false;
      clearInterval(timer);
      ws.terminate();
      return histSummary(hist);
    },
    missed: () => (waiting ? 1 : 0),
    hist,
  };
}

async function runOnce(variant: Variant, n: number, rep: number): Promise<RunResult> {
  const { system, deploy } = variant;
  const loadBefore = await waitForQuiet(opts.quietS);
  // How fast the server's core is now: the VM has slow phases in which the same load costs a third
  // to a half more of it (issue 19), shown beside each run's figures.
  const coreSpeed = measureCoreSpeed(opts.pin ? 0 : null);
  const deployment = await startDeployment(system, deploy, deploy.backend === 'postgres+redis' ? `${system}-k${deploy.processes}-n${n}-r${rep}` : `${system}-n${n}-r${rep}`);
  const { servers, redis, db } = deployment;
  const server = servers[0]!;
  const workers: Worker[] = [];
  try {
    const boardCount = boardOf(n - 1) + 1;
    // socket.io: one room per board.
    let boardIds = Array.from({ length: boardCount }, (_, b) => (opts.boardSize ? `school-${b}` : 'classroom'));
    let tokens: (string | null)[] = new Array(n).fill(null);
    let setupMs = 0;
    let probeToken: string | null = null;
    if (system === 'inkboard') {
      const room = await setupClassroom(server.port, n, `classroom n=${n}`, opts.boardSize ? { boardOf, boards: boardCount } : undefined, { guests: opts.guests });
      boardIds = room.boardIds;
      tokens = room.tokens;
      probeToken = room.ownerToken ?? room.tokens[0] ?? null;
      setupMs = Math.round(room.setupMs);
    }
    // The servers' memory before any client connects (accounts and boards are made): the base of "per
    // connection", read after a full garbage collection (`collectGarbage`). Without it the base held
    // whatever the setup's requests left in the heap, and the same server's figure swung from -2 to
    // 108 KiB a connection with where its next mark-compact fell (issue 19).
    const baseGcMs = system === 'inkboard' ? await collectGarbageAll(servers) : null;
    const gc0Total = system === 'inkboard' ? await Promise.all(servers.map((sv) => gcSeconds(sv.port))) : null;
    const rssBase = sumOrNull(servers.map((sv) => procRssMb(sv.pid)));
    const newSpaceBase = system === 'inkboard' ? await Promise.all(servers.map((sv) => newSpaceMb(sv.port))) : null;
    const assigned = assignClients(n).map((c) => ({ ...c, board: boardIds[boardOf(c.idx)]!, token: tokens[c.idx]! }));
    const shards = Math.max(1, Math.min(opts.workers, n));
    const loadgen = new URL('./lib/loadgen.ts', import.meta.url).href;
    // The sampled clients (the measuring ones) in a thread of their own: not queued behind the
    // hundreds of clients whose frames a load thread handles (see opts.samplerThread).
    const shardClients = opts.samplerThread
      ? [...Array.from({ length: shards }, (_, s) => assigned.filter((c) => !c.sampled && c.idx % shards === s)), assigned.filter((c) => c.sampled)]
      : Array.from({ length: shards }, (_, s) => assigned.filter((c) => c.idx % shards === s));
    const hasSampler = opts.samplerThread && shardClients.at(-1)!.length > 0;
    for (const [i, clients] of shardClients.entries()) {
      if (clients.length === 0) continue;
      const cfg: ShardConfig = {
        system,
        // Client idx -> ports[idx % K] (round-robin over the processes).
        ports: servers.map((sv) => sv.port),
        clients,
        cursorHz: WORKLOAD.cursorHz,
        previewHz: WORKLOAD.previewHz,
        strokeMs: WORKLOAD.strokeMs,
        strokePoints: WORKLOAD.strokePoints,
        pointsPerPreview: WORKLOAD.pointsPerPreview,
        connectConcurrency: 16,
        lane: serverHasLane,
        protocolDir,
        // With a sampler thread (the last shard), only it times ops.
        timeOps: !opts.samplerThread || i === shards,
      };
      workers.push(new Worker(workerBoot(loadgen), { eval: true, workerData: cfg }));
    }
    const readies = await Promise.all(workers.map((w) => waitFor<{ connectMs: number }>(w, 'ready', 90_000)));
    const rssIdle = sumOrNull(servers.map((sv) => procRssMb(sv.pid)));
    // One probe per process; their histograms are merged.
    const probes = await Promise.all(servers.map((sv) => startProbe(system, sv.port, probeToken)));
    // The database's PostgreSQL backends (the servers' pools are open by now).
    const pgPids = db ? await pgBackendPids(db.name).catch(() => [] as number[]) : [];

    const tStart = wall() + 300;
    const tM0 = tStart + opts.warmupS * 1000;
    const tM1 = tM0 + opts.measureS * 1000;
    for (const w of workers) w.postMessage({ type: 'start', tStart, tM0, tM1 });

    const mainLag = monitorEventLoopDelay({ resolution: 10 });
    let rssPeak = 0;
    const rssPeaks = servers.map(() => 0);
    const rssTimer = setInterval(() => {
      const now = servers.map((sv) => procRssMb(sv.pid) ?? 0);
      now.forEach((v, i) => (rssPeaks[i] = Math.max(rssPeaks[i]!, v)));
      rssPeak = Math.max(rssPeak, now.reduce((a, b) => a + b, 0));
    }, 250);
    await sleep(tM0 - wall());
    const redisStats0 = redis ? await redis.stats() : null;
    mainLag.enable();
    for (const probe of probes) probe.start();
    const sched0 = servers.map((sv) => schedStat(`/proc/${sv.pid}/schedstat`));
    const genWait0 = selfThreadsWaitNs();
    const cpu0 = servers.map((sv) => procCpuSeconds(sv.pid));
    const gc0 = system === 'inkboard' ? await Promise.all(servers.map((sv) => gcSeconds(sv.port))) : null;
    const redisCpu0 = redis ? procCpuSeconds(redis.pid) : null;
    const pgCpu0 = pgPids.map((pid) => procCpuSeconds(pid));
    const gen0 = process.cpuUsage();
    const m0 = machineCpu();
    const w0 = wall();
    await sleep(tM1 - wall());
    const cpu1 = servers.map((sv) => procCpuSeconds(sv.pid));
    const gc1 = gc0 ? await Promise.all(servers.map((sv) => gcSeconds(sv.port))) : null;
    const redisCpu1 = redis ? procCpuSeconds(redis.pid) : null;
    const pgCpu1 = pgPids.map((pid) => procCpuSeconds(pid));
    const sched1 = servers.map((sv) => schedStat(`/proc/${sv.pid}/schedstat`));
    const genWait1 = selfThreadsWaitNs();
    const gen1 = process.cpuUsage(gen0);
    const m1 = machineCpu();
    const w1 = wall();
    mainLag.disable();
    const redisStats1 = redis ? await redis.stats() : null;
    const probeStuck = probes.some((p) => p.missed() === 1) ? 1 : 0;
    const probeHist = newHist();
    for (const probe of probes) {
      probe.stop();
      histMerge(probeHist, probe.hist);
    }
    const probeRtt = histSummary(probeHist);
    const redisRssMb = redis ? procRssMb(redis.pid) : null;
    const rssEnd = sumOrNull(servers.map((sv) => procRssMb(sv.pid)));
    const newSpaceEnd = system === 'inkboard' ? await Promise.all(servers.map((sv) => newSpaceMb(sv.port))) : null;
    await sleep(opts.drainS * 1000);
    clearInterval(rssTimer);
    if (process.env.INKBOARD_BENCH_METRICS && system === 'inkboard') {
      // Diagnostics: the servers' own histograms (whole run, setup included).
      for (const sv of servers) {
        const text = await fetch(`http://127.0.0.1:${sv.port}/metrics`).then((r) => r.text(), () => '');
        const pick = text.split('\n').filter((l) => /^inkboard_(gap_fills_total|fanout_delay_seconds_bucket|commit_seconds_bucket|commit_seconds_count|fanout_delay_seconds_count)/.test(l));
        log(`    metrics of :${sv.port}: ${pick.map((l) => l.replace(/^inkboard_/, '').replace(/_seconds/, '')).join(' | ')}`);
      }
    }

    const reports = (await Promise.all(workers.map((w) => {
      const p = waitFor<{ report: ShardReport }>(w, 'report', 60_000);
      w.postMessage({ type: 'report' });
      return p;
    }))).map((m) => m.report);

    // ---- aggregate
    const elapsedS = (w1 - w0) / 1000;
    const cursorHist = newHist();
    const opHist = newHist();
    const ackHist = newHist();
    for (const r of reports) {
      histMerge(cursorHist, r.cursorHist);
      histMerge(opHist, r.opHist);
      histMerge(ackHist, r.ackHist);
    }
    const clients = reports.flatMap((r) => r.clients);
    const lastSent = new Map(reports.flatMap((r) => r.lastSent));
    const opsSent = reports.flatMap((r) => r.opsSent);

    let opHits = 0;
    let opWant = 0;
    let clientsMissingOps = 0;
    // Updates that reached a client of another board (school): each is an error.
    let crossBoard = 0;
    for (const c of clients) {
      const seen = new Set(c.seenOps);
      let missing = 0;
      for (const op of opsSent) {
        if (op.author === c.idx) continue;
        if (boardOf(op.author) !== boardOf(c.idx)) {
          if (seen.has(op.opId)) crossBoard++;
          continue;
        }
        opWant++;
        if (seen.has(op.opId)) opHits++;
        else missing++;
      }
      if (missing) clientsMissingOps++;
    }
    let curHits = 0;
    let curWant = 0;
    for (const c of clients) {
      if (!c.lastSeen) continue;
      const seen = new Map(c.lastSeen);
      for (const idx of seen.keys()) if (boardOf(idx) !== boardOf(c.idx)) crossBoard++;
      for (const [idx, x] of lastSent) {
        if (idx === c.idx || Number.isNaN(x) || boardOf(idx) !== boardOf(c.idx)) continue;
        curWant++;
        if (seen.get(idx) === x) curHits++;
      }
    }
    const counted = clients.filter((c) => !c.sampled || system === 'inkboard');
    const windowS = opts.measureS;
    const sum = (f: (r: ShardReport) => number) => reports.reduce((a, r) => a + f(r), 0);
    const sendRate = sum((r) => r.sent.cursors) / Math.max(1, sum((r) => r.expectedSends.cursors));
    const previewSendRate = sum((r) => r.sent.previews) / Math.max(1, sum((r) => r.expectedSends.previews));
    const genLagP99 = Math.max(...reports.map((r) => r.lag.p99));
    // The sampler thread's report is the last one (shardClients).
    const samplerLagP99 = hasSampler ? reports.at(-1)!.lag.p99 : null;
    const cpuPer = servers.map((_, i) => (cpu0[i] != null && cpu1[i] != null ? ((cpu1[i]! - cpu0[i]!) / elapsedS) * 100 : null));
    const serverCpu = cpuPer.every((v) => v !== null) ? cpuPer.reduce((a, v) => a! + v!, 0)! : null;
    const waitPer = servers.map((_, i) => (sched0[i] && sched1[i] ? ((sched1[i]!.waitNs - sched0[i]!.waitNs) / 1e6 / (w1 - w0)) * 100 : null));
    const redisCpuS = redisCpu0 !== null && redisCpu1 !== null ? redisCpu1 - redisCpu0 : null;
    const pgCpuS = pgPids.length ? pgPids.reduce((a, _, i) => a + (pgCpu0[i] != null && pgCpu1[i] != null ? pgCpu1[i]! - pgCpu0[i]! : 0), 0) : null;
    const publishes = redisStats0 && redisStats1 ? redisStats1.publishCalls - redisStats0.publishCalls : null;
    const publishUsec = redisStats0 && redisStats1 ? redisStats1.publishUsec - redisStats0.publishUsec : null;
    const refused = sum((r) => r.mutationErrors) + sum((r) => r.pushErrors.length);
    // Every accepted cursor move and preview is one published event; a commit is a `done` preview and an op.
    const eventsPublished = Math.max(0, sum((r) => r.sent.cursors + r.sent.previews + 2 * r.sent.ops) - refused);
    const extraCpuPct = ((redisCpuS ?? 0) + (pgCpuS ?? 0)) / elapsedS * 100;
    const genCpu = ((gen1.user + gen1.system) / 1e6 / elapsedS) * 100;
    const machine = ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * os.cpus().length * 100;
    const bpp = reports.map((r) => r.bytesPerPointSample).find((v) => v !== null) ?? null;
    const opBytes = reports.map((r) => r.opEventBytesSample).find((v) => v !== null) ?? null;
    const errs = reports.flatMap((r) => [...r.pushErrors, ...(r.mutationErrorSample ? [r.mutationErrorSample] : [])]);
    const subErr = clients.find((c) => c.subscriptionError)?.subscriptionError ?? null;

    const result: RunResult = {
      system,
      processes: servers.length,
      backend: variant.deploy.backend,
      variant: variant.key,
      n,
      rep,
      cursor: histSummary(cursorHist),
      op: histSummary(opHist),
      ack: histSummary(ackHist),
      opsExpected: opsSent.length,
      opDelivery: opWant ? opHits / opWant : null,
      clientsMissingOps,
      cursorDelivery: curWant ? curHits / curWant : null,
      crossBoard,
      boards: boardCount,
      serverGcPct: gc0 && gc1 ? round1((gc1.reduce((a, v, i) => a + v - gc0[i]!, 0) / elapsedS) * 100) : null,
      serverGcSetupS: gc0Total && gc0 ? round2(gc0.reduce((a, v) => a + v, 0) - gc0Total.reduce((a, v) => a + v, 0)) : null,
      serverRssMbBase: rssBase === null ? null : round1(rssBase),
      baseGcMs,
      newSpaceMbBase: newSpaceBase ? round1(newSpaceBase.reduce((a, v) => a + v, 0)) : null,
      newSpaceMbEnd: newSpaceEnd ? round1(newSpaceEnd.reduce((a, v) => a + v, 0)) : null,
      rssKbPerConnection: rssBase === null ? null : Math.round(((Math.max(rssPeak, rssEnd ?? 0) - rssBase) * 1024) / n),
      serverCpuPct: serverCpu === null ? null : round1(serverCpu),
      serverRssMbPeak: round1(Math.max(rssPeak, rssEnd ?? 0)),
      serverRssMbEnd: rssEnd === null ? null : round1(rssEnd),
      serverRssMbIdle: rssIdle === null ? null : round1(rssIdle),
      serverWaitPct: waitPer.every((v) => v !== null) ? round1(waitPer.reduce((a, v) => a + v!, 0) / waitPer.length) : null,
      genWaitPct: round1(((genWait1 - genWait0) / 1e6 / (w1 - w0)) * 100),
      genCpuPct: round1(genCpu),
      machineCpuPct: round1(machine),
      // Other processes: the machine less the servers, the generator, and the run's Redis and PostgreSQL backends.
      otherCpuPct: serverCpu === null ? null : round1(Math.max(0, machine - serverCpu - genCpu - extraCpuPct)),
      framesPerClientPerS: system === 'inkboard' ? round1(median(clients.map((c) => c.frames))! / windowS) : null,
      probeRtt,
      probeStuck: probeStuck === 1,
      bytesPerClientPerS: Math.round(counted.reduce((a, c) => a + c.bytes, 0) / Math.max(1, counted.length) / windowS),
      msgsPerClientPerS: round1(counted.reduce((a, c) => a + c.msgs, 0) / Math.max(1, counted.length) / windowS),
      bytesPerPoint: bpp === null ? null : round2(bpp),
      opEventBytes: opBytes,
      sendRate: round2(sendRate * 100) / 100,
      previewSendRate: round2(previewSendRate * 100) / 100,
      genLagP99: round1(genLagP99),
      samplerLagP99: samplerLagP99 === null ? null : round1(samplerLagP99),
      genLagMean: round1(Math.max(...reports.map((r) => r.lag.mean))),
      genLagMax: round1(Math.max(...reports.map((r) => r.lag.max))),
      mainLagP99: round1(Math.max(0, mainLag.percentile(99) / 1e6 - 10)),
      genOverloaded: genLagP99 > GEN_LAG_LIMIT_MS || sendRate < GEN_SEND_MIN,
      maxClientSendBacklog: Math.max(...clients.map((c) => c.maxBuffered)),
      subscriptionErrors: clients.filter((c) => c.subscriptionError).length,
      closedClients: clients.filter((c) => c.closed).length,
      pushErrors: sum((r) => r.pushErrors.length),
      mutationErrors: sum((r) => r.mutationErrors),
      errorSample: subErr ?? errs[0] ?? null,
      connectMs: Math.round(Math.max(...readies.map((r) => r.connectMs))),
      setupMs,
      loadBefore,
      coreSpeed,
      serverCpuPctPerProcess: cpuPer.map((v) => (v === null ? null : round1(v))),
      serverRssMbPeakPerProcess: rssPeaks.map(round1),
      serverWaitPctPerProcess: waitPer.map((v) => (v === null ? null : round1(v))),
      redisCpuPct: redisCpuS === null ? null : round1((redisCpuS / elapsedS) * 100),
      redisCpuS: redisCpuS === null ? null : round2(redisCpuS),
      redisRssMb: redisRssMb === null ? null : round1(redisRssMb),
      pgCpuPct: pgCpuS === null ? null : round1((pgCpuS / elapsedS) * 100),
      publishes,
      publishesPerS: publishes === null ? null : Math.round(publishes / elapsedS),
      publishUsecPerCall: publishes && publishUsec !== null ? round2(publishUsec / publishes) : null,
      redisCommandsPerS: redisStats0 && redisStats1 ? Math.round((redisStats1.commands - redisStats0.commands) / elapsedS) : null,
      eventsPublished,
      eventsPerS: Math.round(eventsPublished / elapsedS),
      eventsPerPublish: publishes ? round2(eventsPublished / publishes) : null,
      redisUsPerEvent: redisCpuS !== null && eventsPublished ? round2((redisCpuS * 1e6) / eventsPublished) : null,
      serverUsPerEvent: serverCpu !== null && eventsPublished ? round2(((serverCpu / 100) * elapsedS * 1e6) / eventsPublished) : null,
      pass: false,
      failReasons: [],
    };
    result.failReasons = failReasons(result);
    result.pass = result.failReasons.length === 0;
    return result;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    await deployment.stop();
  }
}

/** A full garbage collection in a server (started with --inspect-port=0, test/helpers/process.ts); the time it took. */
async function collectGarbage(server: RunningServer): Promise<number> {
  const t0 = wall();
  await collectGarbageIn(server.pid, server.output);
  return Math.round(wall() - t0);
}

async function collectGarbageAll(servers: RunningServer[]): Promise<number> {
  const times = await Promise.all(servers.map(collectGarbage));
  return Math.max(...times);
}

/** The young generation's committed size (nodejs_heap_space_size_total_bytes of new space), MB. */
async function newSpaceMb(port: number): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text(), () => '');
  const line = text.split('\n').find((l) => l.startsWith('nodejs_heap_space_size_total_bytes{space="new"}'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) / 1048576 || 0 : 0;
}

/** Seconds the server spent in garbage collection so far (prom-client's nodejs_gc_duration_seconds, all kinds). */
async function gcSeconds(port: number): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text(), () => '');
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith('nodejs_gc_duration_seconds_sum')) total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  return total;
}

function sumOrNull(values: (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : values.reduce((a: number, v) => a + v!, 0);
}

type Metrics = Pick<RunResult, 'opDelivery' | 'cursorDelivery' | 'crossBoard' | 'subscriptionErrors' | 'pushErrors' | 'mutationErrors' | 'closedClients'> & {
  cursorP99: number | null;
  opP99: number | null;
};

function failReasons(r: RunResult | Metrics): string[] {
  const m: Metrics = 'cursor' in r ? { ...r, cursorP99: r.cursor.p99, opP99: r.op.p99 } : r;
  const out: string[] = [];
  if (m.cursorP99 === null || m.cursorP99 > LATENCY_LIMIT_MS) out.push(`cursor p99 ${fmtMs(m.cursorP99)} ms`);
  if (m.opP99 === null || m.opP99 > LATENCY_LIMIT_MS) out.push(`op p99 ${fmtMs(m.opP99)} ms`);
  if (m.opDelivery === null || m.opDelivery < DELIVERY_MIN) out.push(`ops delivered ${pct(m.opDelivery)}`);
  if (m.cursorDelivery === null || m.cursorDelivery < DELIVERY_MIN) out.push(`final cursors delivered ${pct(m.cursorDelivery)}`);
  if (m.crossBoard) out.push(`${m.crossBoard} updates reached another board`);
  if (m.subscriptionErrors) out.push(`${m.subscriptionErrors} subscriptions failed`);
  if (m.closedClients) out.push(`${m.closedClients} connections closed`);
  if (m.pushErrors) out.push(`${m.pushErrors} pushes failed`);
  if (m.mutationErrors) out.push(`${m.mutationErrors} mutations failed`);
  return out;
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${round2(v * 100)}%`);

// ---------------------------------------------------------------- medians over repetitions

interface Summary {
  system: System;
  processes: number;
  backend: Backend;
  variant: string;
  n: number;
  reps: number;
  cursorP50: number | null;
  cursorP99: number | null;
  opP50: number | null;
  opP99: number | null;
  ackP50: number | null;
  ackP99: number | null;
  opDelivery: number | null;
  cursorDelivery: number | null;
  crossBoard: number;
  serverGcPct: number | null;
  rssKbPerConnection: number | null;
  serverCpuPct: number | null;
  serverWaitPct: number | null;
  serverRssMbPeak: number | null;
  bytesPerClientPerS: number | null;
  msgsPerClientPerS: number | null;
  framesPerClientPerS: number | null;
  probeP50: number | null;
  probeP99: number | null;
  bytesPerPoint: number | null;
  genLagP99: number | null;
  genCpuPct: number | null;
  otherCpuPct: number | null;
  sendRate: number | null;
  genOverloadedRuns: number;
  subscriptionErrors: number;
  closedClients: number;
  pushErrors: number;
  mutationErrors: number;
  serverCpuPctPerProcess: (number | null)[];
  redisCpuPct: number | null;
  pgCpuPct: number | null;
  publishesPerS: number | null;
  eventsPerS: number | null;
  eventsPerPublish: number | null;
  redisUsPerEvent: number | null;
  serverUsPerEvent: number | null;
  /** serverUsPerEvent less that of K = 1 on SQLite at the same N (same invocation), when both ran. */
  serverUsPerEventExtra: number | null;
  passedRuns: number;
  pass: boolean;
  failReasons: string[];
}

function summarize(variant: Variant, n: number, runs: RunResult[]): Summary {
  const med = (f: (r: RunResult) => number | null) => median(runs.map(f));
  const s = {
    system: variant.system,
    processes: variant.deploy.processes,
    backend: variant.deploy.backend,
    variant: variant.key,
    n,
    reps: runs.length,
    cursorP50: med((r) => r.cursor.p50),
    cursorP99: med((r) => r.cursor.p99),
    opP50: med((r) => r.op.p50),
    opP99: med((r) => r.op.p99),
    ackP50: med((r) => r.ack.p50),
    ackP99: med((r) => r.ack.p99),
    opDelivery: med((r) => r.opDelivery),
    cursorDelivery: med((r) => r.cursorDelivery),
    crossBoard: Math.max(...runs.map((r) => r.crossBoard)),
    serverGcPct: med((r) => r.serverGcPct),
    rssKbPerConnection: med((r) => r.rssKbPerConnection),
    serverCpuPct: med((r) => r.serverCpuPct),
    serverWaitPct: med((r) => r.serverWaitPct),
    serverRssMbPeak: med((r) => r.serverRssMbPeak),
    bytesPerClientPerS: med((r) => r.bytesPerClientPerS),
    msgsPerClientPerS: med((r) => r.msgsPerClientPerS),
    framesPerClientPerS: med((r) => r.framesPerClientPerS),
    probeP50: med((r) => r.probeRtt.p50),
    probeP99: med((r) => r.probeRtt.p99),
    bytesPerPoint: med((r) => r.bytesPerPoint),
    genLagP99: med((r) => r.genLagP99),
    genCpuPct: med((r) => r.genCpuPct),
    otherCpuPct: med((r) => r.otherCpuPct),
    sendRate: med((r) => r.sendRate),
    genOverloadedRuns: runs.filter((r) => r.genOverloaded).length,
    subscriptionErrors: median(runs.map((r) => r.subscriptionErrors)) ?? 0,
    closedClients: median(runs.map((r) => r.closedClients)) ?? 0,
    pushErrors: median(runs.map((r) => r.pushErrors)) ?? 0,
    mutationErrors: median(runs.map((r) => r.mutationErrors)) ?? 0,
    serverCpuPctPerProcess: Array.from({ length: variant.deploy.processes }, (_, i) => med((r) => r.serverCpuPctPerProcess[i] ?? null)),
    redisCpuPct: med((r) => r.redisCpuPct),
    pgCpuPct: med((r) => r.pgCpuPct),
    publishesPerS: med((r) => r.publishesPerS),
    eventsPerS: med((r) => r.eventsPerS),
    eventsPerPublish: med((r) => r.eventsPerPublish),
    redisUsPerEvent: med((r) => r.redisUsPerEvent),
    serverUsPerEvent: med((r) => r.serverUsPerEvent),
    serverUsPerEventExtra: null as number | null,
    passedRuns: runs.filter((r) => r.pass).length,
    pass: false,
    failReasons: [] as string[],
  };
  s.failReasons = failReasons(s);
  s.pass = s.failReasons.length === 0;
  return s;
}

// ---------------------------------------------------------------- output

const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '-' : v.toFixed(digits));
/** Latencies at the top of the histogram (10 s) mean "10 s or more". */
const fmtMs = (v: number | null | undefined) => (v !== null && v !== undefined && v >= 10_000 ? '>=10s' : fmt(v));
const pad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

function table(rows: Summary[]): string {
  const head = ['N', 'cur p50', 'cur p99', 'op p50', 'op p99', 'ack p50', 'ops recv', 'cur recv', 'srv CPU%', 'srv wait%', 'GC%', 'RSS MB', 'KiB/conn', 'probe p99', 'KB/s/cl', 'msg/s/cl', 'frm/s', 'B/point', 'gen lag99', 'sends', 'others CPU%', 'result'];
  const lines = rows.map((s) => [
    String(s.n),
    fmtMs(s.cursorP50),
    fmtMs(s.cursorP99),
    fmtMs(s.opP50),
    fmtMs(s.opP99),
    fmtMs(s.ackP50),
    pct(s.opDelivery),
    pct(s.cursorDelivery),
    fmt(s.serverCpuPct, 0),
    fmt(s.serverWaitPct, 0),
    fmt(s.serverGcPct, 1),
    fmt(s.serverRssMbPeak, 0),
    fmt(s.rssKbPerConnection, 0),
    fmtMs(s.probeP99),
    fmt(s.bytesPerClientPerS === null ? null : s.bytesPerClientPerS / 1024, 1),
    fmt(s.msgsPerClientPerS, 0),
    fmt(s.framesPerClientPerS, 0),
    fmt(s.bytesPerPoint, 1),
    fmt(s.genLagP99) + (s.genOverloadedRuns ? '!' : ''),
    s.sendRate === null ? '-' : `${Math.round(s.sendRate * 100)}%`,
    fmt(s.otherCpuPct, 0),
    s.pass ? `ok (${s.passedRuns}/${s.reps})` : `FAIL (${s.passedRuns}/${s.reps}): ${s.failReasons.join('; ')}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (i === head.length - 1 ? 0 : l[i]!.length))));
  const row = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? '  ' + c : pad(c, widths[i]!))).join(' ');
  return [row(head), ...lines.map(row)].join('\n');
}

/** --processes: every Inkboard deployment side by side, per N (medians over the runs). */
function processesTable(rows: Summary[]): string {
  const head = ['N', 'K', 'cur p50', 'cur p99', 'op p50', 'op p99', 'ops recv', 'cur recv', 'srv CPU% (per process)', 'srv wait%', 'RSS MB', 'Redis CPU%', 'PG CPU%', 'PUB/s', 'ev/s', 'ev/PUB', 'Redis us/ev', 'srv us/ev', 'extra us/ev', 'others CPU%', 'result'];
  const sorted = [...rows].sort((a, b) => a.n - b.n || (a.backend === 'sqlite' ? 0 : a.processes) - (b.backend === 'sqlite' ? 0 : b.processes));
  const lines = sorted.map((s) => [
    String(s.n),
    kLabel(s),
    fmtMs(s.cursorP50),
    fmtMs(s.cursorP99),
    fmtMs(s.opP50),
    fmtMs(s.opP99),
    pct(s.opDelivery),
    pct(s.cursorDelivery),
    fmt(s.serverCpuPct, 0) + (s.processes > 1 ? ` (${s.serverCpuPctPerProcess.map((v) => fmt(v, 0)).join('+')})` : ''),
    fmt(s.serverWaitPct, 0),
    fmt(s.serverRssMbPeak, 0),
    fmt(s.redisCpuPct, 1),
    fmt(s.pgCpuPct, 1),
    fmt(s.publishesPerS, 0),
    fmt(s.eventsPerS, 0),
    fmt(s.eventsPerPublish, 2),
    fmt(s.redisUsPerEvent, 2),
    fmt(s.serverUsPerEvent, 1),
    s.serverUsPerEventExtra === null ? '-' : (s.serverUsPerEventExtra >= 0 ? '+' : '') + s.serverUsPerEventExtra.toFixed(1),
    fmt(s.otherCpuPct, 0),
    s.pass ? `ok (${s.passedRuns}/${s.reps})` : `FAIL (${s.passedRuns}/${s.reps}): ${s.failReasons.join('; ')}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (i === head.length - 1 ? 0 : l[i]!.length))));
  const row = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? '  ' + c : pad(c, widths[i]!))).join(' ');
  return [row(head), ...lines.map(row)].join('\n');
}

/** Largest N passing, with every smaller N tried also passing. */
/**
 * Memory per added connection under load: the least-squares slope of the median peak RSS over the
 * passing N of a system, KiB (null with fewer than two). What one more connection costs, without the
 * process's fixed part (code, caches, a young generation that grows to its full size under any load),
 * which (peak - base) / N spreads over the connections.
 */
function marginalKib(rows: Summary[]): { kib: number; ns: number[] } | null {
  const pts = rows.filter((r) => r.pass && r.serverRssMbPeak !== null).map((r) => [r.n, r.serverRssMbPeak!] as const);
  if (new Set(pts.map(([n]) => n)).size < 2) return null;
  const mx = pts.reduce((a, [n]) => a + n, 0) / pts.length;
  const my = pts.reduce((a, [, m]) => a + m, 0) / pts.length;
  const slope = pts.reduce((a, [n, m]) => a + (n - mx) * (m - my), 0) / pts.reduce((a, [n]) => a + (n - mx) ** 2, 0);
  return { kib: Math.round(slope * 1024), ns: pts.map(([n]) => n) };
}

function nMax(rows: Summary[]): number {
  let best = 0;
  for (const s of [...rows].sort((a, b) => a.n - b.n)) {
    if (!s.pass) break;
    best = s.n;
  }
  return best;
}

// ---------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  const machine = {
    nproc: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGb: round1(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAvgAtStart: os.loadavg().map(round2),
  };
  log(`classroom benchmark: N = ${opts.nList.join(', ')}; ${opts.reps} repetition(s)${opts.interleave ? ' (interleaved: each repetition runs every N)' : ' (back to back)'}; ${opts.warmupS} s warm-up + ${opts.measureS} s measured + ${opts.drainS} s drain per run`);
  log(`machine: ${machine.nproc} CPUs (${machine.cpuModel}), node ${machine.node}, load average ${machine.loadAvgAtStart.join(' ')}`);
  log(`server: ${opts.server}; protocol: ${protocolDir}; load generator: ${opts.workers} worker thread(s)${opts.samplerThread ? ' + 1 for the sampled clients' : ''}; servers at nice ${opts.serverNice}; cursors and previews ${serverHasLane ? 'over the lane' : 'as tRPC mutations'}`);
  if (opts.pin) {
    // This process and the worker threads it starts later run on every CPU but 0 (the servers').
    const others = os.cpus().length > 1 ? `1-${os.cpus().length - 1}` : '0';
    const r = spawnSync('taskset', ['-a', '-pc', others, String(process.pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`--pin: taskset failed: ${r.stderr || r.error?.message}`);
    log(`pinned: servers on CPU 0${opts.singleThreadedGc ? ' (Inkboard with --single-threaded-gc: one CPU, docs/deploy.md)' : ' with V8\'s GC threads (--gc-threads)'}, load generator on CPU ${others}`);
  }
  if (opts.boardSize) log(`school: boards of ${opts.boardSize} clients (one drawer each); a run passes with p99 <= ${LATENCY_LIMIT_MS} ms, delivery >= ${DELIVERY_MIN * 100}% and no update reaching another board`);
  log(
    `workload: every client moves its cursor at ${WORKLOAD.cursorHz} Hz; ${WORKLOAD.drawers}${opts.boardSize ? ' per board' : ''} draw (previews at ${WORKLOAD.previewHz} Hz with ${WORKLOAD.pointsPerPreview} points, a ${WORKLOAD.strokePoints}-point stroke committed every ${WORKLOAD.strokeMs / 1000} s); ${opts.samplerThread ? `the sampled clients (${opts.boardSize ? 'one per board' : WORKLOAD.sampled}), in a thread of their own, parse everything and time cursors and ops` : `${WORKLOAD.sampled} sampled clients parse everything (spread over the load threads; ops timed at every member)`}`,
  );

  const strokeJson = JSON.stringify(strokePoints(WORKLOAD.strokePoints, 1));
  const intPoints = JSON.stringify(strokePoints(WORKLOAD.strokePoints, 1).map(([x, y]) => [Math.round(x), Math.round(y)]));
  const wire = (await import(pathToFileURL(join(protocolDir, 'wire.ts')).href).catch(() => null)) as { packPoints?: (p: unknown) => string | null } | null;
  const packed = wire?.packPoints ? wire.packPoints(strokePoints(WORKLOAD.strokePoints, 1)) : null;
  const pointEncodings = {
    generated: round2(strokeJson.length / WORKLOAD.strokePoints),
    /** The protocol's packed form (packages/protocol/src/wire.ts), points only. */
    packed: packed === null ? null : round2(packed.length / WORKLOAD.strokePoints),
    integerXYNoPressure: round2(intPoints.length / WORKLOAD.strokePoints),
    samplePoint: JSON.stringify(strokePoints(3, 1)[2]),
  };

  let joinRes: JoinResult | null = null;
  let joinError: string | null = null;
  if (opts.join && opts.systems.includes('inkboard')) {
    log(`\njoin benchmark: 10,000 elements, ${opts.joinTrials} trials after a warm-up (parse = JSON.parse + fromWireFrame, apply = receiveFrame)`);
    const server = await startServer('inkboard', 'join');
    try {
      joinRes = await runJoin(server.port, { elements: 10_000, trials: opts.joinTrials, protocolDir, log });
      log(`  median ${joinRes.medianMs} ms (receive ${joinRes.medianReceiveMs}, parse ${joinRes.medianParseMs}, apply ${joinRes.medianApplyMs}); snapshot ${(joinRes.snapshotBytes / 1e6).toFixed(2)} MB; populating took ${Math.round(joinRes.populateMs)} ms`);
    } catch (err) {
      joinError = (err as Error).message;
      log(`  join benchmark failed: ${joinError}\n${server.output().slice(-2000)}`);
    } finally {
      await server.stop();
    }
  }

  const runs: RunResult[] = [];
  const summaries: Summary[] = [];
  const reduced: { system: System; variant: string; n: number; reason: string }[] = [];
  const failuresSeen = new Map<string, number>();
  const runErrors: { system: System; variant: string; n: number; rep: number; error: string }[] = [];
  // Each Inkboard deployment of --processes (default: SQLite only); the relay once (one process).
  const deploys = (opts.processes ?? [0]).map(deployOf);
  const variants: Variant[] = opts.systems.flatMap((system) => (system === 'socketio' ? [variantOf(system, SQLITE)] : deploys.map((d) => variantOf(system, d))));
  if (opts.processes) log(`deployments: ${variants.map(variantTitle).join('; ')}`);
  const byRun = new Map<string, RunResult[]>();
  const runsOf = (variant: Variant, n: number): RunResult[] => {
    const key = `${variant.key}@${n}`;
    if (!byRun.has(key)) byRun.set(key, []);
    return byRun.get(key)!;
  };
  const runAndLog = async (variant: Variant, n: number, rep: number): Promise<void> => {
    try {
      const r = await runOnce(variant, n, rep);
      runs.push(r);
      runsOf(variant, n).push(r);
      const several =
        r.backend === 'postgres+redis'
          ? `\n      K = ${r.processes}: server CPU per process ${r.serverCpuPctPerProcess.map((v) => fmt(v, 0)).join(' + ')}%, Redis ${fmt(r.redisCpuPct)}% CPU ${fmt(r.publishesPerS, 0)} PUBLISH/s (${fmt(r.eventsPerPublish, 2)} events each, ${fmt(r.publishUsecPerCall, 2)} us in Redis per call), PostgreSQL ${fmt(r.pgCpuPct)}% CPU; ${r.eventsPerS} events/s; per event: Redis ${fmt(r.redisUsPerEvent, 2)} us, servers ${fmt(r.serverUsPerEvent, 1)} us`
          : opts.processes && r.system === 'inkboard'
            ? `\n      K = 1 on SQLite: ${r.eventsPerS} events/s; servers ${fmt(r.serverUsPerEvent, 1)} us per event`
            : '';
      log(
        `  ${variant.key.padEnd(8)} #${rep}: cursor p50/p99 ${fmtMs(r.cursor.p50)}/${fmtMs(r.cursor.p99)} ms, op p50/p99 ${fmtMs(r.op.p50)}/${fmtMs(r.op.p99)} ms, ops ${pct(r.opDelivery)} of ${r.opsExpected}, cursors ${pct(r.cursorDelivery)}, server ${fmt(r.serverCpuPct, 0)}% CPU (waited for a CPU ${fmt(r.serverWaitPct, 0)}%) ${fmt(r.serverRssMbPeak, 0)} MB probe p99 ${fmtMs(r.probeRtt.p99)} ms${r.probeStuck ? ' (stuck)' : ''}, ${fmt(r.bytesPerClientPerS / 1024)} KB/s/client${r.framesPerClientPerS !== null ? ` ${r.framesPerClientPerS} frames/s` : ''}, gen lag p99 ${fmt(r.genLagP99)} ms${r.samplerLagP99 !== null ? ` (sampler ${fmt(r.samplerLagP99)})` : ''} sends ${Math.round(r.sendRate * 100)}% gen CPU ${fmt(r.genCpuPct, 0)}% (waited ${fmt(r.genWaitPct, 0)}%) other ${fmt(r.otherCpuPct, 0)}%` +
          ` (machine load before ${fmt(r.loadBefore, 0)}%)` +
          (r.coreSpeed ? ` core: js ${r.coreSpeed.jsMs} ms, write ${r.coreSpeed.writeUs} us, loopback rt ${r.coreSpeed.loopbackUs} us` : '') + (r.genOverloaded ? '  [GENERATOR LAGGING]' : '') +
          (r.pass ? '' : `  -> ${r.failReasons.join('; ')}`) +
          several +
          (r.errorSample ? `\n      error: ${r.errorSample}` : ''),
      );
    } catch (err) {
      runErrors.push({ system: variant.system, variant: variant.key, n, rep, error: (err as Error).message });
      log(`  ${variant.key} #${rep}: run failed: ${(err as Error).message}`);
    }
  };
  const summarizeN = (n: number): void => {
    for (const variant of variants) {
      const rs = runsOf(variant, n);
      if (!rs.length) {
        failuresSeen.set(variant.key, (failuresSeen.get(variant.key) ?? 0) + 1);
        continue;
      }
      const sum = summarize(variant, n, rs);
      summaries.push(sum);
      if (!sum.pass) failuresSeen.set(variant.key, (failuresSeen.get(variant.key) ?? 0) + 1);
    }
  };
  const nToRun = opts.joinOnly ? [] : opts.nList;
  if (opts.interleave) {
    for (let rep = 1; rep <= opts.reps; rep++) {
      for (const n of nToRun) {
        log(`\nN = ${n} (repetition ${rep} of ${opts.reps})`);
        for (const variant of variants) await runAndLog(variant, n, rep);
      }
    }
    for (const n of nToRun) summarizeN(n);
  }
  for (const n of opts.interleave ? [] : nToRun) {
    // A variant that failed at two smaller N gets two runs per larger N (not --reps).
    const repsOf = (v: Variant) => (opts.skip && (failuresSeen.get(v.key) ?? 0) >= 2 ? Math.min(2, opts.reps) : opts.reps);
    for (const v of variants) if (repsOf(v) < opts.reps) reduced.push({ system: v.system, variant: v.key, n, reason: `failed at two smaller N: ${repsOf(v)} runs instead of ${opts.reps}` });
    log(`\nN = ${n}`);
    for (let rep = 1; rep <= opts.reps; rep++) {
      for (const variant of variants) {
        if (rep <= repsOf(variant)) await runAndLog(variant, n, rep);
      }
    }
    summarizeN(n);
  }
  // Extra server CPU per event against the single SQLite process at the same N.
  for (const s of summaries) {
    if (s.backend !== 'postgres+redis') continue;
    const base = summaries.find((b) => b.variant === 'inkboard' && b.n === s.n);
    if (base?.serverUsPerEvent != null && s.serverUsPerEvent !== null) s.serverUsPerEventExtra = round2(s.serverUsPerEvent - base.serverUsPerEvent);
  }

  // ---- report
  const byVariant = (key: string) => summaries.filter((x) => x.variant === key);
  const nmax: Record<string, number> = Object.fromEntries(variants.map((v) => [v.key, nMax(byVariant(v.key))]));
  log('\n' + '='.repeat(100));
  log(`Medians over ${opts.reps} repetition(s); latencies in ms (send -> receipt at another client); "!" = load generator lagging in some run; "others CPU%" = CPU used by other processes of the machine (% of one core, of ${os.cpus().length * 100}%)`);
  for (const v of variants) {
    const marginal = marginalKib(byVariant(v.key));
    log(`\n${opts.processes ? variantTitle(v) : v.system === 'inkboard' ? 'Inkboard' : 'socket.io relay'}   (N_max = ${nmax[v.key]}${marginal ? `; memory per added connection ${marginal.kib} KiB, the slope of peak RSS over N = ${marginal.ns.join(', ')}` : ''})`);
    log(table(byVariant(v.key)));
    for (const k of reduced.filter((x) => x.variant === v.key)) log(`  N=${k.n}: ${k.reason}`);
  }
  if (opts.processes && opts.systems.includes('inkboard')) {
    log(
      `\nSeveral processes (K server processes; "1 SQLite" = one process on SQLite without Redis, "K PG+R" = K processes on PostgreSQL + a private Redis); srv CPU% = sum over the processes (% of one core); ` +
        `PUB/s = Redis PUBLISH calls per second; ev/s = events the clients sent that the server publishes (cursor moves, previews, done + op per stroke); us/ev = CPU microseconds per such event (Redis: the redis-server process; srv: the sum of the K servers); extra = srv us/ev less that of 1 SQLite at the same N`,
    );
    log(processesTable(summaries.filter((s) => s.system === 'inkboard')));
    log(`N_max per K: ${variants.filter((v) => v.system === 'inkboard').map((v) => `${kLabel(v.deploy)} ${nmax[v.key]}`).join(', ')}`);
  }
  const overloaded = runs.filter((r) => r.genOverloaded);
  if (overloaded.length) {
    log(`\nWARNING: the load generator lagged (event-loop lag p99 > ${GEN_LAG_LIMIT_MS} ms or < ${GEN_SEND_MIN * 100}% of sends made) in ${overloaded.length} run(s):`);
    for (const r of overloaded) log(`  ${r.variant} N=${r.n} #${r.rep}: lag p99 ${r.genLagP99} ms (max ${r.genLagMax}), sends ${Math.round(r.sendRate * 100)}%, generator CPU ${r.genCpuPct}%, server CPU ${r.serverCpuPct}%`);
    log('  Latencies of those runs include delay in the generator (its own load or CPU taken by other processes; see "others CPU%"), not only in the server.');
  }

  // The targets are those of the single SQLite process when it ran, else of the first deployment.
  const primary = variants.find((v) => v.key === 'inkboard') ?? variants.find((v) => v.system === 'inkboard');
  const inkMax = primary ? nmax[primary.key]! : 0;
  const ink = primary ? byVariant(primary.key) : [];
  const at200 = ink.find((s) => s.n === 200);
  const ratio = nmax.socketio ? inkMax / nmax.socketio : null;
  const bpp = median(runs.filter((r) => r.variant === primary?.key).map((r) => r.bytesPerPoint));
  const of = opts.processes && primary ? ` (${variantTitle(primary)})` : '';
  const classroomTargets = [
    {
      target: `N_max >= 5x the socket.io relay${of}`,
      met: ratio !== null ? ratio >= 5 : inkMax > 0 ? null : false,
      measured: ratio !== null ? `${inkMax} / ${nmax.socketio} = ${round2(ratio)}x` : `socket.io N_max = 0 (below the smallest N tried); Inkboard ${inkMax}`,
    },
    { target: `N_max >= 300${of}`, met: inkMax >= 300, measured: `N_max = ${inkMax}` },
    ...variants
      .filter((v) => v.system === 'inkboard' && v !== primary)
      .map((v) => ({ target: `N_max >= 300 (${variantTitle(v)})`, met: nmax[v.key]! >= 300, measured: `N_max = ${nmax[v.key]}` })),
    {
      target: `at N = 200, p99 <= 50 ms${of}`,
      met: at200 ? (at200.cursorP99 ?? Infinity) <= 50 && (at200.opP99 ?? Infinity) <= 50 : null,
      measured: at200 ? `cursor p99 ${fmtMs(at200.cursorP99)} ms, op p99 ${fmtMs(at200.opP99)} ms` : 'N = 200 not run',
    },
  ];
  const targets = [
    ...(opts.boardSize ? [] : classroomTargets),
    ...(opts.boardSize
      ? [
          { target: `school: N_max >= 600${of}`, met: inkMax >= 600, measured: `N_max = ${inkMax}` },
          (() => {
            const target = `school: N_max >= 2.4x the socket.io relay${of}`;
            if (ratio !== null) return { target, met: ratio >= 2.4, measured: `${round2(ratio)}x` };
            if (!opts.systems.includes('socketio')) return { target, met: null, measured: 'relay not run' };
            // The relay failed the smallest N tried: its N_max is below it, so the ratio is above this bound.
            const bound = inkMax / opts.nList[0]!;
            return { target, met: bound >= 2.4 ? true : null, measured: `relay N_max below the smallest N tried (${opts.nList[0]}): more than ${round2(bound)}x` };
          })(),
          (() => {
            // Per added connection (the slope); (peak - base) / N beside it, which also spreads the
            // process's fixed growth (its young generation, 32 MB at full size) over the connections.
            const at = ink.filter((s) => s.pass).at(-1);
            const marginal = marginalKib(ink);
            const perRun = at ? `; (peak - base) / N ${fmt(at.rssKbPerConnection, 0)} KiB at N = ${at.n}` : '';
            return {
              target: 'school: RSS per connection under load <= 64 KiB (per added connection)',
              met: marginal ? marginal.kib <= 64 : null,
              measured: marginal ? `${marginal.kib} KiB (slope of peak RSS over N = ${marginal.ns.join(', ')})${perRun}` : `fewer than two passing N${perRun}`,
            };
          })(),
        ]
      : []),
    { target: 'join of a 10,000-element board <= 150 ms', met: joinRes ? joinRes.medianMs <= 150 : null, measured: joinRes ? `median ${joinRes.medianMs} ms` : (joinError ?? 'not run') },
    { target: 'committed stroke points <= 8 bytes each on the wire', met: bpp !== null ? bpp <= 8 : null, measured: bpp !== null ? `${bpp} bytes/point` : 'not measured' },
  ];
  log('\nTargets');
  for (const t of targets) log(`  ${t.met === true ? 'met    ' : t.met === false ? 'NOT met' : 'n/a    '}  ${t.target}: ${t.measured}`);
  if (joinRes) log(`\nJoin: ${joinRes.elements} elements (${joinRes.strokes} strokes of 50 points, ${joinRes.rectangles} rectangles), snapshot ${(joinRes.snapshotBytes / 1e6).toFixed(2)} MB, median of ${joinRes.trials.length}: ${joinRes.medianMs} ms`);
  log(
    `Bytes per point of the points alone: JSON ${pointEncodings.generated} (points like ${pointEncodings.samplePoint}), packed (protocol wire.ts) ${pointEncodings.packed ?? 'n/a'}; JSON with integer x,y and no pressure would be ${pointEncodings.integerXYNoPressure}`,
  );

  const file = join(resultsDir, `classroom-${stamp}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        startedAt: new Date(started).toISOString(),
        durationS: Math.round((Date.now() - started) / 1000),
        machine,
        options: opts,
        workload: WORKLOAD,
        limits: { latencyMs: LATENCY_LIMIT_MS, genLagMs: GEN_LAG_LIMIT_MS, genSendMin: GEN_SEND_MIN },
        /** K = processes; backend 'sqlite' (one process) or 'postgres+redis'. */
        variants,
        nMax: nmax,
        marginalKib: Object.fromEntries(variants.map((v) => [v.key, marginalKib(byVariant(v.key))])),
        ratio,
        targets,
        join: joinRes,
        joinError,
        pointEncodings,
        summaries,
        reduced,
        runErrors,
        runs,
      },
      null,
      1,
    ),
  );
  log(`\nResults: ${file} (${Math.round((Date.now() - started) / 1000)} s)`);
}

const hardLimit = setTimeout(() => {
  console.error('classroom benchmark: exceeded its 60-minute limit, stopping');
  // Throwaway PostgreSQL databases and private Redis servers are removed even then.
  void runCleanups().finally(() => process.exit(2));
}, 60 * 60_000);
hardLimit.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`classroom benchmark: ${signal}, cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
