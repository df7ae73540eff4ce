import { TRPCError } from '@trpc/server';
import { GUEST_ID_PREFIX, GUEST_TOKEN_PREFIX, newId, ROLE_RANK, type Role } from '@inkboard/protocol';
import type { AccessService } from '../boards/AccessService.js';
import type { BoardHub } from '../boards/BoardHub.js';
import type { GuestRecord, GuestStore, PublicLinkRecord } from '../storage/GuestStore.js';
import { addressKey } from '../plugins/httpGuard.js';
import { colorFor } from '../trpc/context.js';
import { randomSecret, sha256 } from './secrets.js';
import { TokenBuckets } from './TokenBucket.js';

export interface GuestOptions {
  /** Guests one board's public link may have in at once (removed ones do not count). */
  maxGuestsPerBoard: number;
  /** Guests one address may create a minute (burst: a minute's worth), and all addresses together. */
  joinsPerAddressPerMinute: number;
  joinsPerMinute: number;
}

export const DEFAULT_GUEST_OPTIONS: GuestOptions = { maxGuestsPerBoard: 200, joinsPerAddressPerMinute: 20, joinsPerMinute: 600 };

/** A guest as a request's context holds it: reaches `boardId` only, with the role of its link. */
export interface GuestPrincipal {
  id: string;
  boardId: string;
  name: string;
  color: string;
  role: 'editor' | 'viewer';
  allowChat: boolean;
  tokenHash: string;
}

/** How long a board's chat setting is trusted without a signal (changes are signalled at once). */
const CHAT_FRESH_MS = 5_000;

/** Throttle of guests' "last seen" writes. */
const TOUCH_EVERY_MS = 60_000;

const LINK_GONE = 'This public link is not valid: the owner turned it off or made a new one. Ask them for the current link.';

/**
 * Public links and the guests who come through them (issue 18). A guest's access is checked like a
 * member's, through `AccessService` (its role cache, forgotten on every process when anything
 * changes); ending it (link off, a new link, the guest removed) revokes the guest's subscriptions
 * through the hub, as removing a member does.
 */
export class GuestService {
  private readonly joinsPerAddress: TokenBuckets;
  private readonly joinsTotal: TokenBuckets;
  /**
   * Whether each board's link allows chat, as last read or as the last `guest-chat` signal said
   * (every change sends one to every process); read again after 5 s in case a signal was lost.
   */
  private readonly chat = new Map<string, { allow: boolean; at: number }>();
  /** Bumped by every `guest-chat` signal: a read started before one must not overwrite what it said. */
  private chatGeneration = 0;
  /** Boards whose chat setting is being read for `chatOpen`. */
  private readonly chatReads = new Set<string>();

  constructor(
    private readonly store: GuestStore,
    private readonly access: AccessService,
    private readonly hub: BoardHub,
    readonly options: GuestOptions = DEFAULT_GUEST_OPTIONS,
  ) {
    this.joinsPerAddress = new TokenBuckets(options.joinsPerAddressPerMinute / 60, options.joinsPerAddressPerMinute);
    this.joinsTotal = new TokenBuckets(options.joinsPerMinute / 60, options.joinsPerMinute);
    access.guestRole = (boardId, guestId) => store.guestRole(boardId, guestId);
    hub.onSignal((signal) => {
      if (signal.type === 'guest-chat') {
        this.chatGeneration++;
        this.remember(signal.boardId, signal.allow, Date.now());
      } else if (signal.type === 'revoke' && signal.userId === null) this.chat.delete(signal.boardId);
    });
  }

  /** The board's public link for its owner, with how many guests are in (never the code, which only its hash is kept of). */
  async link(boardId: string) {
    const link = await this.store.link(boardId);
    if (!link) return null;
    return { ...publicLink(link), guests: await this.store.countGuests(boardId, link.id) };
  }

  /**
   * Turns the link on with `role` (the code is returned this once), or, when it is on, changes its
   * role, chat and embed origins (guests in keep their place with the new role at once).
   */
  async set(boardId: string, createdBy: string, settings: { role: 'editor' | 'viewer'; allowChat?: boolean | undefined; embedOrigins?: string[] | undefined }) {
    const current = await this.store.link(boardId);
    if (!current) return this.create(boardId, createdBy, { role: settings.role, allowChat: settings.allowChat ?? true, embedOrigins: settings.embedOrigins ?? [] });
    const next = { role: settings.role, allowChat: settings.allowChat ?? current.allowChat, embedOrigins: settings.embedOrigins ?? current.embedOrigins };
    await this.store.updateLink(boardId, next);
    this.access.forget(boardId);
    this.hub.signal({ type: 'guest-chat', boardId, allow: next.allowChat });
    return { ...publicLink({ ...current, ...next }), guests: await this.store.countGuests(boardId, current.id) };
  }

  /** A new code for the link (same settings); every guest of the old one is cut off. */
  async regenerate(boardId: string, createdBy: string) {
    const current = await this.store.link(boardId);
    if (!current) throw new TRPCError({ code: 'NOT_FOUND', message: 'This board has no public link; turn it on first.' });
    const made = await this.create(boardId, createdBy, current);
    await this.cutOff(boardId, current.id);
    return made;
  }

  /** Turns the link off: it stops working and every guest is cut off at once. */
  async disable(boardId: string): Promise<void> {
    const current = await this.store.link(boardId);
    if (!current || !(await this.store.deleteLink(boardId))) throw new TRPCError({ code: 'NOT_FOUND', message: 'This board has no public link (it may already be off).' });
    this.hub.signal({ type: 'guest-chat', boardId, allow: false });
    await this.cutOff(boardId, current.id);
  }

  /** The guests in, most recently seen first (display names only: guests have no username). */
  async guests(boardId: string) {
    const link = await this.store.link(boardId);
    if (!link) return [];
    return (await this.store.guestsOf(boardId, link.id)).map((g) => ({ id: g.id, name: g.name, color: g.color, createdAt: g.createdAt, lastSeenAt: g.lastSeenAt }));
  }

  /** Removes one guest: their connections to the board end at once; they may join again as a new guest while the link works. */
  async remove(boardId: string, guestId: string): Promise<void> {
    if (!(await this.store.removeGuest(boardId, guestId, Date.now()))) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such guest on this board (they may already be removed).' });
    this.access.forget(boardId);
    this.hub.revoke(boardId, guestId);
  }

  /** What a public link opens, before joining (the join page shows it). */
  async preview(code: string) {
    const link = await this.store.linkByCodeHash(sha256(code));
    if (!link) throw new TRPCError({ code: 'NOT_FOUND', message: LINK_GONE });
    return { boardId: link.boardId, role: link.role, allowChat: link.allowChat };
  }

  /**
   * Joins a board through its public link as a new guest named `name`. Returns the guest's secret
   * (the cookie value; only its hash is kept). Limited per address and in total, and to
   * `maxGuestsPerBoard` guests in per board.
   */
  async join(code: string, name: string, address: string, now = Date.now()): Promise<{ token: string; guest: GuestPrincipal }> {
    if (!this.joinsPerAddress.take(addressKey(address))) {
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many guests joined from this address (at most ${this.options.joinsPerAddressPerMinute} a minute); try again in a minute.` });
    }
    if (!this.joinsTotal.take('all')) throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: 'Too many guests are joining right now; try again in a minute.' });
    const link = await this.store.linkByCodeHash(sha256(code));
    if (!link) throw new TRPCError({ code: 'NOT_FOUND', message: LINK_GONE });
    const token = `${GUEST_TOKEN_PREFIX}${randomSecret(32)}`;
    const row: GuestRecord = {
      id: `${GUEST_ID_PREFIX}${newId(15)}`,
      boardId: link.boardId,
      linkId: link.id,
      name,
      color: colorFor(`${name}:${now}`),
      tokenHash: sha256(token),
      createdAt: now,
      lastSeenAt: now,
      removedAt: null,
      claimedBy: null,
    };
    const inserted = await this.store.insertGuest(row, this.options.maxGuestsPerBoard);
    if (inserted === 'gone') throw new TRPCError({ code: 'NOT_FOUND', message: LINK_GONE });
    if (inserted === 'full') {
      throw new TRPCError({ code: 'FORBIDDEN', message: `This board already has ${this.options.maxGuestsPerBoard} guests, the most allowed; ask the owner to remove some or to invite you with an account.` });
    }
    return { token, guest: { id: row.id, boardId: row.boardId, name: row.name, color: row.color, role: link.role, allowChat: link.allowChat, tokenHash: row.tokenHash } };
  }

  /** The guest a secret belongs to while it is in (link on, same link, not removed); null otherwise. */
  async byToken(token: string, now = Date.now()): Promise<GuestPrincipal | null> {
    if (!token.startsWith(GUEST_TOKEN_PREFIX) || token.length > 200) return null;
    const g = await this.store.guestByTokenHash(sha256(token));
    if (!g || g.role === null) return null;
    if (now - g.lastSeenAt > TOUCH_EVERY_MS) await this.store.touchGuest(g.id, now);
    return { id: g.id, boardId: g.boardId, name: g.name, color: g.color, role: g.role, allowChat: g.allowChat, tokenHash: g.tokenHash };
  }

  /**
   * The board a read-only public link shows in an embed, and the origins that may frame it.
   * NOT_FOUND for an unknown code or an edit link (only view links embed).
   */
  async embed(code: string): Promise<{ boardId: string; embedOrigins: string[] }> {
    const link = await this.store.linkByCodeHash(sha256(code));
    if (!link || link.role !== 'viewer') throw new TRPCError({ code: 'NOT_FOUND', message: 'This embed does not work: the owner turned its public link off, changed it, or made it an edit link (only view links can be embedded).' });
    return { boardId: link.boardId, embedOrigins: link.embedOrigins };
  }

  /** Whether guests of the board may use chat (false when the link is off). */
  async chatAllowed(boardId: string, now = Date.now()): Promise<boolean> {
    const cached = this.chat.get(boardId);
    if (cached && now - cached.at < CHAT_FRESH_MS) return cached.allow;
    const generation = this.chatGeneration;
    const allow = (await this.store.link(boardId))?.allowChat ?? false;
    // A change signalled meanwhile is newer than what was read.
    if (generation === this.chatGeneration) this.remember(boardId, allow, now);
    return allow;
  }

  /**
   * `chatAllowed` without waiting, for the hub's fan-out at every frame (a guest's subscription
   * reads it with `chatAllowed` first): the setting as last known, read again in the background once
   * it is 5 s old; false when nothing is known (chat is withheld rather than leaked).
   */
  chatOpen(boardId: string, now = Date.now()): boolean {
    const cached = this.chat.get(boardId);
    if ((!cached || now - cached.at >= CHAT_FRESH_MS) && !this.chatReads.has(boardId)) {
      this.chatReads.add(boardId);
      this.chatAllowed(boardId, now)
        .catch(() => undefined)
        .finally(() => this.chatReads.delete(boardId));
    }
    return cached?.allow ?? false;
  }

  private remember(boardId: string, allow: boolean, at: number): void {
    if (this.chat.size >= 10_000 && !this.chat.has(boardId)) this.chat.clear();
    this.chat.set(boardId, { allow, at });
  }

  /**
   * A guest who signed up or in on the same device: the account becomes a member of the guest's
   * board with the link's role (a member keeps a higher role), and the guest identity ends (its
   * cookie no longer works). Ops the guest made stay authored by the guest's id and name.
   */
  async claim(token: string, userId: string): Promise<{ boardId: string; role: Role; guestName: string }> {
    const guest = await this.byToken(token);
    if (!guest) throw new TRPCError({ code: 'NOT_FOUND', message: 'There is no guest to claim on this device (the link may have been turned off, or you were removed).' });
    const current = await this.access.roleOf(guest.boardId, userId);
    if (current === null) await this.access.addMember(guest.boardId, userId, guest.role);
    else if (ROLE_RANK[current] < ROLE_RANK[guest.role]) await this.access.setRole(guest.boardId, userId, guest.role);
    await this.store.claimGuest(guest.id, userId, Date.now());
    this.access.forget(guest.boardId);
    this.hub.revoke(guest.boardId, guest.id);
    return { boardId: guest.boardId, role: (await this.access.roleOf(guest.boardId, userId)) ?? guest.role, guestName: guest.name };
  }

  /**
   * Forgets guests who can never come back (removed, claimed or of an older link, for a day) and
   * guests unseen for 30 days (they no longer count toward the board's limit; opening the link again
   * makes them a new guest). Run hourly by buildApp.
   */
  prune(now = Date.now()): Promise<number> {
    return this.store.prune(now - 86_400_000, now - 30 * 86_400_000);
  }

  private async create(boardId: string, createdBy: string, settings: { role: 'editor' | 'viewer'; allowChat: boolean; embedOrigins: string[] }) {
    const code = randomSecret(18);
    const link: PublicLinkRecord = { boardId, id: newId(12), role: settings.role, codeHash: sha256(code), allowChat: settings.allowChat, embedOrigins: settings.embedOrigins, createdBy, createdAt: Date.now() };
    await this.store.putLink(link);
    this.access.forget(boardId);
    this.hub.signal({ type: 'guest-chat', boardId, allow: link.allowChat });
    return { ...publicLink(link), guests: 0, code };
  }

  /** Ends the access of every guest of the link `linkId`, on every process. */
  private async cutOff(boardId: string, linkId: string): Promise<void> {
    this.access.forget(boardId);
    for (const g of await this.store.guestsOf(boardId, linkId)) this.hub.revoke(boardId, g.id);
  }
}

function publicLink(l: PublicLinkRecord) {
  return { role: l.role, allowChat: l.allowChat, embedOrigins: l.embedOrigins, createdAt: l.createdAt };
}
