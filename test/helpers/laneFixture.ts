import WebSocket from 'ws';
import { afterEach, beforeEach } from 'vitest';
import { laneErrorSchema, type LaneError } from '@inkboard/protocol';
import type { LaneRefusal } from '../../packages/client/src/index.js';
import { watch, type Watcher, type WatchOptions } from './live.js';
import { connect, startServer, type TestServer } from './server.js';

/**
 * What the lane's tests share: a server per test (`fx.server`), boards made by an owner, members
 * watching them, raw sockets; everything opened is closed after each test, newest first.
 */
export function laneFixture(defaultTitle: string) {
  const cleanups: (() => Promise<void>)[] = [];
  const fx = {
    server: null as unknown as TestServer,
    /** Schedules `cleanup` for the end of this test. */
    defer(cleanup: () => Promise<void>): void {
      cleanups.push(cleanup);
    },
    async newBoard(title = defaultTitle): Promise<string> {
      const owner = connect(fx.server.url, 'owner');
      cleanups.push(() => owner.close());
      return (await owner.trpc.board.create.mutate({ title })).id;
    },
    async joined(boardId: string, name: string, options?: WatchOptions): Promise<Watcher> {
      const w = watch(fx.server.url, boardId, name, options);
      cleanups.push(w.close);
      await w.ready();
      return w;
    },
    /**
     * A raw WebSocket to /trpc signed in with `token` through tRPC's connection params (none: not
     * signed in), recording every text message the server sends; `laneReplies` are the lane's refusals.
     */
    async rawSocket(token: string | null) {
      const ws = new WebSocket(`${fx.server.url.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
      const received: string[] = [];
      ws.on('message', (data) => received.push(data.toString()));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      ws.send(JSON.stringify({ method: 'connectionParams', data: token ? { token } : {} }));
      cleanups.push(async () => ws.terminate());
      const laneReplies = () => received.filter((m) => m.startsWith('{"id":"~"')).map((m) => laneErrorSchema.parse(JSON.parse(m)) as LaneError);
      return { ws, received, laneReplies };
    },
  };
  beforeEach(async () => {
    fx.server = await startServer();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    await fx.server.destroy();
  });
  return fx;
}

/** Lane refusals the watcher's client heard. */
export function refusalsOf(w: Watcher): LaneRefusal[] {
  const refusals: LaneRefusal[] = [];
  w.client.lane.onError((r) => refusals.push(r));
  return refusals;
}
