/**
 * Version history's byte budget (INKBOARD_HISTORY_MAX_MB): the time a board over its budget takes to
 * be measured and thinned, and the longest the event loop waits meanwhile (SQLite: its queries run on
 * the event loop, in windows). A board's history is written straight into history_ops (N add/delete
 * pairs of small rectangles, no checkpoint: the thinning's checkpoint replays from seq 1 in the worker).
 *   node --import tsx bench/history-budget.ts [--ops 200000] [--budget-mb 16]
 */
import { gzipSync } from 'node:zlib';
import { newId, zAbove, type Op } from '@inkboard/protocol';
import { connect, sqliteOf, startServer } from '../test/helpers/server.js';

const arg = (k: string, d: string) => (process.argv.includes(`--${k}`) ? process.argv[process.argv.indexOf(`--${k}`) + 1]! : d);
const N = Number(arg('ops', '200000'));
const BUDGET = Number(arg('budget-mb', '16')) * 1024 * 1024;

async function main(): Promise<void> {
  const server = await startServer({ opLogRetention: 10, history: { maxBytes: BUDGET, retentionIntervalMs: 0 } });
  const ann = connect(server.url, 'ann');
  try {
    const boardId = (await ann.trpc.board.create.mutate({ title: 'Budget bench' })).id;
    const sqlite = sqliteOf(server.app);
    const insert = sqlite.prepare('insert into history_ops (board_id, seq, author_id, author_name, data, created_at) values (?, ?, ?, ?, ?, ?)');
    let bytes = 0;
    sqlite.transaction(() => {
      let id = '';
      for (let seq = 1; seq <= N; seq++) {
        const op: Op =
          seq % 2
            ? { type: 'add', opId: newId(), elements: [{ type: 'rectangle', id: (id = newId()), x: seq, y: 0, z: zAbove(null), width: 40, height: 30, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, fillColor: 'transparent' }] }
            : { type: 'delete', opId: newId(), ids: [id] };
        const data = JSON.stringify(op);
        bytes += Buffer.byteLength(data);
        insert.run(boardId, seq, 'u', 'ann', data, Date.now());
      }
      const empty = gzipSync('[]');
      const cp = sqlite.prepare('insert into checkpoints (board_id, seq, data, bytes, element_count, created_at) values (?, ?, ?, ?, 0, ?)');
      for (let seq = 1000; seq <= N; seq += 1000) cp.run(boardId, seq, empty, empty.byteLength, Date.now());
      sqlite.prepare('update boards set seq = ? where id = ?').run(N, boardId);
    })();
    console.log(`history: ${N} ops, ${(bytes / 1024 / 1024).toFixed(1)} MiB of JSON; budget ${(BUDGET / 1024 / 1024).toFixed(0)} MiB`);
    // The longest call of each history-store method (SQLite: all of it on the event loop).
    const store = (server.app.versions as unknown as { store: Record<string, (...a: unknown[]) => Promise<unknown>> }).store;
    const longest: Record<string, number> = {};
    for (const name of ['checkpointTimes', 'historySeqRange', 'historyBytesBetween', 'historyOpSizes', 'deleteCheckpoints', 'deleteHistoryOps', 'checkpointAtOrBefore', 'opsJsonBetween', 'named', 'opTime', 'insertCheckpoint']) {
      const fn = store[name]!.bind(store);
      store[name] = (...a: unknown[]) => {
        const t = performance.now();
        const p = fn(...a);
        longest[name] = Math.max(longest[name] ?? 0, performance.now() - t);
        return p;
      };
    }
    let worst = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 1);
    const started = performance.now();
    await server.app.versions.enforceBudget(boardId);
    const took = performance.now() - started;
    clearInterval(ticker);
    const left = sqlite.prepare('select count(*) as n, coalesce(sum(octet_length(data)), 0) as b, min(seq) as min from history_ops where board_id = ?').get(boardId) as { n: number; b: number; min: number };
    const cps = sqlite.prepare('select count(*) as n, min(seq) as min from checkpoints where board_id = ?').get(boardId);
    console.log(`measured and thinned in ${took.toFixed(0)} ms; longest event-loop wait ${worst.toFixed(1)} ms; left ${left.n} ops (${(left.b / 1024 / 1024).toFixed(1)} MiB) from seq ${left.min}; checkpoints ${JSON.stringify(cps)}; counted ${server.app.versions.historyBytesOf(boardId)}`);
    console.log(`longest store calls (ms): ${Object.entries(longest).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  } finally {
    await ann.close();
    await server.destroy();
  }
}

await main();
