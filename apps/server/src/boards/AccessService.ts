import { TRPCError } from '@trpc/server';
import { and, desc, eq } from 'drizzle-orm';
import { newId, ROLE_RANK, type Role } from '@inkboard/protocol';
import { randomSecret, sha256 } from '../auth/secrets.js';
import { boardMembers, boards, shareLinks, users } from '../db/schema.js';
import type { Db } from '../plugins/db.js';
import type { BoardHub } from './BoardHub.js';

/** How long a looked-up role is trusted; every change on this process forgets it at once. */
const ROLE_CACHE_MS = 5_000;

/** Roles on boards, members and share links. Every board procedure asks `require` first. */
export class AccessService {
  /** Role lookups happen on every call (cursor moves at 30 Hz per person): keep them off SQLite. */
  private readonly roles = new Map<string, { role: Role | null; at: number }>();

  constructor(
    private readonly db: Db,
    private readonly hub: BoardHub,
  ) {}

  roleOf(boardId: string, userId: string, now = Date.now()): Role | null {
    const key = `${boardId}\u0000${userId}`;
    const cached = this.roles.get(key);
    if (cached && now - cached.at < ROLE_CACHE_MS) return cached.role;
    const role =
      this.db
        .select({ role: boardMembers.role })
        .from(boardMembers)
        .where(and(eq(boardMembers.boardId, boardId), eq(boardMembers.userId, userId)))
        .get()?.role ?? null;
    if (this.roles.size > 50_000) this.roles.clear();
    this.roles.set(key, { role, at: now });
    return role;
  }

  /** Forgets cached roles of a board (after any membership change or deletion). */
  forget(boardId: string): void {
    const prefix = `${boardId}\u0000`;
    for (const key of this.roles.keys()) if (key.startsWith(prefix)) this.roles.delete(key);
  }

  /** The caller's role when it is at least `least`; NOT_FOUND for a missing board, FORBIDDEN otherwise. */
  require(boardId: string, userId: string, least: Role): Role {
    const role = this.roleOf(boardId, userId);
    if (role === null) {
      const exists = this.db.select({ id: boards.id }).from(boards).where(eq(boards.id, boardId)).get();
      if (!exists) throw new TRPCError({ code: 'NOT_FOUND', message: `Board "${boardId}" does not exist (it may have been deleted).` });
      throw new TRPCError({ code: 'FORBIDDEN', message: 'You do not have access to this board. Ask its owner for a share link.' });
    }
    if (ROLE_RANK[role] < ROLE_RANK[least]) {
      const what = least === 'owner' ? 'Only the board owner can do this.' : 'You can view this board but not edit it (viewer).';
      throw new TRPCError({ code: 'FORBIDDEN', message: what });
    }
    return role;
  }

  /** The caller's boards, owned and shared, most recently changed first. */
  boardsOf(userId: string) {
    return this.db
      .select({
        id: boards.id,
        title: boards.title,
        role: boardMembers.role,
        seq: boards.seq,
        elementCount: boards.elementCount,
        createdAt: boards.createdAt,
        updatedAt: boards.updatedAt,
        ownerId: boards.ownerId,
      })
      .from(boardMembers)
      .innerJoin(boards, eq(boardMembers.boardId, boards.id))
      .where(eq(boardMembers.userId, userId))
      .orderBy(desc(boards.updatedAt))
      .all();
  }

  addMember(boardId: string, userId: string, role: Role): void {
    this.db.insert(boardMembers).values({ boardId, userId, role, createdAt: Date.now() }).onConflictDoNothing().run();
    this.forget(boardId);
  }

  members(boardId: string) {
    return this.db
      .select({ userId: users.id, username: users.username, name: users.name, color: users.color, role: boardMembers.role })
      .from(boardMembers)
      .innerJoin(users, eq(boardMembers.userId, users.id))
      .where(eq(boardMembers.boardId, boardId))
      .all();
  }

  setRole(boardId: string, userId: string, role: 'editor' | 'viewer'): void {
    this.requireNonOwnerMember(boardId, userId);
    this.db.update(boardMembers).set({ role }).where(and(eq(boardMembers.boardId, boardId), eq(boardMembers.userId, userId))).run();
    this.forget(boardId);
    // A demoted editor keeps watching; their next edit is refused.
  }

  /** Removes a member; their open subscriptions of the board end at once. */
  removeMember(boardId: string, userId: string): void {
    this.requireNonOwnerMember(boardId, userId);
    this.db.delete(boardMembers).where(and(eq(boardMembers.boardId, boardId), eq(boardMembers.userId, userId))).run();
    this.forget(boardId);
    this.hub.revoke(boardId, userId);
  }

  createLink(boardId: string, role: 'editor' | 'viewer', createdBy: string) {
    const code = randomSecret(18);
    const row = this.db.insert(shareLinks).values({ id: newId(12), boardId, role, codeHash: sha256(code), createdBy, createdAt: Date.now() }).returning().get();
    return { id: row.id, role: row.role, createdAt: row.createdAt, code };
  }

  links(boardId: string) {
    return this.db
      .select({ id: shareLinks.id, role: shareLinks.role, createdAt: shareLinks.createdAt })
      .from(shareLinks)
      .where(eq(shareLinks.boardId, boardId))
      .all();
  }

  revokeLink(boardId: string, linkId: string): void {
    const gone = this.db.delete(shareLinks).where(and(eq(shareLinks.id, linkId), eq(shareLinks.boardId, boardId))).returning().get();
    if (!gone) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such share link on this board (it may already be revoked).' });
  }

  /** Joins the board of a share link with its role; a member keeps a higher role they already have. */
  acceptLink(code: string, userId: string): { boardId: string; role: Role } {
    const link = this.db.select().from(shareLinks).where(eq(shareLinks.codeHash, sha256(code))).get();
    if (!link) throw new TRPCError({ code: 'NOT_FOUND', message: 'This share link is not valid (it may have been revoked). Ask the owner for a new one.' });
    const current = this.roleOf(link.boardId, userId);
    if (current === null) this.addMember(link.boardId, userId, link.role);
    else if (ROLE_RANK[current] < ROLE_RANK[link.role]) {
      this.db.update(boardMembers).set({ role: link.role }).where(and(eq(boardMembers.boardId, link.boardId), eq(boardMembers.userId, userId))).run();
      this.forget(link.boardId);
    }
    return { boardId: link.boardId, role: this.roleOf(link.boardId, userId)! };
  }

  private requireNonOwnerMember(boardId: string, userId: string): void {
    const role = this.roleOf(boardId, userId);
    if (role === null) throw new TRPCError({ code: 'NOT_FOUND', message: 'That person is not a member of this board.' });
    if (role === 'owner') throw new TRPCError({ code: 'BAD_REQUEST', message: "The owner's role cannot be changed; delete the board instead." });
  }
}
