import { z } from 'zod';
import { boardIdSchema } from './api.js';
import { grantableRoleSchema } from './auth.js';
import { nameSchema } from './primitives.js';

/**
 * Guests (issue 18): people who open a board's public link and pick a name, without an account.
 * A guest is its own principal: its id starts with `GUEST_ID_PREFIX` (user ids never hold a dot),
 * it reaches only the board of its link, with the link's current role.
 */
export const GUEST_ID_PREFIX = 'g.';
/** Prefix of a guest's secret (cookie `inkboard_guest`, or a script's bearer token). */
export const GUEST_TOKEN_PREFIX = 'ibg_';
/** The cookie that holds a browser's guest secrets, one per board (httpOnly: the page never sees it). */
export const GUEST_COOKIE = 'inkboard_guest';
/** Most origins one board may allow to frame its read-only embed. */
export const MAX_EMBED_ORIGINS = 10;

/** True for the id of a guest (on cursors, presence, chat and op authors). */
export function isGuestId(id: string): boolean {
  return id.startsWith(GUEST_ID_PREFIX);
}

export const publicLinkCodeSchema = z.string().min(10).max(100).regex(/^[A-Za-z0-9_-]+$/, 'not a public link code');

/** An origin (`https://example.org` or with a port), as a page's `frame-ancestors` names it. */
export const embedOriginSchema = z
  .string()
  .trim()
  .max(200)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === s.replace(/\/$/, '');
    } catch {
      return false;
    }
  }, 'an origin is a scheme, host and optional port, like https://example.org')
  .transform((s) => s.replace(/\/$/, ''));

/** Turns the public link on (or changes its role, chat or embed origins when it is on already). */
export const setPublicLinkInput = z.strictObject({
  boardId: boardIdSchema,
  role: grantableRoleSchema,
  /** Guests may read and send chat (default true). */
  allowChat: z.boolean().optional(),
  /** Origins allowed to frame the read-only embed (`/embed/<code>`; only for a viewer link). */
  embedOrigins: z.array(embedOriginSchema).max(MAX_EMBED_ORIGINS, `at most ${MAX_EMBED_ORIGINS} origins`).optional(),
});
export const guestRefInput = z.strictObject({ boardId: boardIdSchema, guestId: z.string().min(1).max(64) });
export const guestJoinInput = z.strictObject({
  code: publicLinkCodeSchema,
  name: nameSchema,
  /** Return the guest's secret in the answer (scripts, the CLI); browsers get only the httpOnly cookie. */
  returnToken: z.boolean().optional(),
});
export const guestCodeInput = z.strictObject({ code: publicLinkCodeSchema });
/** `guest.me`, `guest.leave`, `guest.claim`: the board whose guest identity is meant (a browser may be a guest of several). */
export const guestBoardInput = z.strictObject({ boardId: boardIdSchema }).optional();

/** The public link of a board as its owner sees it (the code only right after it is made). */
export const publicLinkSchema = z.object({
  role: grantableRoleSchema,
  allowChat: z.boolean(),
  embedOrigins: z.array(z.string()),
  createdAt: z.number(),
  guests: z.number().int(),
  code: z.string().optional(),
});
export type PublicLink = z.infer<typeof publicLinkSchema>;

/** The code in a public link URL (`https://host/g/<code>`, `/embed/<code>`), or a bare code; null if it is neither. */
export function publicLinkCode(link: string): string | null {
  const trimmed = link.trim();
  const match = /(?:^|\/)(?:g|embed)\/([A-Za-z0-9_-]{10,100})\/?(?:[?#].*)?$/.exec(trimmed);
  const code = match?.[1] ?? (/^[A-Za-z0-9_-]{10,100}$/.test(trimmed) ? trimmed : null);
  return code;
}
