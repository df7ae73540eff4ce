import { z } from 'zod';

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
  INKBOARD_OPLOG_RETENTION: z.coerce.number().int().min(10).default(10_000),
  INKBOARD_WEB_DIST: z.string().optional(),
  INKBOARD_PUBLIC_URL: z.url().optional(),
  INKBOARD_ALLOWED_ORIGINS: z.string().optional(),
  INKBOARD_UPGRADES_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  INKBOARD_SCRYPT_LOG_N: z.coerce.number().int().min(10).max(20).default(17),
  INKBOARD_SESSION_IDLE_HOURS: z.coerce.number().positive().default(24 * 7),
  INKBOARD_SESSION_MAX_HOURS: z.coerce.number().positive().default(24 * 30),
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
    opLogRetention: e.INKBOARD_OPLOG_RETENTION,
    webDist: e.INKBOARD_WEB_DIST ?? null,
    logLevel: e.LOG_LEVEL,
    publicUrl: e.INKBOARD_PUBLIC_URL ?? null,
    allowedOrigins: (e.INKBOARD_ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    scryptLogN: e.INKBOARD_SCRYPT_LOG_N,
    sessionIdleMs: e.INKBOARD_SESSION_IDLE_HOURS * 3_600_000,
    sessionMaxMs: e.INKBOARD_SESSION_MAX_HOURS * 3_600_000,
    upgradesPerMinute: e.INKBOARD_UPGRADES_PER_MINUTE,
  };
}
