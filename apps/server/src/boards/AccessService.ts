import { TRPCError } from '@trpc/server';
import { isGuestId, newId, ROLE_RANK, type Role } from '@inkboard/protocol';
import { randomSecret, sha256 } from '../auth/secrets.js';
import type { Storage } from '../storage/Storage.js';
import type { BoardHub } from './BoardHub.js';

/**
 * How long a looked-up role is trusted. Every change forgets it at once on every process (through
 * the hub's `access-changed` signal), so this only bounds the damage of a lost signal.
 */
const ROLE_CACHE_MS = 5_000;
/**
 * A cached role used this close to its end is looked up again in the background (`cachedRole`), so
 * that a connection sending cursors at 30 Hz keeps its role in the cache instead of taking the
 * asynchronous way every 5 s (120 database lookups a second at 600 people, issue 19). The role in
 * use is never older than ROLE_CACHE_MS.
 */
const ROLE_REFRESH_MS = 4_000;
/** Share links one board may have at once (revoke old ones to make more). */
export const MAX_LINKS_PER_BOARD = 100;

/** Why a guest is refused: their link ended or they were removed (the web shows it as is). */
export const GUEST_OUT = 'Your guest access to this board ended: the owner turned its public link off or made a new one, or removed you. Ask them for the current link.';

const REMOVED = 'The owner removed you from this board; ask them to invite you again.';

/** Roles on boards, members and share links. Every board procedure asks `require` first. */
export class AccessService {
  /**
   * Role lookups happen on every call (cursor moves at 30 Hz per person): keep them off the database.
   * By board, then user (no key string made per lookup); `cachedRoles` counts the entries.
   */
  private readonly roles = new Map<string, Map<string, { role: Role | null; at: number; refreshing?: true }>>();
  private cachedRoles = 0;
  /** Counts `forgetLocal` calls: a lookup that a forget overtook caches nothing (it may have read the old role). */
  private forgets = 0;

  constructor(
    private readonly storage: Storage,
    private readonly hub: BoardHub,
  ) {
    hub.onSignal((signal) => {
      if (signal.type === 'access-changed' || signal.type === 'revoke') this.forgetLocal(signal.boardId);
    });
  }

  /** A guest's role on a board (auth/GuestService.ts sets it); guests' ids start with GUEST_ID_PREFIX. */
  guestRole: (boardId: string, guestId: string) => Promise<Role | null> = async () => null;

  async roleOf(boardId: string, userId: string, now = Date.now()): Promise<Role | null> {
    const cached = this.roles.get(boardId)?.get(userId);
    if (cached && now - cached.at < ROLE_CACHE_MS) return cached.role;
    return this.lookUp(boardId, userId, now);
  }

  /** Reads the role from the database (or the guest's link) and caches it as of `now`. */
  private async lookUp(boardId: string, userId: string, now: number): Promise<Role | null> {
    const forgets = this.forgets;
    const role = isGuestId(userId) ? await this.guestRole(boardId, userId) : await this.storage.roleOf(boardId, userId);
    if (forgets !== this.forgets) return role;
    if (this.cachedRoles > 50_000) {
      this.roles.clear();
      this.cachedRoles = 0;
    }
    let board = this.roles.get(boardId);
    if (!board) this.roles.set(boardId, (board = new Map()));
    if (!board.has(userId)) this.cachedRoles++;
    board.set(userId, { role, at: now });
    return role;
  }

  /**
   * The role as cached, without waiting: undefined when it is not cached (or too old), so the caller
   * takes the asynchronous way (`require`). Null: cached as no access.
   */
  cachedRole(boardId: string, userId: string, now = Date.now()): Role | null | undefined {
    const cached = this.roles.get(boardId)?.get(userId);
    if (!cached) return undefined;
    const age = now - cached.at;
    if (age >= ROLE_CACHE_MS) return undefined;
    // Once per entry: the lookup replaces it; a failed one leaves it to expire.
    if (age >= ROLE_REFRESH_MS && !cached.refreshing) {
      cached.refreshing = true;
      this.lookUp(boardId, userId, now).catch(() => {});
    }
    return cached.role;
  }

  /** Forgets cached roles of a board on every process (after any membership change or deletion). */
  forget(boardId: string): void {
    this.hub.signal({ type: 'access-changed', boardId });
  }

  private forgetLocal(boardId: string): void {
    this.forgets++;
    this.cachedRoles -= this.roles.get(boardId)?.size ?? 0;
    this.roles.delete(boardId);
  }

  /** The caller's role when it is at least `least`; NOT_FOUND for a missing board, FORBIDDEN otherwise. */
  async require(boardId: string, userId: string, least: Role): Promise<Role> {
    const role = await this.roleOf(boardId, userId);
    if (role === null) {
      if ((await this.storage.boardSeq(boardId)) === undefined) {
        throw new TRPCError({ code: 'NOT_FOUND', message: `Board "${boardId}" does not exist (it may have been deleted).` });
      }
      if (isGuestId(userId)) throw new TRPCError({ code: 'FORBIDDEN', message: GUEST_OUT });
      throw new TRPCError({ code: 'FORBIDDEN', message: 'You do not have access to this board. Ask its owner for a share link.' });
    }
    const refusal = roleTooLow(role, least);
    if (refusal) throw refusal;
    return role;
  }

  /** The caller's boards, owned and shared, most recently changed first. */
  boardsOf(userId: string) {
    return this.storage.boardsOf(userId);
  }

  async addMember(boardId: string, userId: string, role: Role): Promise<void> {
    await this.storage.addMember(boardId, userId, role, Date.now());
    this.forget(boardId);
  }

  members(boardId: string) {
    return this.storage.members(boardId);
  }

  async setRole(boardId: string, userId: string, role: 'editor' | 'viewer'): Promise<void> {
    await this.requireNonOwnerMember(boardId, userId);
    await this.storage.setRole(boardId, userId, role);
    this.forget(boardId);
    // A demoted editor keeps watching; their next edit is refused.
  }

  /**
   * Removes a member; their open subscriptions of the board end at once, on every process. When the
   * owner removes them (`byOwner`), it is recorded: no share link lets them back in until the owner
   * readmits them. A member who leaves may come back by link.
   */
  async removeMember(boardId: string, userId: string, options: { byOwner?: boolean } = {}): Promise<void> {
    await this.requireNonOwnerMember(boardId, userId);
    if (options.byOwner) await this.storage.recordRemoval(boardId, userId, Date.now());
    await this.storage.removeMember(boardId, userId);
    this.hub.revoke(boardId, userId);
  }

  /** People the owner removed (who cannot rejoin by link), most recent first. */
  removed(boardId: string) {
    return this.storage.removals(boardId);
  }

  /** Lets a removed person back in, directly, with `role`; links work for them again afterwards. */
  async readmit(boardId: string, userId: string, role: 'editor' | 'viewer'): Promise<void> {
    if (!(await this.storage.clearRemoval(boardId, userId))) {
      throw new TRPCError({ code: 'NOT_FOUND', message: 'That person was not removed from this board (they may already be back).' });
    }
    if ((await this.storage.roleOf(boardId, userId)) === null) await this.addMember(boardId, userId, role);
  }

  /** A new link; `expiresInHours` and `maxUses` bound when and how often it works. The code is returned this once. */
  async createLink(boardId: string, role: 'editor' | 'viewer', createdBy: string, limits: { expiresInHours?: number | undefined; maxUses?: number | undefined } = {}) {
    if ((await this.storage.linksOf(boardId)).length >= MAX_LINKS_PER_BOARD) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: `This board already has ${MAX_LINKS_PER_BOARD} share links, the most allowed (expired and used-up ones count too): revoke ones you no longer need first.` });
    }
    const code = randomSecret(18);
    const createdAt = Date.now();
    const expiresAt = limits.expiresInHours === undefined ? null : createdAt + Math.round(limits.expiresInHours * 3_600_000);
    const link = { id: newId(12), boardId, role, codeHash: sha256(code), createdBy, createdAt, expiresAt, maxUses: limits.maxUses ?? null, uses: 0 };
    await this.storage.insertLink(link);
    return { id: link.id, role: link.role, createdAt, expiresAt, maxUses: link.maxUses, uses: 0, code };
  }

  links(boardId: string) {
    return this.storage.linksOf(boardId);
  }

  async revokeLink(boardId: string, linkId: string): Promise<void> {
    if (!(await this.storage.deleteLink(boardId, linkId))) {
      throw new TRPCError({ code: 'NOT_FOUND', message: 'No such share link on this board (it may already be revoked).' });
    }
  }

  /**
   * Joins the board of a share link with its role; a member keeps a higher role they already have.
   * Refused (FORBIDDEN) to someone the owner removed, and once the link expired or is used up;
   * a use is counted only when the link grants something (a new member, or a higher role).
   */
  async acceptLink(code: string, userId: string, now = Date.now()): Promise<{ boardId: string; role: Role }> {
    const link = await this.storage.linkByCodeHash(sha256(code));
    if (!link) throw new TRPCError({ code: 'NOT_FOUND', message: 'This share link is not valid (it may have been revoked). Ask the owner for a new one.' });
    const current = await this.storage.roleOf(link.boardId, userId);
    if (current !== null && ROLE_RANK[current] >= ROLE_RANK[link.role]) return { boardId: link.boardId, role: current };
    if (current === null && (await this.storage.removedAt(link.boardId, userId)) !== undefined) throw new TRPCError({ code: 'FORBIDDEN', message: REMOVED });
    if (!(await this.storage.useLink(link.id, now))) throw linkSpent(link, now);
    if (current === null) await this.addMember(link.boardId, userId, link.role);
    else {
      await this.storage.setRole(link.boardId, userId, link.role);
      this.forget(link.boardId);
    }
    return { boardId: link.boardId, role: (await this.storage.roleOf(link.boardId, userId))! };
  }

  private async requireNonOwnerMember(boardId: string, userId: string): Promise<void> {
    const role = await this.storage.roleOf(boardId, userId);
    if (role === null) throw new TRPCError({ code: 'NOT_FOUND', message: 'That person is not a member of this board.' });
    if (role === 'owner') throw new TRPCError({ code: 'BAD_REQUEST', message: "The owner's role cannot be changed; delete the board instead." });
  }
}

/** Why a link that exists let nobody in: it expired, or it is used up (or was revoked meanwhile). */
function linkSpent(link: { expiresAt: number | null; maxUses: number | null }, now: number): TRPCError {
  if (link.expiresAt !== null && link.expiresAt <= now) {
    return new TRPCError({ code: 'FORBIDDEN', message: `This share link expired on ${new Date(link.expiresAt).toISOString().slice(0, 16).replace('T', ' ')} UTC. Ask the owner for a new one.` });
  }
  if (link.maxUses !== null) {
    return new TRPCError({ code: 'FORBIDDEN', message: `This share link has been used ${link.maxUses} time${link.maxUses === 1 ? '' : 's'}, its limit. Ask the owner for a new one.` });
  }
  return new TRPCError({ code: 'NOT_FOUND', message: 'This share link is not valid (it may have been revoked). Ask the owner for a new one.' });
}

/** The FORBIDDEN error when `role` is below `least`, else null. */
export function roleTooLow(role: Role, least: Role): TRPCError | null {
  if (ROLE_RANK[role] >= ROLE_RANK[least]) return null;
  return new TRPCError({ code: 'FORBIDDEN', message: least === 'owner' ? 'Only the board owner can do this.' : 'You can view this board but not edit it (viewer).' });
}
