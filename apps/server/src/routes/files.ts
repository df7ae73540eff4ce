import type { Readable } from 'node:stream';
import { TRPCError } from '@trpc/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { fileIdSchema, type Op } from '@inkboard/protocol';
import { TokenBuckets } from '../auth/TokenBucket.js';
import { ACCEPTED_TYPES, DecodeGate, decodeImage, DEFAULT_IMAGE_LIMITS, UploadError, type AcceptedType, type ImageLimits } from '../files/images.js';
import { isOwnOrAllowedOrigin } from '../plugins/httpGuard.js';
import { PgFileStore, QuotaError, SqliteFileStore, type FileStore } from '../storage/FileStore.js';
import type { SqliteStorage } from '../storage/SqliteStorage.js';
import { identify, SESSION_COOKIE } from '../trpc/context.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Uploaded images (issue 15): the store, its limits, and the clean-up (tests call `sweep`). */
    files: { store: FileStore; limits: ImageLimits; sweep(now?: number): Promise<{ unlinked: number; deleted: number }> };
  }
}

const STATUS: Partial<Record<TRPCError['code'], number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
};

/** A stored image opened on its own (or sniffed as something else) runs nothing and loads nothing. */
const FILE_CSP = "default-src 'none'; sandbox";
const MIB = 1024 * 1024;
const mib = (n: number) => `${(n / MIB).toFixed(n % MIB === 0 ? 0 : 1)} MiB`;

/** Reads the body up to `max` bytes; past it, stops reading and refuses with 413. */
function readLimited(stream: Readable, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: Error | null) => {
      stream.off('data', onData).off('end', onEnd).off('error', onError);
      if (err) {
        stream.pause();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return done(new UploadError('PAYLOAD_TOO_LARGE', 413, `An image may be at most ${mib(max)}; this one is larger. Scale it down or save it with more compression.`));
      chunks.push(chunk);
    };
    const onEnd = () => done(null);
    const onError = (err: Error) => done(new UploadError('BAD_REQUEST', 400, `The upload did not arrive whole (${err.message}); send it again.`));
    stream.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** Reads and drops the rest of a body; true when it ended within `max` bytes (and 5 s). */
function drain(stream: Readable, max: number): Promise<boolean> {
  return new Promise((resolve) => {
    let size = 0;
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      stream.off('data', onData).off('end', onEnd).off('error', onError);
      if (!ok) stream.pause();
      resolve(ok);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) finish(false);
    };
    const onEnd = () => finish(true);
    const onError = () => finish(false);
    const timer = setTimeout(() => finish(false), 5_000);
    stream.on('data', onData).on('end', onEnd).on('error', onError);
    stream.resume();
  });
}

/** The claimed type from Content-Type: an accepted one, null for application/octet-stream ("find out"), else 415. */
function claimedType(header: string | undefined): AcceptedType | null {
  const type = header?.split(';', 1)[0]?.trim().toLowerCase();
  if (type === 'application/octet-stream') return null;
  if (type === 'image/jpg') return 'image/jpeg';
  if (type && (ACCEPTED_TYPES as readonly string[]).includes(type)) return type as AcceptedType;
  throw new UploadError(
    'UNSUPPORTED_MEDIA_TYPE',
    415,
    `Images are uploaded as PNG, JPEG, WebP or GIF (Content-Type ${ACCEPTED_TYPES.join(', ')}); this one is ${type ?? 'without a content type'}. Convert it to one of these first.`,
  );
}

/**
 * Image files of a board (issue 15): `POST /api/boards/:boardId/files` (the raw bytes, editors) and
 * `GET /api/boards/:boardId/files/:fileId` (members), with the board's access checked on every
 * request. Refusals are JSON `{ error, message }` like the exports (routes/export.ts). Also sets the
 * push check (an image may be placed only once its file is on the board) and the periodic clean-up.
 */
export const fileRoutes = fp(
  async (app: FastifyInstance, opts: { limits?: Partial<ImageLimits>; databaseUrl: string | null; allowedOrigins: string[] }) => {
    const limits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, ...opts.limits };
    const store: FileStore = opts.databaseUrl ? await PgFileStore.open(opts.databaseUrl) : new SqliteFileStore((app.storage as SqliteStorage).sqlite, (fn) => (app.storage as SqliteStorage).writeDurably(fn));
    const gate = new DecodeGate(limits.decoders, limits.decodeQueue);
    const uploads = new TokenBuckets(limits.uploadsPerMinute / 60, limits.uploadBurst);

    const sweep = (now = Date.now()) => store.sweep(now - limits.unusedGraceMs);
    app.decorate('files', { store, limits, sweep });
    const timer = setInterval(() => {
      sweep().then(
        (r) => (r.unlinked || r.deleted) && app.log.info(r, 'removed unused image files'),
        (err: unknown) => app.log.warn({ err: String(err) }, 'the image clean-up failed; it runs again later'),
      );
    }, limits.sweepIntervalMs);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await store.close();
    });

    app.boards.service.imageCheck = (boardId: string, ops: readonly Op[]) => {
      let ids: Set<string> | null = null;
      for (const op of ops) {
        if (op.type !== 'add') continue;
        for (const el of op.elements) if (el.type === 'image') (ids ??= new Set()).add(el.fileId);
      }
      if (!ids) return null;
      const wanted = [...ids];
      return store.linked(boardId, wanted).then((linked) => {
        if (linked.size < wanted.length) {
          throw new TRPCError({ code: 'BAD_REQUEST', message: `Upload the image to this board first (POST /api/boards/${boardId}/files); nothing was applied.` });
        }
      });
    };

    /** Who is calling, with at least `least` on the board; throws the refusal otherwise. */
    const caller = async (req: FastifyRequest, boardId: string, least: 'viewer' | 'editor') => {
      const who = await identify(app.boards.auth, req.headers as { authorization?: string; cookie?: string }, {}, { boardId });
      if (!who) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first (or pass a valid API token as "Authorization: Bearer ink_...").' });
      const origin = req.headers.origin;
      if (origin && req.cookies[SESSION_COOKIE] !== undefined && who.sessionId && !isOwnOrAllowedOrigin(req, origin, opts.allowedOrigins)) {
        throw new TRPCError({ code: 'FORBIDDEN', message: `Origin ${origin} may not make signed-in calls; use the app's own address or an API token.` });
      }
      // Not a member and no such board read the same: a file URL tells an outsider nothing.
      const role = await app.boards.access.roleOf(boardId, who.user.id);
      if (role === null) throw new TRPCError({ code: 'NOT_FOUND', message: `No board "${boardId}" that you are a member of (it may have been deleted, or you were removed). Ask its owner for a share link.` });
      if (least === 'editor' && role === 'viewer') throw new TRPCError({ code: 'FORBIDDEN', message: 'You can view this board but not add images to it (viewer). Ask the owner to make you an editor.' });
      return { userId: who.user.id, role };
    };

    const refuse = (reply: FastifyReply, err: unknown): FastifyReply => {
      if (!(err instanceof TRPCError)) throw err;
      if (err instanceof UploadError && err.retryAfterSeconds !== null) void reply.header('retry-after', String(err.retryAfterSeconds));
      return reply.code(err instanceof UploadError ? err.status : (STATUS[err.code] ?? 500)).send({ error: err.code, message: err.message });
    };

    await app.register(async (scope) => {
      // The body is read by the route itself, after the caller is checked, and only up to the limit.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_req, _payload, done) => done(null));

      scope.post<{ Params: { boardId: string } }>('/api/boards/:boardId/files', { bodyLimit: limits.maxFileBytes }, async (req, reply) => {
        let release: (() => void) | null = null;
        try {
          const { boardId } = req.params;
          const { userId } = await caller(req, boardId, 'editor');
          const claimed = claimedType(req.headers['content-type']);
          const length = Number(req.headers['content-length'] ?? NaN);
          if (length > limits.maxFileBytes) {
            throw new UploadError('PAYLOAD_TOO_LARGE', 413, `An image may be at most ${mib(limits.maxFileBytes)}; this one is ${mib(length)}. Scale it down or save it with more compression.`);
          }
          const wait = uploads.spend(userId, 1);
          if (wait > 0) {
            const seconds = Math.ceil(wait);
            throw new UploadError('TOO_MANY_REQUESTS', 429, `Too many uploads: one person may upload ${limits.uploadsPerMinute} images a minute (bursts of ${limits.uploadBurst}). Retry in ${seconds} s.`, seconds);
          }
          // A place before the body is read: bodies in memory are bounded by the places.
          release = gate.admit(userId);
          const body = await readLimited(req.raw, limits.maxFileBytes);
          if (body.length === 0) throw new UploadError('BAD_REQUEST', 400, 'The upload is empty; send the image bytes as the request body.');
          const image = await gate.run(() => decodeImage(body, claimed, limits));
          let outcome: 'created' | 'exists';
          try {
            outcome = await store.put(boardId, userId, { hash: image.hash, mime: image.mime, width: image.width, height: image.height, bytes: image.data.length, data: image.data }, {
              board: limits.boardQuotaBytes,
              uploader: limits.uploaderQuotaBytes,
            });
          } catch (err) {
            if (!(err instanceof QuotaError)) throw err;
            const message =
              err.scope === 'board'
                ? `This board holds ${mib(err.used)} of images and may hold ${mib(err.quota)}; this one (${mib(image.data.length)} stored) does not fit. Delete images from the board (unused ones are removed within about an hour) or use another board.`
                : `You have uploaded ${mib(err.used)} of images and may upload ${mib(err.quota)} in all; this one (${mib(image.data.length)} stored) does not fit. Delete images you no longer need (unused ones are removed within about an hour).`;
            throw new UploadError('PAYLOAD_TOO_LARGE', 413, message);
          }
          req.log.info({ boardId, fileId: image.hash, bytes: image.data.length, width: image.width, height: image.height, frames: image.frames, outcome }, 'image uploaded');
          return reply.code(outcome === 'created' ? 201 : 200).send({ fileId: image.hash, mime: image.mime, width: image.width, height: image.height, bytes: image.data.length });
        } catch (err) {
          // A refused upload's unread body (within the size limit) is read and dropped first: a browser
          // that is still sending when the connection closes reports a network error, not the answer.
          // A larger one is not waited for: the connection closes after the answer.
          const declared = Number(req.headers['content-length'] ?? NaN);
          const oversized = declared > limits.maxFileBytes || (err instanceof UploadError && err.status === 413 && !req.raw.readableEnded);
          if (!req.raw.readableEnded && (oversized || !(await drain(req.raw, limits.maxFileBytes)))) void reply.header('connection', 'close');
          return refuse(reply, err);
        } finally {
          release?.();
        }
      });

      scope.get<{ Params: { boardId: string; fileId: string } }>('/api/boards/:boardId/files/:fileId', async (req, reply) => {
        try {
          const { boardId, fileId } = req.params;
          await caller(req, boardId, 'viewer');
          const notFound = () => new TRPCError({ code: 'NOT_FOUND', message: 'This board has no such image (it may have been removed, or belongs to another board).' });
          if (!fileIdSchema.safeParse(fileId).success) throw notFound();
          const etag = `"${fileId}"`;
          const common = (r: FastifyReply) =>
            r
              .header('cache-control', 'private, max-age=31536000, immutable')
              .header('etag', etag)
              .header('x-content-type-options', 'nosniff')
              .header('content-security-policy', FILE_CSP);
          if (req.headers['if-none-match'] === etag) {
            if ((await store.linked(boardId, [fileId])).size === 0) throw notFound();
            return common(reply).code(304).send();
          }
          const file = await store.get(boardId, fileId);
          if (!file) throw notFound();
          return common(reply)
            .type(file.mime)
            .header('content-disposition', `inline; filename="${fileId.slice(0, 16)}.${file.mime.split('/')[1]}"`)
            .send(file.data);
        } catch (err) {
          return refuse(reply, err);
        }
      });
    });
  },
  { name: 'inkboard-files', dependencies: ['inkboard-storage'] },
);
