import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addOp, deleteOp, moveOp, rect } from './helpers/elements.js';
import { download, fixtures, imageElement, pngBomb, sha256, solid, upload } from './helpers/images.js';
import { connect, grantAccess, sqliteOf, startServer, testUser, type TestServer } from './helpers/server.js';
import { CLI_BIN, runCli } from './helpers/cli.js';

/**
 * Images (issue 15) on one server (SQLite): upload by decoding, re-encoding without metadata,
 * board-scoped downloads, the push check, quotas, rate, clean-up and exports.
 */

let server: TestServer;
let url: string;
let owner: { id: string; token: string };
let boardId: string;

beforeAll(async () => {
  server = await startServer();
  url = server.url;
  owner = testUser(url, 'owner');
  const client = connect(url, 'owner');
  boardId = (await client.trpc.board.create.mutate({ title: 'pictures' })).id;
  await client.close();
});
afterAll(async () => {
  await server?.destroy();
});

async function newBoard(name = 'owner', title = 'another'): Promise<string> {
  const client = connect(url, name);
  try {
    return (await client.trpc.board.create.mutate({ title })).id;
  } finally {
    await client.close();
  }
}

describe('upload and download', () => {
  it.each([
    ['PNG', 'image/png', () => fixtures.png(), 'image/png', 40, 30],
    ['JPEG', 'image/jpeg', () => fixtures.jpeg(), 'image/jpeg', 40, 30],
    ['WebP', 'image/webp', () => fixtures.webp(), 'image/webp', 40, 30],
    ['animated GIF (first frame, as PNG)', 'image/gif', () => fixtures.gif(), 'image/png', 12, 10],
  ])('%s round-trips', async (_name, type, make, storedType, w, h) => {
    const bytes = await make();
    const first = await upload(url, owner.token, boardId, bytes, type);
    expect(first.status, JSON.stringify(first.json)).toBe(201);
    expect(first.json).toMatchObject({ mime: storedType, width: w, height: h });
    expect(first.json.fileId).toMatch(/^[0-9a-f]{64}$/);

    const got = await download(url, owner.token, boardId, first.json.fileId!);
    expect(got.status).toBe(200);
    expect(sha256(got.bytes)).toBe(first.json.fileId);
    expect(got.bytes.length).toBe(first.json.bytes);
    expect(got.headers.get('content-type')).toBe(storedType);
    expect(got.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(got.headers.get('etag')).toBe(`"${first.json.fileId}"`);
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    const meta = await sharp(got.bytes).metadata();
    expect([meta.width, meta.height, meta.pages ?? 1]).toEqual([w, h, 1]);
    if (type === 'image/gif') {
      // The first frame (red), not the second (blue).
      const { data } = await sharp(got.bytes).raw().toBuffer({ resolveWithObject: true });
      expect(data[0]).toBeGreaterThan(200);
      expect(data[2]).toBeLessThan(50);
    }

    // The same bytes again: stored once, 200 with the same id; a second board shares the row.
    const again = await upload(url, owner.token, boardId, bytes, type);
    expect(again.status).toBe(200);
    expect(again.json.fileId).toBe(first.json.fileId);
    const other = await newBoard();
    expect((await upload(url, owner.token, other, bytes, type)).status).toBe(201);
    const rows = sqliteOf(server.app).prepare('select count(*) as n from files where hash = ?').get(first.json.fileId) as { n: number };
    expect(rows.n).toBe(1);

    // 304 on If-None-Match.
    const cached = await download(url, owner.token, boardId, first.json.fileId!, { 'if-none-match': `"${first.json.fileId}"` });
    expect(cached.status).toBe(304);
  });

  it('drops EXIF (GPS position included) and applies the orientation', async () => {
    const secret = 'Home of Alice, 12 Secret Lane';
    const jpeg = await solid(40, 20)
      .jpeg()
      .withExif({ IFD0: { ImageDescription: secret }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 300/100' } })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const before = await sharp(jpeg).metadata();
    expect(before.exif).toBeDefined();
    expect(before.orientation).toBe(6);
    expect(jpeg.includes(Buffer.from(secret))).toBe(true);

    const up = await upload(url, owner.token, boardId, jpeg, 'image/jpeg');
    expect(up.status).toBe(201);
    // Turned by the orientation: 40 x 20 shown as 20 x 40.
    expect([up.json.width, up.json.height]).toEqual([20, 40]);
    const got = await download(url, owner.token, boardId, up.json.fileId!);
    const after = await sharp(got.bytes).metadata();
    expect(after.exif).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(after.orientation).toBeUndefined();
    expect(got.bytes.includes(Buffer.from(secret))).toBe(false);
  });

  it('scales an image larger than 4096 px down', async () => {
    const big = await solid(5000, 1000).png().toBuffer();
    const up = await upload(url, owner.token, boardId, big, 'image/png');
    expect(up.status).toBe(201);
    expect([up.json.width, up.json.height]).toEqual([4096, 819]);
  });
});

describe('refused uploads', () => {
  it('a file labelled as another type, a truncated file, something that is no image, an unaccepted type', async () => {
    const png = await fixtures.png();
    const mislabelled = await upload(url, owner.token, boardId, png, 'image/jpeg');
    expect(mislabelled.status).toBe(400);
    expect(mislabelled.json).toMatchObject({ error: 'BAD_REQUEST' });
    expect(mislabelled.json.message).toMatch(/sent as JPEG .* but its bytes are PNG/);

    const photo = await solid(300, 200).jpeg().toBuffer();
    const truncatedJpeg = await upload(url, owner.token, boardId, photo.subarray(0, Math.floor(photo.length / 2)), 'image/jpeg');
    expect(truncatedJpeg.status).toBe(400);
    expect(truncatedJpeg.json.message).toMatch(/truncated or damaged/);
    const bigPng = await sharp(Buffer.alloc(300 * 200 * 3, 7).map((_, i) => (i * 31) % 256), { raw: { width: 300, height: 200, channels: 3 } }).png().toBuffer();
    const truncatedPng = await upload(url, owner.token, boardId, bigPng.subarray(0, Math.floor(bigPng.length / 2)), 'image/png');
    expect(truncatedPng.status).toBe(400);

    const html = await upload(url, owner.token, boardId, Buffer.from('<html><script>alert(1)</script></html>'), 'image/png');
    expect(html.status).toBe(400);
    expect(html.json.message).toMatch(/not a PNG, JPEG, WebP or GIF/);

    const svg = await upload(url, owner.token, boardId, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml');
    expect(svg.status).toBe(415);
    expect(svg.json).toMatchObject({ error: 'UNSUPPORTED_MEDIA_TYPE' });
    const tiff = await upload(url, owner.token, boardId, await solid(4, 4).tiff().toBuffer(), 'application/octet-stream');
    expect(tiff.status).toBe(400);

    const empty = await upload(url, owner.token, boardId, Buffer.alloc(0), 'image/png');
    expect(empty.status).toBe(400);
  });

  it('a body over 10 MiB is refused with 413 before it is read', async () => {
    const huge = Buffer.alloc(11 * 1024 * 1024, 1);
    const res = await upload(url, owner.token, boardId, huge, 'image/png');
    expect(res.status).toBe(413);
    expect(res.json.message).toMatch(/at most 10 MiB/);
  });

  it('a decompression bomb is refused without decoding it (memory stays flat)', async () => {
    const bomb = await pngBomb(50_000);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await upload(url, owner.token, boardId, bomb, 'image/png');
        expect(res.status).toBe(413);
        expect(res.json.message).toMatch(/50000 x 50000 pixels .* at most 40 megapixels/);
      }
    } finally {
      clearInterval(sample);
    }
    // Decoding it would take 2.5 GB (one byte a pixel at least).
    expect(peak - before).toBeLessThan(150 * 1024 * 1024);
  });
});

describe('access', () => {
  it('viewers cannot upload; outsiders can neither upload nor download, even knowing the hash; no sign-in is 401', async () => {
    const up = await upload(url, owner.token, boardId, await fixtures.png(33, 33));
    const fileId = up.json.fileId!;
    grantAccess(url, boardId, 'viewer1', 'viewer');
    const viewer = testUser(url, 'viewer1');
    const refused = await upload(url, viewer.token, boardId, await fixtures.png(34, 34));
    expect(refused.status).toBe(403);
    expect(refused.json.message).toMatch(/viewer/);
    expect((await download(url, viewer.token, boardId, fileId)).status).toBe(200);

    const outsider = testUser(url, 'outsider');
    expect((await upload(url, outsider.token, boardId, await fixtures.png())).status).toBe(404);
    expect((await download(url, outsider.token, boardId, fileId)).status).toBe(404);
    // Their own board, someone else's hash: not linked there, so 404 (also with If-None-Match).
    const theirs = await newBoard('outsider', 'theirs');
    expect((await download(url, outsider.token, theirs, fileId)).status).toBe(404);
    expect((await download(url, outsider.token, theirs, fileId, { 'if-none-match': `"${fileId}"` })).status).toBe(404);
    expect((await download(url, outsider.token, theirs, 'not-a-hash')).status).toBe(404);

    expect((await upload(url, null, boardId, await fixtures.png())).status).toBe(401);
    expect((await download(url, null, boardId, fileId)).status).toBe(401);
    expect((await download(url, owner.token, 'no-such-board', fileId)).status).toBe(404);
  });

  it('a removed member loses access at once', async () => {
    const up = await upload(url, owner.token, boardId, await fixtures.png(35, 35));
    grantAccess(url, boardId, 'leaver', 'editor');
    const leaver = testUser(url, 'leaver');
    expect((await download(url, leaver.token, boardId, up.json.fileId!)).status).toBe(200);
    const ownerClient = connect(url, 'owner');
    await ownerClient.trpc.share.removeMember.mutate({ boardId, userId: leaver.id });
    await ownerClient.close();
    expect((await download(url, leaver.token, boardId, up.json.fileId!)).status).toBe(404);
    expect((await upload(url, leaver.token, boardId, await fixtures.png(36, 36))).status).toBe(404);
  });
});

describe('placing images', () => {
  it('an image whose file is not on the board is refused; once uploaded it is placed, and joiners get the reference only', async () => {
    const bytes = await fixtures.png(50, 40);
    const board = await newBoard();
    const other = await newBoard();
    const elsewhere = await upload(url, owner.token, other, bytes);
    const client = connect(url, 'owner');
    try {
      const el = imageElement(elsewhere.json.fileId!, 50, 40);
      await expect(client.trpc.board.push.mutate({ boardId: board, ops: [addOp(el)] })).rejects.toThrow(`Upload the image to this board first (POST /api/boards/${board}/files)`);
      expect((await upload(url, owner.token, board, bytes)).status).toBe(201);
      await client.trpc.board.push.mutate({ boardId: board, ops: [addOp(el)] });
      const snapshot = await client.trpc.board.snapshot.query({ boardId: board });
      expect(snapshot.elements).toEqual([el]);
      expect(JSON.stringify(snapshot).length).toBeLessThan(1000);
    } finally {
      await client.close();
    }
  });
});

describe('order', () => {
  it('a push sent right after one placing an image (a move of it) is applied after it', async () => {
    const board = await newBoard();
    const up = await upload(url, owner.token, board, await fixtures.png(30, 30));
    const client = connect(url, 'owner');
    try {
      for (let i = 0; i < 5; i++) {
        const el = imageElement(up.json.fileId!, 30, 30);
        // Sent together (one HTTP batch, whose calls the server starts at once).
        await Promise.all([
          client.trpc.board.push.mutate({ boardId: board, ops: [addOp(el)] }),
          client.trpc.board.push.mutate({ boardId: board, ops: [moveOp(el.id, 500 + i, 600)] }),
        ]);
        const { elements } = await client.trpc.board.snapshot.query({ boardId: board });
        expect(elements.find((e) => e.id === el.id)).toMatchObject({ x: 500 + i, y: 600 });
      }
    } finally {
      await client.close();
    }
  });
});

describe('limits', () => {
  it('board and uploader quotas, upload rate', async () => {
    const small = await startServer({ images: { boardQuotaBytes: 5000, uploaderQuotaBytes: 8000, uploadBurst: 6, uploadsPerMinute: 6 } });
    try {
      const me = testUser(small.url, 'quota');
      const client = connect(small.url, 'quota');
      const [a, b, c] = [(await client.trpc.board.create.mutate({ title: 'a' })).id, (await client.trpc.board.create.mutate({ title: 'b' })).id, (await client.trpc.board.create.mutate({ title: 'c' })).id];
      await client.close();
      // Noise does not compress: each is a little over 3 KB stored.
      const noise = () => sharp(randomBytes(32 * 32 * 3), { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer();
      const first = await upload(small.url, me.token, a, await noise());
      expect(first.status).toBe(201);
      expect(first.json.bytes).toBeGreaterThan(3000);
      const overBoard = await upload(small.url, me.token, a, await noise());
      expect(overBoard.status, JSON.stringify(overBoard.json)).toBe(413);
      expect(overBoard.json).toMatchObject({ error: 'PAYLOAD_TOO_LARGE' });
      expect(overBoard.json.message).toMatch(/This board holds .* of images and may hold/);
      expect((await upload(small.url, me.token, b, await noise())).status).toBe(201);
      const overUser = await upload(small.url, me.token, c, await noise());
      expect(overUser.status).toBe(413);
      expect(overUser.json.message).toMatch(/You have uploaded .* of images and may upload/);
      // Four uploads so far (burst 6): the seventh is refused with Retry-After.
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof upload>> | undefined;
      for (let i = 0; i < 4 && !limited; i++) {
        const res = await upload(small.url, me.token, c, await fixtures.png(10 + i, 10));
        statuses.push(res.status);
        if (res.status === 429) limited = res;
      }
      expect(statuses).toEqual([201, 201, 429]);
      expect(limited!.json.message).toMatch(/Too many uploads/);
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await small.destroy();
    }
  });
});

describe('clean-up', () => {
  it('removes files no element, no retained op and no history op uses, after the grace period', async () => {
    const srv = await startServer({ opLogRetention: 10 });
    try {
      const me = testUser(srv.url, 'cleaner');
      const client = connect(srv.url, 'cleaner');
      const board = (await client.trpc.board.create.mutate({ title: 'c' })).id;
      const placed = await upload(srv.url, me.token, board, await fixtures.png(20, 20));
      const unused = await upload(srv.url, me.token, board, await fixtures.png(21, 21));
      const el = imageElement(placed.json.fileId!, 20, 20);
      await client.trpc.board.push.mutate({ boardId: board, ops: [addOp(el)] });
      const files = () => (sqliteOf(srv.app).prepare('select hash from files order by hash').all() as { hash: string }[]).map((r) => r.hash);

      // Within the grace period nothing goes (an upload about to be placed).
      expect(await srv.app.files.sweep()).toEqual({ unlinked: 0, deleted: 0 });
      const later = Date.now() + srv.app.files.limits.unusedGraceMs + 1000;
      expect(await srv.app.files.sweep(later)).toEqual({ unlinked: 1, deleted: 1 });
      expect(files()).toEqual([placed.json.fileId]);
      expect((await download(srv.url, me.token, board, unused.json.fileId!)).status).toBe(404);

      // Deleted, but the op log still holds its add (an undo can bring it back): kept.
      await client.trpc.board.push.mutate({ boardId: board, ops: [deleteOp(el.id)] });
      expect(await srv.app.files.sweep(later)).toEqual({ unlinked: 0, deleted: 0 });
      // Trimmed from the log (retention 10 ops), its add is kept for version history (a restore re-adds it): kept.
      for (let i = 0; i < 12; i++) await client.trpc.board.push.mutate({ boardId: board, ops: [addOp(rect(i, i))] });
      const sqlite = sqliteOf(srv.app);
      expect((sqlite.prepare('select count(*) as n from ops where board_id = ? and data like ?').get(board, `%${placed.json.fileId}%`) as { n: number }).n).toBe(0);
      expect(await srv.app.files.sweep(later)).toEqual({ unlinked: 0, deleted: 0 });
      // Once the history's retention has thinned that op away too, it goes.
      sqlite.prepare('delete from history_ops where board_id = ?').run(board);
      expect(await srv.app.files.sweep(later)).toEqual({ unlinked: 1, deleted: 1 });
      expect(files()).toEqual([]);
      await client.close();
    } finally {
      await srv.destroy();
    }
  });
});

describe('exports', () => {
  it('SVG and PNG exports and the board preview contain the image', async () => {
    const board = await newBoard();
    const up = await upload(url, owner.token, board, await solid(60, 40, { r: 0, g: 200, b: 0 }).png().toBuffer());
    const client = connect(url, 'owner');
    const el = { ...imageElement(up.json.fileId!, 120, 80), x: 0, y: 0 };
    await client.trpc.board.push.mutate({ boardId: board, ops: [addOp(el)] });

    const svg = await fetch(`${url}/api/boards/${board}/export.svg`, { headers: { authorization: `Bearer ${owner.token}` } });
    const text = await svg.text();
    expect(svg.status).toBe(200);
    expect(text).toMatch(/<image data-id="[^"]+" x="0" y="0" width="120" height="80" preserveAspectRatio="none" href="data:image\/png;base64,/);

    const png = await fetch(`${url}/api/boards/${board}/export.png?scale=1`, { headers: { authorization: `Bearer ${owner.token}` } });
    expect(png.status).toBe(200);
    const { data, info } = await sharp(Buffer.from(await png.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    // The middle of the image (padding 16): green.
    const at = ((16 + 40) * info.width + (16 + 60)) * info.channels;
    expect([data[at], data[at + 1], data[at + 2]]).toEqual([0, 200, 0]);

    // resvg cannot read WebP: the PNG export converts it first (else it would be a transparent hole).
    const webp = await upload(url, owner.token, board, await solid(60, 40, { r: 200, g: 0, b: 200 }).webp().toBuffer(), 'image/webp');
    await client.trpc.board.push.mutate({ boardId: board, ops: [addOp({ ...imageElement(webp.json.fileId!, 60, 40), x: 200, y: 0 })] });
    const png2 = await fetch(`${url}/api/boards/${board}/export.png?scale=1`, { headers: { authorization: `Bearer ${owner.token}` } });
    const raster = await sharp(Buffer.from(await png2.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    const at2 = ((16 + 20) * raster.info.width + (16 + 230)) * raster.info.channels;
    // (WebP is lossy: within a few levels.)
    expect([raster.data[at2]! > 190, raster.data[at2 + 1]! < 10, raster.data[at2 + 2]! > 190]).toEqual([true, true, true]);

    // A PNG of a past version (version history, ?at=SEQ) embeds the images of that state: at seq 1, the green one alone.
    const past = await fetch(`${url}/api/boards/${board}/export.png?scale=1&at=1`, { headers: { authorization: `Bearer ${owner.token}` } });
    expect([past.status, past.headers.get('x-board-seq')]).toEqual([200, '1']);
    const then = await sharp(Buffer.from(await past.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    expect([then.info.width, then.info.height]).toEqual([info.width, info.height]);
    expect([then.data[at], then.data[at + 1], then.data[at + 2]]).toEqual([0, 200, 0]);

    const list = await client.trpc.board.list.query();
    const thumb = list.find((b) => b.id === board)!.thumbnail;
    expect(thumb).toContain('data:image/png;base64,');
    await client.close();
  });
});

describe('export budget', () => {
  it('images past the export budget are drawn as placeholders, smallest embedded first', async () => {
    const srv = await startServer({ render: { maxImageBytes: 2000 } });
    try {
      const me = testUser(srv.url, 'budget');
      const client = connect(srv.url, 'budget');
      const board = (await client.trpc.board.create.mutate({ title: 'budget' })).id;
      const small = await upload(srv.url, me.token, board, await fixtures.png(10, 10));
      const big = await upload(srv.url, me.token, board, await sharp(randomBytes(40 * 40 * 3), { raw: { width: 40, height: 40, channels: 3 } }).png().toBuffer());
      expect(small.json.bytes).toBeLessThan(2000);
      expect(big.json.bytes).toBeGreaterThan(2000);
      await client.trpc.board.push.mutate({
        boardId: board,
        ops: [addOp({ ...imageElement(small.json.fileId!, 10, 10), id: 'small' }, { ...imageElement(big.json.fileId!, 40, 40), id: 'big', x: 100 })],
      });
      const svg = await (await fetch(`${srv.url}/api/boards/${board}/export.svg`, { headers: { authorization: `Bearer ${me.token}` } })).text();
      expect(svg).toMatch(/<image data-id="small"[^>]+href="data:image\/png;base64,/);
      expect(svg).toMatch(/<g data-id="big"><rect [^>]*fill="#e9ecef"/);
      expect(svg.match(/<image /g)).toHaveLength(1);
      await client.close();
    } finally {
      await srv.destroy();
    }
  });
});

describe('client and CLI', () => {
  it('uploadImage returns the stored file and throws the server\'s message', async () => {
    const { uploadImage } = await import('../packages/client/src/index.js');
    const client = connect(url, 'owner', { token: owner.token });
    const stored = await uploadImage(client, boardId, await fixtures.webp(64, 48));
    expect(stored).toMatchObject({ mime: 'image/webp', width: 64, height: 48 });
    const blob = new Blob([await fixtures.png(8, 8)], { type: 'image/png' });
    expect((await uploadImage({ url, token: owner.token }, boardId, blob)).mime).toBe('image/png');
    await expect(uploadImage(client, boardId, new TextEncoder().encode('not an image'))).rejects.toThrow(/not a PNG, JPEG, WebP or GIF/);
    await client.close();
  });

  it('inkboard draw uploads the files image elements name, then places them (natural size fitted within 1024 px)', async () => {
    if (!existsSync(join(CLI_BIN, '../../dist/cli/main.js'))) throw new Error('The CLI is not built: run "npx turbo run build" first.');
    const dir = mkdtempSync(join(tmpdir(), 'inkboard-images-cli-'));
    try {
      writeFileSync(join(dir, 'photo.jpg'), await solid(2048, 1024).jpeg().toBuffer());
      writeFileSync(join(dir, 'small.png'), await fixtures.png(40, 30));
      const drawing = [
        { type: 'image', file: './photo.jpg', x: 0, y: 0 },
        { type: 'image', file: 'small.png', x: 0, y: 600, width: 80 },
        { type: 'rectangle', x: -10, y: -10, width: 5, height: 5 },
      ];
      writeFileSync(join(dir, 'drawing.json'), JSON.stringify(drawing));
      const board = await newBoard();
      const env = { INKBOARD_SERVER: url, INKBOARD_TOKEN: owner.token, XDG_CONFIG_HOME: dir };
      const out = await runCli(['draw', board, join(dir, 'drawing.json')], env);
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout.trim()).toMatch(new RegExp(`^Added 3 elements to ${board} \\(seq 1\\)$`));
      const client = connect(url, 'owner');
      const { elements } = await client.trpc.board.snapshot.query({ boardId: board });
      await client.close();
      const images = elements.filter((e) => e.type === 'image');
      expect(images.map((e) => [e.width, e.height, e.naturalWidth, e.naturalHeight])).toEqual([
        [1024, 512, 2048, 1024],
        [80, 60, 40, 30],
      ]);
      for (const img of images) expect((await download(url, owner.token, board, img.fileId)).status).toBe(200);

      // A file that is not an image: one line naming it, nothing placed.
      writeFileSync(join(dir, 'fake.png'), 'hello');
      writeFileSync(join(dir, 'bad.json'), JSON.stringify([{ type: 'image', file: 'fake.png', x: 0, y: 0 }]));
      const bad = await runCli(['draw', board, join(dir, 'bad.json')], env);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/fake\.png: This file is not a PNG, JPEG, WebP or GIF image/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
