import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fromWireFrame, newId, zAbove, type BoardEvent, type Element, type Op } from '@inkboard/protocol';
import { BoardSession, createInkboardClient, type InkboardClient } from '../packages/client/src/index.js';
import { signInForToken } from '../packages/client/src/cli/login.js';
import { startCluster, startNginx, type Cluster } from './helpers/cluster.js';
import { mulberry32 } from './helpers/fuzz.js';
import { freePort } from './helpers/process.js';
import { RoundRobinProxy } from './helpers/proxy.js';
import { canonical, dropConnection, waitFor } from './helpers/server.js';

/**
 * Several server processes on one PostgreSQL database, sharing boards through Redis: clients of one
 * board spread over the processes see one board, whatever process they are on, whatever dies.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean().catch(() => undefined);
});
afterAll(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean().catch(() => undefined);
});

interface Drawer {
  client: InkboardClient;
  session: BoardSession;
}

/** Two accounts (owner and guest editor) and a board, made through the first process. */
async function boardOn(url: string) {
  const owner = await signInForToken(url, 'owner', 'password-owner', true, 'cluster test');
  const guest = await signInForToken(url, 'guest', 'password-guest', true, 'cluster test');
  const ownerClient = createInkboardClient({ url, token: owner.token, WebSocket: WebSocket as never });
  const { id: boardId } = await ownerClient.trpc.board.create.mutate({ title: 'cluster' });
  const { code } = await ownerClient.trpc.share.createLink.mutate({ boardId, role: 'editor' });
  const guestClient = createInkboardClient({ url, token: guest.token, WebSocket: WebSocket as never });
  await guestClient.trpc.share.accept.mutate({ code });
  await ownerClient.close();
  await guestClient.close();
  return { boardId, tokens: [owner.token, guest.token] };
}

function drawers(url: string, boardId: string, tokens: string[], count: number): Drawer[] {
  return Array.from({ length: count }, (_, i) => {
    const client = createInkboardClient({ url, token: tokens[i % tokens.length]!, WebSocket: WebSocket as never, allOverWebSocket: true, maxRetryDelayMs: 300 });
    const session = new BoardSession(client, boardId).start();
    cleanups.push(async () => {
      session.close();
      await client.close();
    });
    return { client, session };
  });
}

/**
 * Each drawer adds, moves and deletes elements until `stop()` is called; now and then its connection
 * drops (it reconnects through the balancer, to another process). Returns the ops acknowledged.
 */
function draw(people: Drawer[], seed: number, options: { dropChance: number }) {
  const random = mulberry32(seed);
  const acked = new Map<string, Op>();
  let drawing = true;
  const loops = people.map(async ({ client, session }, i) => {
    let n = 0;
    while (drawing) {
      const mine = [...session.elements.values()].filter((e) => e.id.startsWith(`d${i}-`));
      let op: Op;
      const roll = random();
      if (!mine.length || roll < 0.6) {
        const el: Element = { type: 'rectangle', id: `d${i}-${n++}-${newId(6)}`, x: i * 200, y: n * 10, width: 40, height: 20, z: zAbove(null), strokeColor: '#1e1e1e', fillColor: 'transparent', strokeWidth: 2, opacity: 1 };
        op = { type: 'add', opId: newId(), elements: [el] };
      } else if (roll < 0.9) {
        const el = mine[Math.floor(random() * mine.length)]!;
        op = { type: 'update', opId: newId(), updates: [{ id: el.id, patch: { x: Math.round(random() * 1000) } }] };
      } else {
        op = { type: 'delete', opId: newId(), ids: [mine[Math.floor(random() * mine.length)]!.id] };
      }
      const done = session.apply(op).then(() => acked.set(op.opId, op));
      if (random() < 0.5) await done.catch(() => undefined);
      else done.catch(() => undefined);
      if (random() < options.dropChance) dropConnection(client);
      await new Promise((r) => setTimeout(r, random() * 20));
    }
  });
  return {
    acked,
    async stop() {
      drawing = false;
      await Promise.all(loops);
      await Promise.all(people.map(({ session }) => session.settled(30_000)));
    },
  };
}

/** The board and its op log as PostgreSQL holds them. */
async function database(url: string, boardId: string) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const elements = (await db.query<{ id: string; data: string }>('select id, data from elements where board_id = $1', [boardId])).rows;
    const ops = (await db.query<{ seq: string; op_id: string }>('select seq, op_id from ops where board_id = $1 order by seq', [boardId])).rows;
    const board = (await db.query<{ seq: string }>('select seq from boards where id = $1', [boardId])).rows[0]!;
    return {
      elements: canonical(elements.map((r) => [r.id, JSON.parse(r.data) as unknown] as [string, unknown])),
      seqs: ops.map((r) => Number(r.seq)),
      opIds: ops.map((r) => r.op_id),
      seq: Number(board.seq),
    };
  } finally {
    await db.end();
  }
}

/** Every session holds the database's board; the log is 1..seq with no gap and no duplicate. */
async function expectConverged(databaseUrl: string, boardId: string, people: Drawer[], acked: Map<string, Op>) {
  const stored = await database(databaseUrl, boardId);
  await waitFor(() => people.every(({ session }) => session.seq === stored.seq), `every session at seq ${stored.seq}`, 20_000);
  for (const { session } of people) {
    expect(canonical(session.elements)).toEqual(stored.elements);
    expect(session.gaps, 'a client saw a gap in seq').toBe(0);
  }
  expect(stored.seqs).toEqual(Array.from({ length: stored.seq }, (_, i) => i + 1));
  expect(new Set(stored.opIds).size).toBe(stored.opIds.length);
  const logged = new Set(stored.opIds);
  const lost = [...acked.keys()].filter((id) => !logged.has(id));
  expect(lost, 'acknowledged ops missing from the log').toEqual([]);
  return stored;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** The random seed of a test, printed first so that a failure can be repeated with INKBOARD_CLUSTER_SEED. */
function testSeed(): number {
  const seed = Number(process.env.INKBOARD_CLUSTER_SEED ?? Date.now() % 100_000);
  console.log(`seed ${seed} (INKBOARD_CLUSTER_SEED=${seed} repeats it)`);
  return seed;
}

/** Three processes behind a round-robin balancer, and a board made through the first. */
async function balancedCluster() {
  const seed = testSeed();
  const cluster = await startCluster({ processes: 3 });
  cleanups.push(() => cluster.destroy());
  const balancer = await new RoundRobinProxy(cluster.processes.map((p) => p.port)).start();
  cleanups.push(() => balancer.close());
  const { boardId, tokens } = await boardOn(cluster.processes[0]!.url);
  return { seed, cluster, balancer, boardId, tokens };
}

describe('several server processes (PostgreSQL + Redis)', () => {
  it('clients spread over three processes draw with random reconnects to other processes and end identical to the database', async () => {
    const { seed, cluster, balancer, boardId, tokens } = await balancedCluster();

    const people = drawers(balancer.url, boardId, tokens, 6);
    const run = draw(people, seed, { dropChance: 0.03 });
    await new Promise((r) => setTimeout(r, 4_000));
    await run.stop();

    const stored = await expectConverged(cluster.databaseUrl, boardId, people, run.acked);
    const perProcess = cluster.processes.map((p) => balancer.counts.get(p.port) ?? 0);
    console.log(`seed ${seed}: ${stored.seq} ops, ${run.acked.size} acknowledged, connections per process ${perProcess.join('/')}`);
    expect(stored.seq).toBeGreaterThan(50);
    // Reconnects really landed on other processes.
    expect(perProcess.every((n) => n >= 3), `connections per process ${perProcess.join('/')}`).toBe(true);
  });

  it('SIGKILL of one process mid-drawing: its clients resume on the others with no gap, no duplicate, nothing acknowledged lost', async () => {
    const { seed, cluster, balancer, boardId, tokens } = await balancedCluster();

    const people = drawers(balancer.url, boardId, tokens, 6);
    const run = draw(people, seed, { dropChance: 0 });
    await new Promise((r) => setTimeout(r, 1_500));
    const victim = cluster.processes[1]!;
    const victimConnections = balancer.counts.get(victim.port) ?? 0;
    await victim.kill9();
    await new Promise((r) => setTimeout(r, 2_000));
    await run.stop();

    const stored = await expectConverged(cluster.databaseUrl, boardId, people, run.acked);
    console.log(`seed ${seed}: killed a process serving ${victimConnections} connection(s); ${stored.seq} ops, ${run.acked.size} acknowledged`);
    expect(victimConnections).toBeGreaterThan(0);
    // Its presence entries expire on the survivors (the Redis hash is swept by the others).
    const survivor = createInkboardClient({ url: cluster.processes[0]!.url, token: tokens[0]!, WebSocket: WebSocket as never });
    cleanups.push(() => survivor.close());
    await waitFor(
      async () => {
        const presence = await new Promise<number>((resolve, reject) => {
          const sub = survivor.trpc.board.onEvents.subscribe(
            { boardId },
            {
              onData: ({ data }) => {
                const p = data.events.find((e) => e.type === 'presence');
                if (p && p.type === 'presence') {
                  sub.unsubscribe();
                  resolve(p.clients.length);
                }
              },
              onError: reject,
            },
          );
        });
        // The six drawers plus this probe.
        return presence === people.length + 1;
      },
      'the dead process’s presence expired',
      30_000,
    );
  });

  it('a Redis restart mid-drawing: lost events are detected and filled from the database; clients converge', async () => {
    const seed = testSeed();
    const redisPort = await freePort();
    const startRedis = () => {
      const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      return child;
    };
    let redis: ChildProcess = startRedis();
    cleanups.push(async () => void redis.kill('SIGKILL'));
    await waitFor(async () => (await fetch(`http://127.0.0.1:${redisPort}`).then(() => true, (e: Error) => !/ECONNREFUSED/.test(String(e.cause)))), 'redis up');
    const cluster: Cluster = await startCluster({ processes: 2, redisUrl: `redis://127.0.0.1:${redisPort}` });
    cleanups.push(() => cluster.destroy());
    const { boardId, tokens } = await boardOn(cluster.processes[0]!.url);

    // Half the drawers on each process, so every op crosses Redis to reach half of them.
    const people = [...drawers(cluster.processes[0]!.url, boardId, tokens, 3), ...drawers(cluster.processes[1]!.url, boardId, tokens, 3)];
    const run = draw(people, seed, { dropChance: 0 });
    await new Promise((r) => setTimeout(r, 1_000));
    const exited = new Promise((r) => redis.once('exit', r));
    redis.kill('SIGKILL');
    await exited;
    await new Promise((r) => setTimeout(r, 1_000));
    redis = startRedis();
    await new Promise((r) => setTimeout(r, 2_000));
    await run.stop();

    const stored = await expectConverged(cluster.databaseUrl, boardId, people, run.acked);
    const fills = (await Promise.all(cluster.processes.map((p) => metric(p.url, 'inkboard_gap_fills_total')))).reduce((a, b) => a + b, 0);
    console.log(`seed ${seed}: ${stored.seq} ops across a Redis restart; gap fills ${fills}`);
    expect(fills, 'subscriptions filled gaps from the database').toBeGreaterThan(0);
  });

  it('through nginx: two clients on different processes see each other’s cursor and strokes', async () => {
    const cluster = await startCluster({ processes: 2 });
    cleanups.push(() => cluster.destroy());
    const nginx = await startNginx(cluster.processes.map((p) => p.port));
    cleanups.push(() => nginx.stop());
    const { boardId, tokens } = await boardOn(nginx.url);

    const [ann, bob] = drawers(nginx.url, boardId, tokens, 2) as [Drawer, Drawer];
    await waitFor(() => ann.session.status === 'live' && bob.session.status === 'live', 'both live');
    // nginx balanced the two connections over the two processes.
    const subscriptions = await Promise.all(cluster.processes.map((p) => metric(p.url, 'inkboard_subscriptions')));
    expect(subscriptions).toEqual([1, 1]);

    // Bob watches the raw events for Ann's cursor.
    const cursors: { x: number; y: number }[] = [];
    const watcher = bob.client.trpc.board.onEvents.subscribe(
      { boardId },
      { onData: ({ data }) => fromWireFrame(data).events.forEach((e) => e.type === 'cursor' && cursors.push({ x: e.x, y: e.y })) },
    );
    cleanups.push(async () => watcher.unsubscribe());
    await new Promise((r) => setTimeout(r, 300));
    await ann.client.trpc.board.cursor.mutate({ boardId, x: 123, y: 456 });
    await waitFor(() => cursors.some((c) => c.x === 123 && c.y === 456), 'Bob sees Ann’s cursor');

    const stroke: Element = { type: 'stroke', id: newId(), x: 10, y: 10, z: zAbove(null), points: [[0, 0, 0.5], [5, 5, 0.5], [10, 0, 0.5]], strokeColor: '#e03131', strokeWidth: 3, opacity: 1 };
    await ann.session.apply({ type: 'add', opId: newId(), elements: [stroke] });
    await waitFor(() => bob.session.elements.has(stroke.id), 'Bob sees Ann’s stroke');
    expect(bob.session.elements.get(stroke.id)).toEqual(stroke);
  });

  it('previews, cursors (lane), chat, typing, joins and leaves reach a subscriber on another process', async () => {
    const cluster = await startCluster({ processes: 2 });
    cleanups.push(() => cluster.destroy());
    const [first, second] = cluster.processes as [(typeof cluster.processes)[0], (typeof cluster.processes)[0]];
    const { boardId, tokens } = await boardOn(first.url);

    const live = (url: string, token: string) => {
      const client = createInkboardClient({ url, token, WebSocket: WebSocket as never, allOverWebSocket: true });
      const events: BoardEvent[] = [];
      const session = new BoardSession(client, boardId, { event: (e) => events.push(e) }).start();
      const close = async () => {
        session.close();
        await client.close();
      };
      cleanups.push(close);
      return { client, session, events, close };
    };
    const bob = live(second.url, tokens[1]!);
    await waitFor(() => bob.session.status === 'live', 'Bob live on the second process');
    const ann = live(first.url, tokens[0]!);
    await waitFor(() => ann.session.status === 'live', 'Ann live on the first process');
    await waitFor(() => bob.events.some((e) => e.type === 'join' && e.client.clientId === ann.session.clientId), 'Bob hears Ann join');
    expect([...bob.session.presence.keys()].sort()).toEqual([ann.session.clientId, bob.session.clientId].sort());

    const shape: Element = { type: 'rectangle', id: newId(), x: 0, y: 0, width: 30, height: 20, z: zAbove(null), strokeColor: '#1e1e1e', fillColor: 'transparent', strokeWidth: 2, opacity: 1 };
    ann.client.lane.preview({ boardId, elementId: shape.id, element: shape });
    ann.client.lane.cursor(boardId, 77, 88);
    ann.client.lane.typing(boardId);
    const message = await ann.client.trpc.chat.send.mutate({ boardId, text: 'hello from process one' });
    const from = ann.session.clientId;
    await waitFor(() => bob.events.some((e) => e.type === 'preview' && e.clientId === from && e.element?.id === shape.id), 'Bob sees Ann’s preview');
    await waitFor(() => bob.events.some((e) => e.type === 'cursor' && e.clientId === from && e.x === 77 && e.y === 88), 'Bob sees Ann’s cursor');
    await waitFor(() => bob.events.some((e) => e.type === 'typing' && e.clientId === from), 'Bob sees Ann typing');
    await waitFor(() => bob.events.some((e) => e.type === 'chat' && e.message.id === message.id && e.message.text === 'hello from process one'), 'Bob gets Ann’s message');

    await ann.close();
    await waitFor(() => bob.events.some((e) => e.type === 'leave' && e.clientId === from), 'Bob hears Ann leave');
    expect([...bob.session.presence.keys()]).toEqual([bob.session.clientId]);
  });
});
