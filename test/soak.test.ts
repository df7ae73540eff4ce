import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { BoardSession, createInkboardClient } from '../packages/client/src/index.js';
import { signInForToken } from '../packages/client/src/cli/login.js';
import { addOp, rect, stroke } from './helpers/elements.js';
import { collectGarbage, serverProcess, type ServerProcess } from './helpers/process.js';

/** Seconds of churn; INKBOARD_SOAK_SECONDS=600 for a long run. */
const SECONDS = Number(process.env.INKBOARD_SOAK_SECONDS ?? 45);

let server: ServerProcess | null = null;
afterAll(async () => {
  await server?.stop();
});

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

describe('soak', () => {
  it(`clients join, draw and leave for ${SECONDS} s: subscriptions and memory return to baseline`, async () => {
    // The inspector's port free, for `collectGarbage` before each reading of the memory.
    server = await serverProcess({}, { nodeArgs: ['--inspect-port=0'] });
    const url = server.url;
    const users = await Promise.all(['s1', 's2', 's3', 's4'].map((u) => signInForToken(url, `soak-${u}`, 'password-soak', true, 'soak')));
    const owner = createInkboardClient({ url, token: users[0]!.token, WebSocket: WebSocket as never });
    const boards: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { id } = await owner.trpc.board.create.mutate({ title: `soak ${i}` });
      const { code } = await owner.trpc.share.createLink.mutate({ boardId: id, role: 'editor' });
      for (const u of users.slice(1)) {
        const c = createInkboardClient({ url, token: u.token, WebSocket: WebSocket as never });
        await c.trpc.share.accept.mutate({ code });
        await c.close();
      }
      boards.push(id);
    }
    await owner.close();

    // One short round first so lazily allocated things exist in the baseline.
    const round = async (ms: number) => {
      const until = Date.now() + ms;
      let ops = 0;
      let joins = 0;
      const worker = async (w: number) => {
        while (Date.now() < until) {
          const client = createInkboardClient({ url, token: users[w % users.length]!.token, WebSocket: WebSocket as never, allOverWebSocket: true });
          const session = new BoardSession(client, boards[w % boards.length]!).start();
          joins++;
          for (let i = 0; i < 5 + (w % 5); i++) {
            await session.apply(addOp(i % 2 ? stroke(60, i, w) : rect(i, w)));
            await client.trpc.board.cursor.mutate({ boardId: session.boardId, x: i, y: w }).catch(() => undefined);
            ops++;
          }
          session.close();
          await client.close();
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
      return { ops, joins };
    };
    await round(3_000);
    await new Promise((r) => setTimeout(r, 1_000));
    // Read after a full collection both times: what the server keeps, not where its next collection
    // falls (without it the growth swung from 115 to 158 MB, and CI failed once at 158 on this limit).
    await collectGarbage(server);
    const baseline = rssMb(server.child.pid!);
    const heapBase = await gauge(url, 'nodejs_heap_size_used_bytes');
    const { ops, joins } = await round(SECONDS * 1000);
    await new Promise((r) => setTimeout(r, 2_000));
    await collectGarbage(server);
    // RSS also holds what the allocator and V8's page pool keep after the round, handed back once the
    // process has been idle a while (a run: 276 MB for 28 s, then 230 MB at 32 s; CI once read 379 MB
    // at once, with the heap as usual): read again until it is under the bound, for at most 45 s. A
    // leak never goes back down.
    const bound = baseline * 1.5 + 40;
    let after = rssMb(server.child.pid!);
    const readings = [Math.round(after)];
    for (const until = Date.now() + 45_000; after >= bound && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 3_000));
      await collectGarbage(server);
      after = rssMb(server.child.pid!);
      readings.push(Math.round(after));
    }
    const heapAfter = await gauge(url, 'nodejs_heap_size_used_bytes');
    const subscriptions = await gauge(url, 'inkboard_subscriptions');
    const connections = await gauge(url, 'inkboard_ws_connections');
    const openBoards = await gauge(url, 'inkboard_open_boards');
    console.log(`soak: ${SECONDS} s, ${joins} joins, ${ops} ops; after: subscriptions=${subscriptions} connections=${connections} open boards=${openBoards}; RSS baseline=${baseline.toFixed(0)} MB after=${readings.join(' -> ')} MB; V8 heap used ${(heapBase / 2 ** 20).toFixed(1)} -> ${(heapAfter / 2 ** 20).toFixed(1)} MB`);
    expect(subscriptions).toBe(0);
    expect(connections).toBe(0);
    expect(openBoards).toBe(0);
    expect(joins).toBeGreaterThan(SECONDS);
    // What the server's JavaScript keeps: the boards stay loaded (they grew by `ops` elements, about
    // 2.4 KB each in the V8 heap: 28 -> 41 MB for 5,166 ops), nothing per join or subscription. A leak
    // of 20 KB a join (800 joins) would pass the RSS bound below but not this one.
    expect(heapAfter - heapBase).toBeLessThan(ops * 3072 + 8 * 2 ** 20);
    // The process as a whole, allocator included: most of the RSS growth (about 80 of 100 MB) is
    // memory outside the live V8 heap that is kept after the round and handed back later (above), so
    // this bound is loose.
    expect(after).toBeLessThan(bound);
  }, (SECONDS + 140) * 1000);
});
