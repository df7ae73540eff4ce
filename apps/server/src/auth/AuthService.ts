import { TRPCError } from '@trpc/server';
import { newId, TOKEN_PREFIX, type User } from '@inkboard/protocol';
import type { Storage, TokenRecord, UserRecord } from '../storage/Storage.js';
import { colorFor } from '../trpc/context.js';
import { FailureLimiter } from './RateLimiter.js';
import { hashPassword, randomSecret, sha256, verifyPassword, type ScryptParams } from './secrets.js';

export interface AuthOptions {
  scrypt: ScryptParams;
  /** A session unused this long ends. */
  sessionIdleMs: number;
  /** A session ends this long after sign-in, used or not. */
  sessionMaxMs: number;
}

export interface SignedIn {
  user: User & { username: string };
  /** The cookie value; the database keeps only its hash. */
  sessionId: string;
  expiresAt: number;
}

/** How a request proved who it is. */
export type Credential = { kind: 'session'; idHash: string; expiresAt: number } | { kind: 'token'; tokenId: string };

const WRONG = 'Wrong username or password.';
const WINDOW_MS = 15 * 60_000;
/** Throttle of session "last seen" writes. */
const TOUCH_EVERY_MS = 60_000;

/** Accounts, sessions and API tokens. */
export class AuthService {
  private readonly perAccount = new FailureLimiter(5, WINDOW_MS);
  private readonly perAddress = new FailureLimiter(30, WINDOW_MS);
  /** A real hash to verify against when the username does not exist, so timing does not tell. */
  private decoy: Promise<string> | null = null;

  constructor(
    private readonly storage: Storage,
    private readonly options: AuthOptions,
  ) {}

  async signUp(username: string, password: string, name?: string): Promise<SignedIn> {
    if (await this.storage.userByUsername(username)) {
      throw new TRPCError({ code: 'CONFLICT', message: `The username "${username}" is taken; choose another.` });
    }
    const passwordHash = await hashPassword(password, this.options.scrypt);
    const displayName = name ?? username;
    const row: UserRecord = { id: newId(16), username, passwordHash, name: displayName, color: colorFor(username), createdAt: Date.now() };
    if (!(await this.storage.insertUser(row))) throw new TRPCError({ code: 'CONFLICT', message: `The username "${username}" is taken; choose another.` });
    return this.startSession(row);
  }

  async signIn(username: string, password: string, address: string): Promise<SignedIn> {
    const wait = Math.max(this.perAccount.retryAfter(username), this.perAddress.retryAfter(address));
    if (wait > 0) {
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many failed sign-ins. Try again in ${Math.ceil(wait / 60_000)} minute(s).` });
    }
    // Counted as a failure before the (slow) check, so that concurrent guesses cannot all pass the
    // limit above while their hashes are computed; a right password takes it back.
    this.perAccount.fail(username);
    const forgiveAddress = this.perAddress.fail(address);
    const row = await this.storage.userByUsername(username);
    this.decoy ??= hashPassword('decoy-password', this.options.scrypt);
    const ok = await verifyPassword(password, row?.passwordHash ?? (await this.decoy));
    if (!row || !ok) throw new TRPCError({ code: 'UNAUTHORIZED', message: WRONG });
    this.perAccount.reset(username);
    forgiveAddress();
    return this.startSession(row);
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
    await this.storage.insertSession({ idHash: sha256(sessionId), userId: row.id, createdAt: now, lastSeenAt: now, expiresAt });
    return { user: toUser(row), sessionId, expiresAt };
  }
}

function toUser(row: UserRecord): User & { username: string } {
  return { id: row.id, username: row.username, name: row.name, color: row.color };
}

function publicToken(row: TokenRecord) {
  return { id: row.id, name: row.name, prefix: row.prefix, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt };
}
