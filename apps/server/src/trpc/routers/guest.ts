import { boardRefInput, GUEST_COOKIE, guestBoardInput, guestCodeInput, guestJoinInput, guestRefInput, setPublicLinkInput } from '@inkboard/protocol';
import { TRPCError } from '@trpc/server';
import { newestGuest, readGuestCookie, withGuest, writeGuestCookie } from '../../auth/guestCookie.js';
import type { Context } from '../context.js';
import { authedProcedure, boardProcedure, guestOf, publicProcedure, router, takeRate } from '../trpc.js';

/** Tells everyone on the board that its members or guests changed (share dialogs reload their lists). */
function membersChanged(ctx: Context, boardId: string): void {
  ctx.app.hub.publish(boardId, ctx.app.service.knownSeq(boardId), [{ type: 'members' }]);
}

/** Sets the guest cookie to hold `boards` (board id -> secret; auth/guestCookie.ts), or clears it when empty. */
function setGuestCookie(ctx: Context, boards: ReadonlyMap<string, string>): void {
  if (!ctx.reply) return; // over a WebSocket no cookie can be set: join over HTTP
  const base = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: ctx.app.cookie.secure };
  const value = writeGuestCookie(boards);
  if (value) ctx.reply.setCookie(GUEST_COOKIE, value, { ...base, maxAge: ctx.app.cookie.maxAgeSeconds });
  else ctx.reply.clearCookie(GUEST_COOKIE, base);
}

/** The request's guest cookie, by board (read from the request itself: a signed-in caller's context holds none). */
function cookieBoards(ctx: Context): Map<string, string> {
  return readGuestCookie(ctx.reply?.request.cookies[GUEST_COOKIE]);
}

/** Public links and guests (issue 18): the owner's controls, and joining without an account. */
export const guestRouter = router({
  /** The board's public link (null when off); the code is never shown again after it is made. */
  link: boardProcedure('owner').input(boardRefInput).query(({ ctx, input }) => ctx.app.guests.link(input.boardId)),

  /** Turns the public link on (the answer holds the code, once), or changes its role, chat or embed origins. */
  setLink: boardProcedure('owner').input(setPublicLinkInput).mutation(async ({ ctx, input }) => {
    const link = await ctx.app.guests.set(input.boardId, ctx.user.id, input);
    membersChanged(ctx, input.boardId);
    return link;
  }),

  /** A new code for the public link; every guest of the old one is cut off at once. */
  regenerate: boardProcedure('owner').input(boardRefInput).mutation(async ({ ctx, input }) => {
    const link = await ctx.app.guests.regenerate(input.boardId, ctx.user.id);
    membersChanged(ctx, input.boardId);
    return link;
  }),

  /** Turns the public link off; every guest is cut off at once. */
  disable: boardProcedure('owner').input(boardRefInput).mutation(async ({ ctx, input }) => {
    await ctx.app.guests.disable(input.boardId);
    membersChanged(ctx, input.boardId);
    return { ok: true };
  }),

  /** The guests in through the current link (display names; guests have no username). */
  list: boardProcedure('owner').input(boardRefInput).query(({ ctx, input }) => ctx.app.guests.guests(input.boardId)),

  /** Removes one guest; their connections to the board end at once. */
  remove: boardProcedure('owner').input(guestRefInput).mutation(async ({ ctx, input }) => {
    await ctx.app.guests.remove(input.boardId, input.guestId);
    membersChanged(ctx, input.boardId);
    return { ok: true };
  }),

  /** What a public link opens (the board's title and the role), before picking a name. */
  preview: publicProcedure.input(guestCodeInput).query(async ({ ctx, input }) => {
    const link = await ctx.app.guests.preview(input.code);
    const board = await ctx.app.service.requireBoard(link.boardId);
    return { ...link, title: board.title };
  }),

  /**
   * Joins the board of a public link as a guest named `name`: sets the httpOnly guest cookie (and
   * returns the secret only with `returnToken`, for scripts). Refused to a signed-in caller.
   */
  join: publicProcedure.input(guestJoinInput).mutation(async ({ ctx, input }) => {
    if (ctx.user) throw new TRPCError({ code: 'BAD_REQUEST', message: 'You are signed in: ask the owner for a share link to join with your account, or sign out to join as a guest.' });
    const { token, guest } = await ctx.app.guests.join(input.code, input.name, ctx.address);
    ctx.app.log.info({ guestId: guest.id, boardId: guest.boardId, ip: ctx.address }, 'guest joined');
    // The browser stays a guest of its other boards: this board's secret is added (or replaces its earlier one).
    let boards = cookieBoards(ctx);
    const older = boards.get('');
    if (older !== undefined) {
      // A cookie of an older version holds one secret without its board: kept, under its board, while it works.
      boards.delete('');
      const was = await ctx.app.guests.byToken(older);
      if (was && was.boardId !== guest.boardId) boards = withGuest(boards, was.boardId, older);
    }
    setGuestCookie(ctx, withGuest(boards, guest.boardId, token));
    membersChanged(ctx, guest.boardId);
    const answer = { guest: { id: guest.id, name: guest.name, color: guest.color }, boardId: guest.boardId, role: guest.role, allowChat: guest.allowChat };
    return input.returnToken ? { ...answer, token } : answer;
  }),

  /**
   * A read-only view of the board of a view link, for the embed page (`/embed/<code>`): its title
   * and elements, no identity and no cookie (an iframe on another site gets none). Limited per
   * address like version history calls, and charged as snapshot bytes.
   */
  embed: publicProcedure.input(guestCodeInput).query(async ({ ctx, input }) => {
    takeRate(ctx, 'history');
    const { boardId } = await ctx.app.guests.embed(input.code);
    const board = await ctx.app.service.requireBoard(boardId);
    const snapshot = await ctx.app.service.snapshot(boardId);
    const wait = ctx.app.limits.snapshotBytes.spend(ctx.address, board.elementBytes);
    if (wait > 0) throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many board views from this address; retry in ${Math.ceil(wait)} s.` });
    return { title: board.title, seq: snapshot.seq, elements: snapshot.elements };
  }),

  /**
   * The caller's guest identity (from the cookie or token) on `boardId`, or without it the newest,
   * or null: a guest page skips the name prompt when it is still in.
   */
  me: publicProcedure.input(guestBoardInput).query(async ({ ctx, input }) => {
    if (ctx.user) return null;
    const g = input ? (await guestOf(ctx, input.boardId)).guest : ctx.guest;
    if (!g || (input && g.boardId !== input.boardId)) return null;
    return { guest: { id: g.id, name: g.name, color: g.color }, boardId: g.boardId, role: g.role, allowChat: g.allowChat };
  }),

  /** Forgets the guest identity on `boardId` on this device, or every one without it (the cookie). */
  leave: publicProcedure.input(guestBoardInput).mutation(({ ctx, input }) => {
    const boards = cookieBoards(ctx);
    if (input) boards.delete(input.boardId);
    else boards.clear();
    setGuestCookie(ctx, boards);
    return { ok: true };
  }),

  /**
   * After signing up or in on a device that was a guest (of `boardId`, or without it of the board
   * joined last): the account becomes a member of that board with the link's role, and the guest
   * identity ends (it leaves the cookie; the device stays a guest of its other boards). The guest's ops stay
   * authored by the guest (its id and name); nothing else is moved to the account.
   */
  claim: authedProcedure.input(guestBoardInput).mutation(async ({ ctx, input }) => {
    const boards = cookieBoards(ctx);
    const secret = input ? boards.get(input.boardId) : newestGuest(boards);
    if (!secret) throw new TRPCError({ code: 'NOT_FOUND', message: 'There is no guest to claim on this device (claim over HTTP, with the guest cookie).' });
    const claimed = await ctx.app.guests.claim(secret, ctx.user.id);
    // The device stays a guest of its other boards.
    for (const [boardId, s] of boards) if (s === secret) boards.delete(boardId);
    setGuestCookie(ctx, boards);
    membersChanged(ctx, claimed.boardId);
    ctx.app.log.info({ userId: ctx.user.id, boardId: claimed.boardId }, 'guest claimed');
    return claimed;
  }),
});
