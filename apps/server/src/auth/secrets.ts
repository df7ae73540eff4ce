import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { TRPCError } from '@trpc/server';

/** Random URL-safe secret of `bytes` bytes (session ids: 32 bytes = 256 bits). */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** What the database keeps of a secret: its SHA-256, hex. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** OWASP's scrypt parameters: N=2^17, r=8, p=1 (128 MiB per hash). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, 32, { ...params, maxmem: 256 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/**
 * `scrypt$N$r$p$salt$hash`, salt and hash base64url. Unqueued: the server hashes through
 * `PasswordHasher`, which bounds how many run and wait.
 */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Checks a password against a stored hash, with the parameters stored in it (unqueued, see `hashPassword`). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * Hashes at once by default: half the cores (scrypt is CPU-bound, so more only queues inside libuv),
 * at most 4 (each N=2^17 hash holds 128 MiB), and always fewer than libuv's 4 threads, so file reads
 * (static files, exports) never wait behind a flood of hashes.
 */
export function defaultHashConcurrency(cores = availableParallelism()): number {
  return Math.max(1, Math.min(3, Math.floor(cores / 2)));
}

/**
 * Hashes allowed to wait for a turn by default; more are refused, never queued forever. 32 lets a
 * class of 30 sign in at once (the last waits about 13 s at one 0.4 s hash at a time).
 */
export const DEFAULT_HASH_QUEUE = 32;

export interface HashQueueOptions {
  /** Hashes computed at once. */
  concurrency: number;
  /** Hashes waiting for a turn; beyond that, TOO_MANY_REQUESTS. */
  maxWaiting: number;
}

/** What waits: sign-ins (`verify`) go before sign-ups (`hash`), so a sign-up flood cannot keep people out. */
type Priority = 'high' | 'low';

const BUSY = 'The server is busy checking passwords; retry in a few seconds.';

/**
 * Password hashing with its own bounded queue: at most `concurrency` scrypt computations at once
 * (libuv's thread pool stays free for file I/O) and at most `maxWaiting` waiting; a sign-in waits
 * ahead of every sign-up and may take a waiting sign-up's place when the queue is full.
 */
export class PasswordHasher {
  private running = 0;
  private readonly waiting: Record<Priority, { start: () => void; refuse: (err: Error) => void }[]> = { high: [], low: [] };

  constructor(
    private readonly params: ScryptParams,
    private readonly options: HashQueueOptions,
  ) {}

  /** A new hash of `password` with this server's parameters (a sign-up: low priority by default). */
  hash(password: string, priority: Priority = 'low'): Promise<string> {
    return this.run(priority, () => hashPassword(password, this.params));
  }

  /** Checks `password` against a stored hash (a sign-in: ahead of sign-ups). */
  verify(password: string, stored: string): Promise<boolean> {
    return this.run('high', () => verifyPassword(password, stored));
  }

  /** Hashes running and waiting (metrics, tests). */
  stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.high.length + this.waiting.low.length };
  }

  private async run<T>(priority: Priority, work: () => Promise<T>): Promise<T> {
    await this.turn(priority);
    try {
      return await work();
    } finally {
      this.running--;
      (this.waiting.high.shift() ?? this.waiting.low.shift())?.start();
    }
  }

  /** Resolves when this job may run (its slot counted in `running`); rejects with TOO_MANY_REQUESTS when the queue is full. */
  private turn(priority: Priority): Promise<void> {
    if (this.running < this.options.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    if (this.stats().waiting >= this.options.maxWaiting) {
      // A sign-in bumps the newest waiting sign-up (which can retry); otherwise the newcomer is refused.
      const bumped = priority === 'high' ? this.waiting.low.pop() : undefined;
      if (!bumped) return Promise.reject(busy());
      bumped.refuse(busy());
    }
    return new Promise((resolve, reject) => {
      this.waiting[priority].push({
        start: () => {
          this.running++;
          resolve();
        },
        refuse: reject,
      });
    });
  }
}

function busy(): TRPCError {
  return new TRPCError({ code: 'TOO_MANY_REQUESTS', message: BUSY });
}
