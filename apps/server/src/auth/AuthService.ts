import { TRPCError } from '@trpc/server';
import { newId, TOKEN_PREFIX, type User } from '@inkboard/protocol';
import type { Storage, TokenRecord, UserRecord } from '../storage/Storage.js';
import { colorFor } from '../trpc/context.js';
import { SignInLimiter } from './RateLimiter.js';
import { PasswordHasher, randomSecret, sha256, type HashQueueOptions, type ScryptParams } from './secrets.js';
import { TokenBuckets } from './TokenBucket.js';
import { addressKey } from '../plugins/httpGuard.js';

export interface AuthOptions {
  scrypt: ScryptParams;
  /** A session unused this long ends. */
  sessionIdleMs: number;
  /** A session ends this long after sign-in, used or not. */
  sessionMaxMs: number;
  /** Password hashes computed at once and waiting (secrets.ts). */
  hashing: HashQueueOptions;
  /** Accounts created per minute from one address and in total (token buckets, burst = one minute's worth). */
  signUps: { perAddressPerMinute: number; perMinute: number };
}

export interface SignedIn {
  user: User & { username: string };
  /** The cookie value; the database keeps only its hash. */
  sessionId: string;
  expiresAt: number;
  /** Hashes of the user's oldest sessions ended to stay within `MAX_SESSIONS_PER_USER` (close their sockets). */
  ended: string[];
}

/** How a request proved who it is. */
export type Credential = { kind: 'session'; idHash: string; expiresAt: number } | { kind: 'token'; tokenId: string } | { kind: 'guest'; guestId: string };

const WRONG = 'Wrong username or password.';
/** API tokens one user may hold at once. */
export const MAX_TOKENS_PER_USER = 100;
/** Sessions one user may have at once; a sign-in beyond ends the least recently used. */
export const MAX_SESSIONS_PER_USER = 50;
/** Throttle of session "last seen" writes. */
const TOUCH_EVERY_MS = 60_000;

/** Accounts, sessions and API tokens. */
export class AuthService {
  /** Failed password checks (sign-in, change of password): back-off per account and address (RateLimiter.ts). */
  private readonly signIns = new SignInLimiter();
  /** A real hash to verify against when the username does not exist, so timing does not tell. */
  private decoy: Promise<string> | null = null;
  /** Every scrypt of the server goes through it: a bounded queue, sign-ins first. */
  readonly hasher: PasswordHasher;
  private readonly signUpsPerAddress: TokenBuckets;
  /** Finds a guest by its secret (set by buildApp from GuestService, issue 18); the HTTP routes take guests through `identify`. */
  guestByToken: ((secret: string) => Promise<{ id: string; name: string; color: string } | null>) | null = null;
  private readonly signUpsTotal: TokenBuckets;

  constructor(
    private readonly storage: Storage,
    private readonly options: AuthOptions,
  ) {
    this.hasher = new PasswordHasher(options.scrypt, options.hashing);
    this.signUpsPerAddress = new TokenBuckets(options.signUps.perAddressPerMinute / 60, options.signUps.perAddressPerMinute);
    this.signUpsTotal = new TokenBuckets(options.signUps.perMinute / 60, options.signUps.perMinute);
  }

  /** `address` is the caller's (sign-ups are limited per address and in total before any hashing). */
  async signUp(username: string, password: string, name: string | undefined, address: string): Promise<SignedIn> {
    if (!this.signUpsPerAddress.take(addressKey(address))) {
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many new accounts from this address (at most ${this.options.signUps.perAddressPerMinute} a minute); try again in a minute.` });
    }
    if (!this.signUpsTotal.take('all')) {
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: 'Too many new accounts are being created right now; try again in a minute.' });
    }
    if (await this.storage.userByUsername(username)) {
      throw new TRPCError({ code: 'CONFLICT', message: `The username "${username}" is taken; choose another.` });
    }
    const passwordHash = await this.hasher.hash(password);
    const displayName = name ?? username;
    const row: UserRecord = { id: newId(16), username, passwordHash, name: displayName, color: colorFor(username), createdAt: Date.now() };
    if (!(await this.storage.insertUser(row))) throw new TRPCError({ code: 'CONFLICT', message: `The username "${username}" is taken; choose another.` });
    return this.startSession(row);
  }

  async signIn(username: string, password: string, address: string): Promise<SignedIn> {
    const row = await this.checkPassword(username, password, address, () => new TRPCError({ code: 'UNAUTHORIZED', message: WRONG }));
    return this.startSession(row);
  }

  /**
   * Checks a password under the sign-in limits (RateLimiter.ts); throws TOO_MANY_REQUESTS while the
   * caller must wait, `wrong()` when the password (or the username) is not right.
   */
  private async checkPassword(username: string, password: string, address: string, wrong: () => TRPCError): Promise<UserRecord> {
    const wait = this.signIns.retryAfter(username, address);
    if (wait.ms > 0) {
      const seconds = Math.ceil(wait.ms / 1000);
      const when = seconds >= 120 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} second${seconds === 1 ? '' : 's'}`;
      const why = wait.reason === 'address' ? 'from this address' : 'for this account from this address';
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many failed sign-ins ${why}. Try again in ${when}.`, cause: new RetryAfter(seconds) });
    }
    // Counted as a failure before the (slow) check, so that concurrent guesses cannot all pass the
    // limit above while their hashes are computed; a right password takes it back.
    const attempt = this.signIns.attempt(username, address);
    let row: UserRecord | undefined;
    let ok: boolean;
    try {
      row = await this.storage.userByUsername(username);
      // The decoy is made when first needed (an unknown username), ahead of sign-ups; again if the queue was full.
      const stored =
        row?.passwordHash ??
        (await (this.decoy ??= this.hasher.hash('decoy-password', 'high').catch((err: unknown) => {
          this.decoy = null;
          throw err;
        })));
      ok = await this.hasher.verify(password, stored);
    } catch (err) {
      attempt.cancel(); // not a wrong password (e.g. the hash queue is full): not counted
      throw err;
    }
    if (!row || !ok) throw wrong();
    attempt.succeeded();
    return row;
  }

  /**
   * Changes the password after checking the current one (under the sign-in limits), and ends every
   * other session of the user. Returns the ended sessions' hashes, so their sockets can be closed.
   * API tokens stay valid (`signOutEverywhere` ends them too).
   */
  async changePassword(user: { id: string; username: string }, currentPassword: string, newPassword: string, address: string, keepIdHash?: string): Promise<string[]> {
    const row = await this.checkPassword(user.username, currentPassword, address, () => new TRPCError({ code: 'FORBIDDEN', message: 'Your current password is not right; type it again (the password is unchanged).' }));
    if (row.id !== user.id) throw new TRPCError({ code: 'NOT_FOUND', message: 'This account no longer exists.' });
    const passwordHash = await this.hasher.hash(newPassword, 'high');
    if (!(await this.storage.setPasswordHash(user.id, passwordHash))) throw new TRPCError({ code: 'NOT_FOUND', message: 'This account no longer exists.' });
    return this.storage.deleteSessionsOf(user.id, keepIdHash);
  }

  /** Ends every session and revokes every API token of the user; returns what ended, so their sockets can be closed. */
  async signOutEverywhere(userId: string): Promise<{ sessions: string[]; tokens: string[] }> {
    const sessions = await this.storage.deleteSessionsOf(userId);
    const tokens = await this.storage.deleteTokensOf(userId);
    return { sessions, tokens };
  }

  /** Ends a session (sign-out). Returns its hash so its sockets can be closed. */
  async signOut(sessionId: string): Promise<string> {
    const idHash = sha256(sessionId);
    await this.storage.deleteSession(idHash);
    return idHash;
  }

  /** The signed-in user of a session cookie, or null when it is unknown or expired. */
  async userBySession(sessionId: string, now = Date.now()): Promise<{ user: User & { username: string }; credential: Credential } | null> {
    const idHash = sha256(sessionId);
    const found = await this.storage.sessionWithUser(idHash);
    if (!found) return null;
    const { session: s, user: u } = found;
    if (s.expiresAt <= now || s.lastSeenAt + this.options.sessionIdleMs <= now) {
      await this.storage.deleteSession(idHash);
      return null;
    }
    if (now - s.lastSeenAt > TOUCH_EVERY_MS) await this.storage.touchSession(idHash, now);
    return { user: toUser(u), credential: { kind: 'session', idHash, expiresAt: Math.min(s.expiresAt, now + this.options.sessionIdleMs) } };
  }

  /** The user an API token acts as, or null. */
  async userByToken(token: string, now = Date.now()): Promise<{ user: User & { username: string }; credential: Credential } | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const found = await this.storage.tokenWithUser(sha256(token));
    if (!found) return null;
    const { token: t, user: u } = found;
    if (!t.lastUsedAt || now - t.lastUsedAt > TOUCH_EVERY_MS) await this.storage.touchToken(t.id, now);
    return { user: toUser(u), credential: { kind: 'token', tokenId: t.id } };
  }

  async updateProfile(userId: string, patch: { name?: string; color?: string }): Promise<User & { username: string }> {
    const row = await this.storage.updateUser(userId, patch);
    if (!row) throw new TRPCError({ code: 'NOT_FOUND', message: 'This account no longer exists.' });
    return toUser(row);
  }

  /** A new API token: the full value is returned once, only its hash is kept. */
  async createToken(userId: string, name: string) {
    if ((await this.storage.tokensOf(userId)).length >= MAX_TOKENS_PER_USER) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: `You already have ${MAX_TOKENS_PER_USER} API tokens, the most allowed: revoke ones you no longer use first.` });
    }
    const token = `${TOKEN_PREFIX}${randomSecret(32)}`;
    const row: TokenRecord = { id: newId(16), userId, name, prefix: token.slice(0, TOKEN_PREFIX.length + 6), tokenHash: sha256(token), createdAt: Date.now(), lastUsedAt: null };
    await this.storage.insertToken(row);
    return { token, ...publicToken(row) };
  }

  async listTokens(userId: string) {
    return (await this.storage.tokensOf(userId)).map(publicToken);
  }

  /** Deletes a token of the user; NOT_FOUND when it is not theirs. */
  async revokeToken(userId: string, tokenId: string): Promise<void> {
    if (!(await this.storage.deleteToken(userId, tokenId))) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such token among yours (it may already be revoked).' });
  }

  /** Removes expired sessions. */
  async pruneSessions(now = Date.now()): Promise<number> {
    return this.storage.deleteExpiredSessions(now, this.options.sessionIdleMs);
  }

  private async startSession(row: UserRecord): Promise<SignedIn> {
    const sessionId = randomSecret(32);
    const now = Date.now();
    const expiresAt = now + this.options.sessionMaxMs;
    const idHash = sha256(sessionId);
    await this.storage.insertSession({ idHash, userId: row.id, createdAt: now, lastSeenAt: now, expiresAt });
    const ended = await this.storage.trimSessionsOf(row.id, MAX_SESSIONS_PER_USER, idHash);
    return { user: toUser(row), sessionId, expiresAt, ended };
  }
}

function toUser(row: UserRecord): User & { username: string } {
  return { id: row.id, username: row.username, name: row.name, color: row.color };
}

function publicToken(row: TokenRecord) {
  return { id: row.id, name: row.name, prefix: row.prefix, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt };
}

/** Carried as a TOO_MANY_REQUESTS error's cause: seconds after which the caller may retry (the Retry-After header). */
export class RetryAfter extends Error {
  constructor(readonly seconds: number) {
    super(`retry after ${seconds} s`);
  }
}
