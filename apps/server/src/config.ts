import { z } from 'zod';
import { METRICS_MODES, METRICS_TOKEN_MIN_LENGTH, type MetricsMode } from './plugins/metrics.js';
import { DEFAULT_HASH_QUEUE, defaultHashConcurrency } from './auth/secrets.js';
import { defaultMaxConnections } from './plugins/httpGuard.js';
import { DEFAULT_RENDER_LIMITS, type RenderLimits } from './render/limits.js';
import { DEFAULT_BUDGETS, type BoardBudgets } from './boards/budgets.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './files/images.js';
import type { GuestOptions } from './auth/GuestService.js';
import { DEFAULT_VERSION_SETTINGS, type VersionSettings } from './boards/VersionService.js';

const MIB = 1024 * 1024;

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  INKBOARD_DB: z.string().default('./data/inkboard.db'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave it unset for the embedded SQLite file)')
    .optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL (leave it unset for a single process)').optional(),
  INKBOARD_REDIS_PREFIX: z.string().min(1).default('inkboard:'),
  INKBOARD_TICK_MS: z.coerce.number().int().min(1).max(1000).default(25),
  INKBOARD_TICK_LOADED_MS: z.coerce.number().int().min(1).max(1000).default(33),
  INKBOARD_OPLOG_RETENTION: z.coerce.number().int().min(10).default(10_000),
  INKBOARD_WEB_DIST: z.string().optional(),
  INKBOARD_PUBLIC_URL: z.url().optional(),
  INKBOARD_ALLOWED_ORIGINS: z.string().optional(),
  INKBOARD_UPGRADES_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  INKBOARD_SCRYPT_LOG_N: z.coerce.number().int().min(10).max(20).default(17),
  INKBOARD_SESSION_IDLE_HOURS: z.coerce.number().positive().default(24 * 7),
  INKBOARD_SESSION_MAX_HOURS: z.coerce.number().positive().default(24 * 30),
  INKBOARD_HTTP_REQUEST_TIMEOUT_SECONDS: z.coerce.number().positive().default(15),
  INKBOARD_HTTP_HEADERS_TIMEOUT_SECONDS: z.coerce.number().positive().default(10),
  INKBOARD_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).default(256),
  INKBOARD_MAX_CONNECTIONS: z.coerce.number().int().min(1).optional(),
  INKBOARD_SIGNUPS_PER_ADDRESS_PER_MINUTE: z.coerce.number().positive().default(10),
  INKBOARD_SIGNUPS_PER_MINUTE: z.coerce.number().positive().default(60),
  INKBOARD_HASH_CONCURRENCY: z.coerce.number().int().min(1).optional(),
  INKBOARD_HASH_QUEUE: z.coerce.number().int().min(0).default(DEFAULT_HASH_QUEUE),
  INKBOARD_WS_HANDSHAKE_SECONDS: z.coerce.number().positive().max(60).default(5),
  INKBOARD_WS_HANDSHAKE_BYTES: z.coerce.number().int().min(1024).default(8 * 1024),
  INKBOARD_WS_SUBSCRIPTIONS: z.coerce.number().int().min(1).default(4),
  INKBOARD_WS_UNSENT_PER_SOCKET_MIB: z.coerce.number().positive().default(64),
  INKBOARD_WS_UNSENT_TOTAL_MIB: z.coerce.number().positive().default(256),
  INKBOARD_RENDER_THREADS: z.coerce.number().int().min(1).max(64).default(DEFAULT_RENDER_LIMITS.threads),
  INKBOARD_RENDER_TIMEOUT_SECONDS: z.coerce.number().positive().default(DEFAULT_RENDER_LIMITS.timeoutMs / 1000),
  INKBOARD_RENDER_HEAP_MB: z.coerce.number().int().min(64).default(DEFAULT_RENDER_LIMITS.heapMb),
  INKBOARD_RENDER_QUEUE: z.coerce.number().int().min(0).default(DEFAULT_RENDER_LIMITS.maxQueue),
  INKBOARD_RENDER_PER_USER: z.coerce.number().int().min(1).default(DEFAULT_RENDER_LIMITS.perUser),
  INKBOARD_RENDER_CACHE_MB: z.coerce.number().min(0).default(DEFAULT_RENDER_LIMITS.cacheBytes / 1024 / 1024),
  INKBOARD_EXPORT_MAX_SVG_MB: z.coerce.number().positive().default(DEFAULT_RENDER_LIMITS.maxSvgBytes / 1024 / 1024),
  INKBOARD_EXPORT_MAX_MEGAPIXELS: z.coerce.number().positive().max(67).default(DEFAULT_RENDER_LIMITS.maxPngPixels / 1024 / 1024),
  INKBOARD_SNAPSHOT_MB_PER_SECOND: z.coerce.number().positive().default(64),
  INKBOARD_SNAPSHOT_INLINE_KB: z.coerce.number().min(0).default(DEFAULT_RENDER_LIMITS.snapshotInlineBytes / 1024),
  INKBOARD_SNAPSHOT_CACHE_MB: z.coerce.number().min(0).default(DEFAULT_RENDER_LIMITS.snapshotCacheBytes / 1024 / 1024),
  INKBOARD_METRICS: z.enum(METRICS_MODES).default('local'),
  INKBOARD_METRICS_TOKEN: z.string().min(METRICS_TOKEN_MIN_LENGTH, `must have at least ${METRICS_TOKEN_MIN_LENGTH} characters`).optional(),
  INKBOARD_BOARD_MAX_POINTS: z.coerce.number().int().min(1).default(DEFAULT_BUDGETS.maxPoints),
  INKBOARD_BOARD_MAX_MB: z.coerce.number().positive().default(DEFAULT_BUDGETS.maxBytes / MIB),
  INKBOARD_USER_MAX_BOARDS: z.coerce.number().int().min(1).default(DEFAULT_BUDGETS.maxOwnedBoards),
  INKBOARD_USER_QUOTA_MB: z.coerce.number().positive().default(DEFAULT_BUDGETS.ownerQuotaBytes / MIB),
  INKBOARD_OPLOG_MAX_MB: z.coerce.number().min(1).default(DEFAULT_BUDGETS.opLogMaxBytes / MIB),
  INKBOARD_HISTORY_CHECKPOINT_OPS: z.coerce.number().int().min(10).default(DEFAULT_VERSION_SETTINGS.checkpointEvery),
  INKBOARD_HISTORY_KEEP_ALL_DAYS: z.coerce.number().positive().default(DEFAULT_VERSION_SETTINGS.keepAllMs / 86_400_000),
  INKBOARD_HISTORY_CACHE_MB: z.coerce.number().min(0).default(DEFAULT_VERSION_SETTINGS.stateCacheBytes / MIB),
  INKBOARD_HISTORY_MAX_MB: z.coerce.number().min(1).default(DEFAULT_VERSION_SETTINGS.maxBytes / MIB),
  INKBOARD_GUESTS_PER_BOARD: z.coerce.number().int().min(1).max(10_000).default(200),
  INKBOARD_GUEST_JOINS_PER_ADDRESS_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(20),
  INKBOARD_IMAGE_MAX_MB: z.coerce.number().positive().max(64).default(DEFAULT_IMAGE_LIMITS.maxFileBytes / MIB),
  INKBOARD_IMAGE_MAX_MEGAPIXELS: z.coerce.number().positive().max(268).default(DEFAULT_IMAGE_LIMITS.maxInputPixels / 1e6),
  INKBOARD_IMAGE_MAX_DIMENSION: z.coerce.number().int().min(64).max(16384).default(DEFAULT_IMAGE_LIMITS.maxDimension),
  INKBOARD_IMAGE_BOARD_QUOTA_MB: z.coerce.number().positive().default(DEFAULT_IMAGE_LIMITS.boardQuotaBytes / MIB),
  INKBOARD_IMAGE_USER_QUOTA_MB: z.coerce.number().positive().default(DEFAULT_IMAGE_LIMITS.uploaderQuotaBytes / MIB),
  INKBOARD_IMAGE_UPLOADS_PER_MINUTE: z.coerce.number().positive().default(DEFAULT_IMAGE_LIMITS.uploadsPerMinute),
  INKBOARD_IMAGE_DECODERS: z.coerce.number().int().min(1).max(64).default(DEFAULT_IMAGE_LIMITS.decoders),
  INKBOARD_IMAGE_GRACE_MINUTES: z.coerce.number().positive().default(DEFAULT_IMAGE_LIMITS.unusedGraceMs / 60_000),
  INKBOARD_EXPORT_IMAGES_MB: z.coerce.number().min(0).default(DEFAULT_IMAGE_LIMITS.exportImageBytes / MIB),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Everything the server needs to start; tests build one directly. */
export interface Config {
  port: number;
  host: string;
  /** SQLite file; its folder is created on start. `:memory:` is refused: edits must be durable. */
  dbPath: string;
  /** PostgreSQL instead of SQLite (several processes share it). */
  databaseUrl: string | null;
  /** Redis for fan-out between several processes; null: one process, boards shared in memory. */
  redisUrl: string | null;
  /** Prefix of every Redis key and channel (several deployments can share one Redis). */
  redisPrefix: string;
  /** Length of a board tick: events of one tick reach each subscriber as one frame. */
  tickMs: number;
  /**
   * The tick while the event loop is busy (boards/tickPace.ts): fewer frames when writing them is
   * what the process is short of. Unset or not longer than `tickMs`: the tick never changes.
   */
  tickLoadedMs?: number;
  /** Ops kept per board for resume and de-duplication; older clients get a snapshot. */
  opLogRetention: number;
  /** Built web app to serve at `/`; not served when missing. */
  webDist: string | null;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** Address people use to reach the server; an https one makes the session cookie Secure. */
  publicUrl: string | null;
  /** Origins (besides the server's own) whose pages may open a cookie-authenticated WebSocket. */
  allowedOrigins: string[];
  /** scrypt cost is 2^scryptLogN (17 = OWASP's recommendation). */
  scryptLogN: number;
  sessionIdleMs: number;
  sessionMaxMs: number;
  /** WebSocket upgrades allowed per client address per minute (burst). */
  upgradesPerMinute: number;
  /** Who may read `/metrics` (plugins/metrics.ts): `local` (default: loopback, not proxied), `public` or `off`. */
  metrics?: MetricsMode;
  /** With it, `Authorization: Bearer <token>` reads `/metrics` from anywhere (mode `local`). */
  metricsToken?: string | null;
  /** A request must arrive whole (headers and body) within this; then 408 and closed. */
  httpRequestTimeoutMs: number;
  /** Headers must arrive within this (at most `httpRequestTimeoutMs`). */
  httpHeadersTimeoutMs: number;
  /** Open connections (HTTP and WebSocket) per client address; 0: no limit (behind a proxy, where all share one address). */
  connectionsPerAddress: number;
  /** Open connections in total, below the process's file-handle limit; more are closed at once. */
  maxConnections: number;
  /** Accounts created per minute from one address (burst the same). */
  signUpsPerAddressPerMinute: number;
  /** Accounts created per minute in total (burst the same). */
  signUpsPerMinute: number;
  /** Password hashes (scrypt) computed at once. */
  hashConcurrency: number;
  /** Password hashes waiting for a turn; more are refused with TOO_MANY_REQUESTS. */
  hashQueue: number;
  /** A WebSocket must be signed in (connection params checked) within this, else it is closed (4400). */
  wsHandshakeMs: number;
  /** Bytes a WebSocket may send before it is signed in; more closes it (4400). */
  wsHandshakeBytes: number;
  /** Board subscriptions (`board.onEvents`) per WebSocket. */
  wsSubscriptionsPerSocket: number;
  /** Largest unsent buffer of one WebSocket (snapshots draining included); past it, close 4408. */
  wsMaxSocketUnsentBytes: number;
  /** Unsent bytes of all WebSockets together; past it, the sockets holding most are closed (4408). */
  wsMaxTotalUnsentBytes: number;
  /** Render pool budgets (exports, previews; render/limits.ts); left out: the defaults. */
  render?: Partial<RenderLimits>;
  /** Bytes of board snapshots one person's subscriptions may receive a second (bursts of twice that); left out: 64 MiB. */
  snapshotBytesPerSecond?: number;
  /** Budgets by size: per board, per owner, per op log (boards/budgets.ts); left out: the defaults. */
  budgets?: Partial<BoardBudgets>;
  /** Uploaded images: sizes, quotas, upload rate, decoders, clean-up (files/images.ts); left out: the defaults. */
  images?: Partial<ImageLimits>;
  /** Version history: checkpoints, retention, cache (boards/VersionService.ts); left out: the defaults. */
  history?: Partial<VersionSettings>;
  /** Public links and guests (auth/GuestService.ts); left out: the defaults. */
  guests?: Partial<GuestOptions>;
}

/** Reads the environment; a bad value stops the server with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dbPath: e.INKBOARD_DB,
    databaseUrl: e.DATABASE_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    redisPrefix: e.INKBOARD_REDIS_PREFIX,
    tickMs: e.INKBOARD_TICK_MS,
    tickLoadedMs: e.INKBOARD_TICK_LOADED_MS,
    opLogRetention: e.INKBOARD_OPLOG_RETENTION,
    webDist: e.INKBOARD_WEB_DIST ?? null,
    logLevel: e.LOG_LEVEL,
    publicUrl: e.INKBOARD_PUBLIC_URL ?? null,
    allowedOrigins: (e.INKBOARD_ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    scryptLogN: e.INKBOARD_SCRYPT_LOG_N,
    sessionIdleMs: e.INKBOARD_SESSION_IDLE_HOURS * 3_600_000,
    sessionMaxMs: e.INKBOARD_SESSION_MAX_HOURS * 3_600_000,
    upgradesPerMinute: e.INKBOARD_UPGRADES_PER_MINUTE,
    metrics: e.INKBOARD_METRICS,
    metricsToken: e.INKBOARD_METRICS_TOKEN ?? null,
    httpRequestTimeoutMs: e.INKBOARD_HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
    httpHeadersTimeoutMs: Math.min(e.INKBOARD_HTTP_HEADERS_TIMEOUT_SECONDS, e.INKBOARD_HTTP_REQUEST_TIMEOUT_SECONDS) * 1000,
    connectionsPerAddress: e.INKBOARD_CONNECTIONS_PER_ADDRESS,
    maxConnections: e.INKBOARD_MAX_CONNECTIONS ?? defaultMaxConnections(),
    signUpsPerAddressPerMinute: e.INKBOARD_SIGNUPS_PER_ADDRESS_PER_MINUTE,
    signUpsPerMinute: e.INKBOARD_SIGNUPS_PER_MINUTE,
    hashConcurrency: e.INKBOARD_HASH_CONCURRENCY ?? defaultHashConcurrency(),
    hashQueue: e.INKBOARD_HASH_QUEUE,
    wsHandshakeMs: e.INKBOARD_WS_HANDSHAKE_SECONDS * 1000,
    wsHandshakeBytes: e.INKBOARD_WS_HANDSHAKE_BYTES,
    wsSubscriptionsPerSocket: e.INKBOARD_WS_SUBSCRIPTIONS,
    wsMaxSocketUnsentBytes: Math.round(e.INKBOARD_WS_UNSENT_PER_SOCKET_MIB * 1024 * 1024),
    wsMaxTotalUnsentBytes: Math.round(e.INKBOARD_WS_UNSENT_TOTAL_MIB * 1024 * 1024),
    render: {
      threads: e.INKBOARD_RENDER_THREADS,
      timeoutMs: Math.round(e.INKBOARD_RENDER_TIMEOUT_SECONDS * 1000),
      heapMb: e.INKBOARD_RENDER_HEAP_MB,
      maxQueue: e.INKBOARD_RENDER_QUEUE,
      perUser: e.INKBOARD_RENDER_PER_USER,
      cacheBytes: Math.round(e.INKBOARD_RENDER_CACHE_MB * 1024 * 1024),
      maxSvgBytes: Math.round(e.INKBOARD_EXPORT_MAX_SVG_MB * 1024 * 1024),
      maxPngPixels: Math.round(e.INKBOARD_EXPORT_MAX_MEGAPIXELS * 1024 * 1024),
      snapshotInlineBytes: Math.round(e.INKBOARD_SNAPSHOT_INLINE_KB * 1024),
      snapshotCacheBytes: Math.round(e.INKBOARD_SNAPSHOT_CACHE_MB * 1024 * 1024),
      maxImageBytes: Math.round(e.INKBOARD_EXPORT_IMAGES_MB * MIB),
    },
    snapshotBytesPerSecond: Math.round(e.INKBOARD_SNAPSHOT_MB_PER_SECOND * 1024 * 1024),
    budgets: {
      maxPoints: e.INKBOARD_BOARD_MAX_POINTS,
      maxBytes: Math.round(e.INKBOARD_BOARD_MAX_MB * MIB),
      maxOwnedBoards: e.INKBOARD_USER_MAX_BOARDS,
      ownerQuotaBytes: Math.round(e.INKBOARD_USER_QUOTA_MB * MIB),
      opLogMaxBytes: Math.round(e.INKBOARD_OPLOG_MAX_MB * MIB),
    },
    images: {
      maxFileBytes: Math.round(e.INKBOARD_IMAGE_MAX_MB * MIB),
      maxInputPixels: Math.round(e.INKBOARD_IMAGE_MAX_MEGAPIXELS * 1e6),
      maxDimension: e.INKBOARD_IMAGE_MAX_DIMENSION,
      boardQuotaBytes: Math.round(e.INKBOARD_IMAGE_BOARD_QUOTA_MB * MIB),
      uploaderQuotaBytes: Math.round(e.INKBOARD_IMAGE_USER_QUOTA_MB * MIB),
      uploadsPerMinute: e.INKBOARD_IMAGE_UPLOADS_PER_MINUTE,
      decoders: e.INKBOARD_IMAGE_DECODERS,
      unusedGraceMs: Math.round(e.INKBOARD_IMAGE_GRACE_MINUTES * 60_000),
    },
    history: {
      checkpointEvery: e.INKBOARD_HISTORY_CHECKPOINT_OPS,
      keepAllMs: Math.round(e.INKBOARD_HISTORY_KEEP_ALL_DAYS * 86_400_000),
      stateCacheBytes: Math.round(e.INKBOARD_HISTORY_CACHE_MB * MIB),
      maxBytes: Math.round(e.INKBOARD_HISTORY_MAX_MB * MIB),
    },
    guests: { maxGuestsPerBoard: e.INKBOARD_GUESTS_PER_BOARD, joinsPerAddressPerMinute: e.INKBOARD_GUEST_JOINS_PER_ADDRESS_PER_MINUTE },
  };
}
