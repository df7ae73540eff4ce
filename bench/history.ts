/**
 * Version history (issue 16): with N ops of history (default 100,000; 3 people taking turns, runs of
 * 10-60 ops, a board of about 2,000 elements), the time of `history.list` (the latest 30 versions,
 * and a page deep in the past) and of `history.stateAt` at arbitrary seqs (never asked before, so
 * rebuilt from the nearest checkpoint by the worker), measured end to end through the typed client
 * over HTTP; and the bytes per history op and per checkpoint in the database.
 *   node --import tsx bench/history.ts [--ops 100000] [--db sqlite|postgres] [--runs 21] [--nice 0]
 * PostgreSQL: a fresh database on INKBOARD_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import WebSocket from 'ws';
import { newId, zAbove, type Element, type Op } from '@inkboard/protocol';
import { buildApp } from '../apps/server/src/app.js';
import type { Config } from '../apps/server/src/config.js';
import type { SqliteStorage } from '../apps/server/src/storage/SqliteStorage.js';
import { createInkboardClient } from '../packages/client/src/index.js';
import { signInForToken } from '../packages/client/src/cli/login.js';

const arg = (k: string, d: string) => (process.argv.includes(`--${k}`) ? process.argv[process.argv.indexOf(`--${k}`) + 1]! : d);
const TOTAL = Number(arg('ops', '100000'));
const DB = arg('db', 'sqlite') as 'sqlite' | 'postgres';
const RUNS = Number(arg('runs', '21'));
const PG_ADMIN = process.env.INKBOARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** A deterministic pseudo-random sequence (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'inkboard-history-bench-'));
  let pgName: string | null = null;
  let databaseUrl: string | null = null;
  if (DB === 'postgres') {
    pgName = `inkboard_bench_${newId(8).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    await admin.query(`create database ${pgName}`);
    await admin.end();
    const url = new URL(PG_ADMIN);
    url.pathname = `/${pgName}`;
    databaseUrl = url.toString();
  }
  const config: Config = {
    port: 0,
    host: '127.0.0.1',
    dbPath: join(dir, 'inkboard.db'),
    databaseUrl,
    redisUrl: null,
    redisPrefix: 'inkboard:',
    tickMs: 25,
    opLogRetention: 10_000,
    webDist: join(dir, 'no-web'),
    logLevel: 'warn',
    publicUrl: null,
    allowedOrigins: [],
    scryptLogN: 10,
    upgradesPerMinute: 100_000,
    httpRequestTimeoutMs: 60_000,
    httpHeadersTimeoutMs: 10_000,
    connectionsPerAddress: 0,
    maxConnections: 10_000,
    signUpsPerAddressPerMinute: 1_000,
    signUpsPerMinute: 1_000,
    hashConcurrency: 2,
    hashQueue: 100,
    wsHandshakeMs: 5_000,
    wsHandshakeBytes: 8_192,
    wsSubscriptionsPerSocket: 4,
    wsMaxSocketUnsentBytes: 64 * 1024 * 1024,
    wsMaxTotalUnsentBytes: 256 * 1024 * 1024,
    sessionIdleMs: 7 * 24 * 3_600_000,
    sessionMaxMs: 30 * 24 * 3_600_000,
    history: { retentionIntervalMs: 0, workerNice: Number(arg('nice', '0')) },
  };
  const app = await buildApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  try {
    const people = await Promise.all(['ada', 'bob', 'cy'].map((n) => signInForToken(url, `${n}${newId(4).toLowerCase()}`, 'password-bench', true, 'bench')));
    const client = createInkboardClient({ url, token: people[0]!.token, WebSocket: WebSocket as never });
    const { id: boardId } = await client.trpc.board.create.mutate({ title: 'history bench' });
    const { code } = await client.trpc.share.createLink.mutate({ boardId, role: 'editor' });
    for (const p of people.slice(1)) {
      const c = createInkboardClient({ url, token: p.token, WebSocket: WebSocket as never });
      await c.trpc.share.accept.mutate({ code });
      await c.close();
    }
    const authors = await Promise.all(people.map(async (p) => ({ id: (await app.storage.userByUsername(p.username))!.id, name: p.username })));

    // Fill: the real commit path (BoardService.push: log trims, history_ops, checkpoints), without the per-person rate limits.
    const random = rng(16);
    const live: string[] = [];
    let z = zAbove(null);
    const nextOp = (): Op => {
      const r = random();
      if (live.length < 50 || r < 0.35) {
        z = zAbove(z);
        const id = newId();
        live.push(id);
        const x = Math.round(random() * 4000);
        const y = Math.round(random() * 3000);
        const el: Element =
          random() < 0.6
            ? { type: 'stroke', id, x, y, z, strokeColor: '#1971c2', strokeWidth: 3, opacity: 1, points: Array.from({ length: 12 }, (_, i) => [i * 3, Math.round(Math.sin(i) * 10), 0.5] as [number, number, number]) }
            : { type: 'rectangle', id, x, y, z, width: 80, height: 50, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, fillColor: 'transparent' };
        return { type: 'add', opId: newId(), elements: [el] };
      }
      const id = live[Math.floor(random() * live.length)]!;
      if (live.length > 2_000 || r < 0.45) {
        live.splice(live.indexOf(id), 1);
        return { type: 'delete', opId: newId(), ids: [id] };
      }
      if (r < 0.85) return { type: 'update', opId: newId(), updates: [{ id, patch: { x: Math.round(random() * 4000), y: Math.round(random() * 3000) } }] };
      return { type: 'update', opId: newId(), updates: [{ id, patch: { strokeColor: random() < 0.5 ? '#e03131' : '#2f9e44' } }] };
    };
    const fillStart = performance.now();
    let done = 0;
    let who = 0;
    while (done < TOTAL) {
      const run = Math.min(TOTAL - done, 10 + Math.floor(random() * 50));
      const ops = Array.from({ length: run }, nextOp);
      await app.boards.service.push(boardId, authors[who % 3]!, ops);
      done += run;
      who++;
      if (who % 200 === 0) process.stderr.write(`\r${done} ops`);
    }
    await app.versions.idle();
    const elementsNow = (await client.trpc.board.snapshot.query({ boardId })).elements.length;
    process.stderr.write(`\rfilled ${TOTAL} ops in ${((performance.now() - fillStart) / 1000).toFixed(1)} s\n`);

    const timed = async <T>(f: () => Promise<T>): Promise<number> => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    // Warm up the connection and the worker.
    await client.trpc.history.list.query({ boardId });
    await client.trpc.history.stateAt.query({ boardId, seq: 1 });
    const list: number[] = [];
    const deep: number[] = [];
    const state: number[] = [];
    // The same calls on the service itself, without HTTP and tRPC's serialization.
    const listDirect: number[] = [];
    const stateDirect: number[] = [];
    let stateElements = 0;
    for (let i = 0; i < RUNS; i++) {
      list.push(await timed(() => client.trpc.history.list.query({ boardId, limit: 30 })));
      const before = 1 + Math.floor(random() * (TOTAL - 1));
      deep.push(await timed(() => client.trpc.history.list.query({ boardId, limit: 30, before })));
      const seq = 1 + Math.floor(random() * TOTAL);
      state.push(
        await timed(async () => {
          stateElements = (await client.trpc.history.stateAt.query({ boardId, seq })).elements.length;
        }),
      );
      listDirect.push(await timed(() => app.versions.list(boardId, undefined, 30)));
      const other = 1 + Math.floor(random() * TOTAL);
      stateDirect.push(await timed(() => app.versions.stateAt(boardId, other)));
      // Stay within the per-person history rate (20 a second).
      await new Promise((r) => setTimeout(r, 120));
    }
    // Who did this: an element still on the board (found near the newest ops) and an unknown id (both
    // scans run over the whole window of 50,000 ops: the worst case; on SQLite on the event loop).
    const infoFound: number[] = [];
    const infoMissing: number[] = [];
    for (let i = 0; i < 7; i++) {
      infoFound.push(await timed(() => app.versions.elementInfo(boardId, live[Math.floor(random() * live.length)]!)));
      infoMissing.push(await timed(() => app.versions.elementInfo(boardId, `missing${i}`)));
    }
    const store = (app.versions as unknown as { store: { sizes(b: string): Promise<{ historyOps: number; historyOpBytes: number; checkpoints: number; checkpointBytes: number }> } }).store;
    const sizes = await store.sizes(boardId);
    let disk = '';
    if (DB === 'sqlite') {
      const sqlite = (app.storage as SqliteStorage).sqlite;
      try {
        const pages = sqlite.prepare("select name, sum(pgsize) as bytes from dbstat where name in ('history_ops', 'checkpoints') group by name").all() as { name: string; bytes: number }[];
        disk = pages.map((p) => `${p.name} ${(p.bytes / 1024 / 1024).toFixed(1)} MiB on disk`).join(', ');
      } catch {
        disk = '(dbstat not compiled in)';
      }
    } else {
      const admin = new pg.Client({ connectionString: databaseUrl! });
      await admin.connect();
      const r = await admin.query<{ h: string; c: string }>("select pg_total_relation_size('history_ops') as h, pg_total_relation_size('checkpoints') as c");
      await admin.end();
      disk = `history_ops ${(Number(r.rows[0]!.h) / 1024 / 1024).toFixed(1)} MiB, checkpoints ${(Number(r.rows[0]!.c) / 1024 / 1024).toFixed(1)} MiB (pg_total_relation_size, with indexes and TOAST)`;
    }
    console.log(`\nVersion history, ${DB}, ${TOTAL} ops of history, board of ${elementsNow} elements now (the last state read had ${stateElements}), ${RUNS} runs`);
    console.log(`history.list latest 30:       median ${ms(median(list))}, p95 ${ms(p95(list))}`);
    console.log(`history.list 30 before a seq: median ${ms(median(deep))}, p95 ${ms(p95(deep))}`);
    console.log(`history.stateAt (uncached):   median ${ms(median(state))}, p95 ${ms(p95(state))}`);
    console.log(`  in the service (no HTTP/tRPC): list median ${ms(median(listDirect))}, stateAt median ${ms(median(stateDirect))}`);
    console.log(`history.elementInfo in the service: an element on the board median ${ms(median(infoFound))}, an unknown id median ${ms(median(infoMissing))}`);
    console.log(
      `history ops: ${sizes.historyOps} (${(sizes.historyOpBytes / Math.max(1, sizes.historyOps)).toFixed(0)} bytes each as stored); checkpoints: ${sizes.checkpoints} (${(sizes.checkpointBytes / Math.max(1, sizes.checkpoints) / 1024).toFixed(1)} KiB each); ${disk}`,
    );
    await client.close();
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
    if (pgName) {
      const admin = new pg.Client({ connectionString: PG_ADMIN });
      await admin.connect();
      await admin.query(`drop database if exists ${pgName} with (force)`);
      await admin.end();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
