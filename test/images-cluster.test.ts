import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInForToken } from '../packages/client/src/cli/login.js';
import { addOp } from './helpers/elements.js';
import { createPgDatabase, deleteRedisKeys, REDIS_URL, type PgDatabase } from './helpers/cluster.js';
import { download, fixtures, imageElement, sha256, solid, upload } from './helpers/images.js';
import { connect, startServer, type TestServer } from './helpers/server.js';

/**
 * Images (issue 15) with two server processes on one PostgreSQL database (and Redis): a file uploaded
 * through one is served by the other, stored once, exported by either, and cleaned up by either.
 */

let db: PgDatabase;
let a: TestServer;
let b: TestServer;
const prefix = `inkboard-test-img-${randomBytes(4).toString('hex')}:`;
let owner: string;
let outsider: string;

beforeAll(async () => {
  db = await createPgDatabase();
  const shared = { databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix: prefix };
  a = await startServer(shared);
  b = await startServer(shared);
  owner = (await signInForToken(a.url, 'owner', 'password-owner', true, 'images')).token;
  outsider = (await signInForToken(b.url, 'outsider', 'password-outsider', true, 'images')).token;
}, 60_000);
afterAll(async () => {
  await a?.destroy();
  await b?.destroy();
  await db?.drop();
  await deleteRedisKeys(prefix);
});

describe('images on PostgreSQL with two processes', () => {
  it('uploaded through one process, served, placed, exported and cleaned up through the other', async () => {
    const ca = connect(a.url, 'owner', { token: owner });
    const cb = connect(b.url, 'owner', { token: owner });
    try {
      const boardId = (await ca.trpc.board.create.mutate({ title: 'shared' })).id;
      const bytes = await solid(60, 40, { r: 0, g: 0, b: 230 }).jpeg().toBuffer();
      const up = await upload(a.url, owner, boardId, bytes, 'image/jpeg');
      expect(up.status, JSON.stringify(up.json)).toBe(201);
      const fileId = up.json.fileId!;

      const got = await download(b.url, owner, boardId, fileId);
      expect(got.status).toBe(200);
      expect(sha256(got.bytes)).toBe(fileId);
      expect(got.headers.get('content-type')).toBe('image/jpeg');
      // The same bytes through the other process: already there.
      expect((await upload(b.url, owner, boardId, bytes, 'image/jpeg')).status).toBe(200);
      // An outsider, on either process: nothing.
      expect((await download(b.url, outsider, boardId, fileId)).status).toBe(404);
      expect((await download(a.url, outsider, boardId, fileId)).status).toBe(404);

      // Placed through B (the check reads the database), seen by A.
      const el = { ...imageElement(fileId, 120, 80), x: 0, y: 0 };
      await cb.trpc.board.push.mutate({ boardId, ops: [addOp(el)] });
      expect((await ca.trpc.board.snapshot.query({ boardId })).elements).toEqual([el]);
      const other = (await ca.trpc.board.create.mutate({ title: 'other' })).id;
      await expect(cb.trpc.board.push.mutate({ boardId: other, ops: [addOp(el)] })).rejects.toThrow(/Upload the image to this board first/);

      // Exports by the render worker's PostgreSQL reader.
      const svg = await (await fetch(`${b.url}/api/boards/${boardId}/export.svg`, { headers: { authorization: `Bearer ${owner}` } })).text();
      expect(svg).toContain('href="data:image/jpeg;base64,');
      const png = await fetch(`${a.url}/api/boards/${boardId}/export.png?scale=1`, { headers: { authorization: `Bearer ${owner}` } });
      const { data, info } = await sharp(Buffer.from(await png.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
      const at = ((16 + 40) * info.width + (16 + 60)) * info.channels;
      expect(data[at + 2]).toBeGreaterThan(200);
      expect(data[at]).toBeLessThan(30);

      // Clean-up on PostgreSQL: the unused upload goes, the placed one stays.
      const unused = await upload(b.url, owner, boardId, await fixtures.png(9, 9));
      const later = Date.now() + a.app.files.limits.unusedGraceMs + 1000;
      expect(await a.app.files.sweep(later)).toEqual({ unlinked: 1, deleted: 1 });
      expect((await download(b.url, owner, boardId, unused.json.fileId!)).status).toBe(404);
      expect((await download(b.url, owner, boardId, fileId)).status).toBe(200);
    } finally {
      await ca.close();
      await cb.close();
    }
  });

  it('quotas hold on PostgreSQL too', async () => {
    const ca = connect(a.url, 'owner', { token: owner });
    const boardId = (await ca.trpc.board.create.mutate({ title: 'quota' })).id;
    await ca.close();
    const usage = await a.app.files.store.usage(boardId, 'nobody');
    expect(usage).toEqual({ board: 0, uploader: 0 });
    const store = b.app.files.store;
    const file = { hash: 'ab'.repeat(32), mime: 'image/png', width: 1, height: 1, bytes: 600, data: Buffer.alloc(600) };
    expect(await store.put(boardId, 'someone', file, { board: 1000, uploader: 1000 })).toBe('created');
    expect(await store.put(boardId, 'someone', file, { board: 1000, uploader: 1000 })).toBe('exists');
    await expect(store.put(boardId, 'someone', { ...file, hash: 'cd'.repeat(32) }, { board: 1000, uploader: 5000 })).rejects.toMatchObject({ scope: 'board' });
    await expect(store.put(boardId, 'someone', { ...file, hash: 'cd'.repeat(32) }, { board: 5000, uploader: 1000 })).rejects.toMatchObject({ scope: 'uploader' });
    expect(await a.app.files.store.usage(boardId, 'someone')).toEqual({ board: 600, uploader: 600 });
  });
});
