/**
 * Images benchmark (issue 15), against a built server process (SQLite):
 * 1. uploads per second of a 1 MB photo (random-noise JPEG, 1280 x 960, quality 90; each distinct,
 *    so every upload is decoded, re-encoded, hashed and stored), one at a time and by 4 people at once;
 * 2. a new client joining a board holding 50 such images and loading all of them: the time until the
 *    session is live (snapshot: references only) and until every image's bytes have arrived
 *    (6 downloads at a time, as a browser does per host). Medians of 7 joins.
 * Run: npx turbo run build && node --import tsx bench/images.ts
 */
import WebSocket from 'ws';
import { newId, zRangeAbove, type Element } from '../packages/protocol/src/index.js';
import { BoardSession, createInkboardClient, uploadImage } from '../packages/client/src/index.js';
import { signInForToken } from '../packages/client/src/cli/login.js';
import { serverProcess } from '../test/helpers/process.js';
import { noiseJpeg } from '../test/helpers/images.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const proc = await serverProcess({ INKBOARD_IMAGE_UPLOADS_PER_MINUTE: '100000', INKBOARD_IMAGE_USER_QUOTA_MB: '4000', INKBOARD_IMAGE_BOARD_QUOTA_MB: '2000' });
try {
  const { token } = await signInForToken(proc.url, 'photographer', 'password-photos', true, 'images');
  const client = createInkboardClient({ url: proc.url, token, WebSocket: WebSocket as never });
  const target = { url: proc.url, token };

  const photos: Buffer[] = [];
  for (let i = 0; i < 90; i++) photos.push(await noiseJpeg(1280, 960, i + 1));
  const sizes = photos.map((p) => p.length);
  console.log(`photos: ${photos.length}, median ${(median(sizes) / 1e6).toFixed(2)} MB`);

  // 1. Uploads per second.
  const uploadBoard = (await client.trpc.board.create.mutate({ title: 'uploads' })).id;
  await uploadImage(target, uploadBoard, photos[89]!); // warm-up (libvips, the route)
  const serialTimes: number[] = [];
  const serialStart = performance.now();
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await uploadImage(target, uploadBoard, photos[i]!);
    serialTimes.push(performance.now() - t);
  }
  const serialRate = 20 / ((performance.now() - serialStart) / 1000);
  // Four people (one person may have 2 uploads in progress), each uploading to a board of their own.
  const uploaders = await Promise.all(
    Array.from({ length: 4 }, async (_, k) => {
      const t = (await signInForToken(proc.url, `uploader${k}`, 'password-photos', true, 'images')).token;
      const c = createInkboardClient({ url: proc.url, token: t, WebSocket: WebSocket as never });
      const board = (await c.trpc.board.create.mutate({ title: 'uploads 4' })).id;
      await c.close();
      return { target: { url: proc.url, token: t }, board };
    }),
  );
  const parallelStart = performance.now();
  let next = 20;
  let busy = 0;
  await Promise.all(
    uploaders.map(async (u) => {
      while (next < 60) {
        const i = next++;
        for (;;) {
          try {
            await uploadImage(u.target, u.board, photos[i]!);
            break;
          } catch (err) {
            // 503 when the decoders and their queue are full: wait as asked.
            if ((err as { status?: number }).status !== 503) throw err;
            busy++;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
    }),
  );
  const parallelRate = 40 / ((performance.now() - parallelStart) / 1000);
  console.log(`uploads one at a time: ${serialRate.toFixed(1)}/s (median ${median(serialTimes).toFixed(0)} ms each)`);
  console.log(`uploads 4 at once: ${parallelRate.toFixed(1)}/s (${busy} answered 503 busy and were retried)`);

  // 2. Join a board of 50 images and load them all.
  const boardId = (await client.trpc.board.create.mutate({ title: '50 images' })).id;
  const zs = zRangeAbove(null, 50);
  const elements: Element[] = [];
  for (let i = 0; i < 50; i++) {
    const stored = await uploadImage(target, boardId, photos[40 + i]!);
    elements.push({
      type: 'image', id: newId(), x: (i % 10) * 600, y: Math.floor(i / 10) * 460, z: zs[i]!, strokeColor: '#1e1e1e', strokeWidth: 1, opacity: 1,
      width: 550, height: 412, fileId: stored.fileId, naturalWidth: stored.width, naturalHeight: stored.height,
    });
  }
  await client.trpc.board.push.mutate({ boardId, ops: [{ type: 'add', opId: newId(), elements }] });

  const live: number[] = [];
  const loaded: number[] = [];
  let bytes = 0;
  for (let t = 0; t < 7; t++) {
    const c = createInkboardClient({ url: proc.url, token, WebSocket: WebSocket as never, allOverWebSocket: true });
    await c.trpc.auth.me.query(); // the connection is open: only the join is timed
    const start = performance.now();
    const ids = await new Promise<string[]>((resolve, reject) => {
      const session = new BoardSession(c, boardId, {
        change: (x) => {
          if (x.status !== 'live') return;
          live.push(performance.now() - start);
          const images = [...session.elements.values()].filter((e) => e.type === 'image').map((e) => (e as { fileId: string }).fileId);
          session.close();
          resolve(images);
        },
        error: reject,
      }).start();
    });
    if (ids.length !== 50) throw new Error(`expected 50 images, got ${ids.length}`);
    let k = 0;
    bytes = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (k < ids.length) {
          const id = ids[k++]!;
          const res = await fetch(`${proc.url}/api/boards/${boardId}/files/${id}`, { headers: { authorization: `Bearer ${token}` } });
          if (!res.ok) throw new Error(`download ${res.status}`);
          const n = (await res.arrayBuffer()).byteLength; // read before adding: `bytes += await ...` would lose updates
          bytes += n;
        }
      }),
    );
    loaded.push(performance.now() - start);
    await c.close();
  }
  console.log(`join a board of 50 images: live after ${median(live).toFixed(0)} ms, all ${(bytes / 1e6).toFixed(1)} MB loaded after ${median(loaded).toFixed(0)} ms (medians of 7)`);
  console.log(JSON.stringify({ photoMb: median(sizes) / 1e6, serialRate, serialMedianMs: median(serialTimes), parallelRate, busy, joinLiveMs: median(live), joinLoadedMs: median(loaded), loadedMb: bytes / 1e6 }));
  await client.close();
} finally {
  await proc.stop();
}
