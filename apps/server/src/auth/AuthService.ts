import { TRPCError } from '@trpc/server';
import { and, eq, lt, or } from 'drizzle-orm';
import { newId, TOKEN_PREFIX, type User } from '@inkboard/protocol';
import { apiTokens, sessions, users, type UserRow } from '../db/schema.js';
import type { Db } from '../plugins/db.js';
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
    private readonly db: Db,
    private readonly options: AuthOptions,
  ) {}

  async signUp(username: string, password: string, name?: string): Promise<SignedIn> {
    if (this.db.select({ id: users.id }).from(users).where(eq(users.username, username)).get()) {
      throw new TRPCError({ code: 'CONFLICT', message: `The username "${username}" is taken; choose another.` });
    }
    const passwordHash = await hashPassword(password, this.options.scrypt);
    const displayName = name ?? username;
    const row = this.db
      .insert(users)
      .values({ id: newId(16), username, passwordHash, name: displayName, color: colorFor(username), createdAt: Date.now() })
      .onConflictDoNothing()
      .returning()
      .get();
    if (!row) throw new TRPCError({ code: 'CONFLICT', message: `The username "${username}" is taken; choose another.` });
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
    const row = this.db.select().from(users).where(eq(users.username, username)).get();
    this.decoy ??= hashPassword('decoy-password', this.options.scrypt);
    const ok = await verifyPassword(password, row?.passwordHash ?? (await this.decoy));
    if (!row || !ok) throw new TRPCError({ code: 'UNAUTHORIZED', message: WRONG });
    this.perAccount.reset(username);
    forgiveAddress();
    return this.startSession(row);
  }

  /** Ends a session (sign-out). Returns its hash so its sockets can be closed. */
  signOut(sessionId: string): string {
    const idHash = sha256(sessionId);
    this.db.delete(sessions).where(eq(sessions.idHash, idHash)).run();
    return idHash;
  }

  /** The signed-in user of a session cookie, or null when it is unknown or expired. */
  userBySession(sessionId: string, now = Date.now()): { user: User & { username: string }; credential: Credential } | null {
    const idHash = sha256(sessionId);
    const found = this.db.select().from(sessions).innerJoin(users, eq(sessions.userId, users.id)).where(eq(sessions.idHash, idHash)).get();
    if (!found) return null;
    const { sessions: s, users: u } = found;
    if (s.expiresAt <= now || s.lastSeenAt + this.options.sessionIdleMs <= now) {
      this.db.delete(sessions).where(eq(sessions.idHash, idHash)).run();
      return null;
    }
    if (now - s.lastSeenAt > TOUCH_EVERY_MS) this.db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.idHash, idHash)).run();
    return { user: toUser(u), credential: { kind: 'session', idHash, expiresAt: Math.min(s.expiresAt, now + this.options.sessionIdleMs) } };
  }

  /** The user an API token acts as, or null. */
  userByToken(token: string, now = Date.now()): { user: User & { username: string }; credential: Credential } | null {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const found = this.db.select().from(apiTokens).innerJoin(users, eq(apiTokens.userId, users.id)).where(eq(apiTokens.tokenHash, sha256(token))).get();
    if (!found) return null;
    const { api_tokens: t, users: u } = found;
    if (!t.lastUsedAt || now - t.lastUsedAt > TOUCH_EVERY_MS) this.db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, t.id)).run();
    return { user: toUser(u), credential: { kind: 'token', tokenId: t.id } };
  }

  updateProfile(userId: string, patch: { name?: string; color?: string }): User & { username: string } {
    const row = this.db.update(users).set(patch).where(eq(users.id, userId)).returning().get();
    if (!row) throw new TRPCError({ code: 'NOT_FOUND', message: 'This account no longer exists.' });
    return toUser(row);
  }

  /** A new API token: the full value is returned once, only its hash is kept. */
  createToken(userId: string, name: string) {
    const token = `${TOKEN_PREFIX}${randomSecret(32)}`;
    const row = this.db
      .insert(apiTokens)
      .values({ id: newId(16), userId, name, prefix: token.slice(0, TOKEN_PREFIX.length + 6), tokenHash: sha256(token), createdAt: Date.now() })
      .returning()
      .get();
    return { token, ...publicToken(row) };
  }

  listTokens(userId: string) {
    return this.db.select().from(apiTokens).where(eq(apiTokens.userId, userId)).all().map(publicToken);
  }

  /** Deletes a token of the user; NOT_FOUND when it is not theirs. */
  revokeToken(userId: string, tokenId: string): void {
    const gone = this.db.delete(apiTokens).where(and(eq(apiTokens.id, tokenId), eq(apiTokens.userId, userId))).returning().get();
    if (!gone) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such token among yours (it may already be revoked).' });
  }

  /** Removes expired sessions. */
  pruneSessions(now = Date.now()): void {
    this.db
      .delete(sessions)
      .where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, now - this.options.sessionIdleMs)))
      .run();
  }

  private startSession(row: UserRow): SignedIn {
    const sessionId = randomSecret(32);
    const now = Date.now();
    const expiresAt = now + this.options.sessionMaxMs;
    this.db.insert(sessions).values({ idHash: sha256(sessionId), userId: row.id, createdAt: now, lastSeenAt: now, expiresAt }).run();
    return { user: toUser(row), sessionId, expiresAt };
  }
}

function toUser(row: UserRow): User & { username: string } {
  return { id: row.id, username: row.username, name: row.name, color: row.color };
}

function publicToken(row: typeof apiTokens.$inferSelect) {
  return { id: row.id, name: row.name, prefix: row.prefix, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt };
}
