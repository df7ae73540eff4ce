import { GUEST_TOKEN_PREFIX } from '@inkboard/protocol';

/**
 * The guest cookie (issue 18) holds one guest secret per board, so a browser can be a guest of
 * several boards at once: `<boardId>.<secret>` entries joined by `~`, oldest first (neither
 * character occurs in board ids or secrets, and cookies carry both as they are). Bounded: at most
 * `GUEST_COOKIE_BOARDS` boards (joining another drops the oldest), each entry at most
 * `ENTRY_MAX` characters; anything longer or malformed is ignored, never an error.
 */
export const GUEST_COOKIE_BOARDS = 10;
const ENTRY_MAX = 300;
/** Longest value read: every entry at its longest, with separators. */
const VALUE_MAX = GUEST_COOKIE_BOARDS * (ENTRY_MAX + 1);
const ENTRY = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,200})$/;
const SECRET = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * Board id -> guest secret, oldest first. A value of an older version (one bare secret, board
 * unknown) is kept under the board id '' (resolved by the secret alone).
 */
export function readGuestCookie(value: string | undefined): Map<string, string> {
  const boards = new Map<string, string>();
  if (!value || value.length > VALUE_MAX) return boards;
  for (const entry of value.split('~')) {
    const m = ENTRY.exec(entry);
    const [boardId, secret] = m ? [m[1]!, m[2]!] : SECRET.test(entry) ? ['', entry] : [null, null];
    if (boardId === null || !secret.startsWith(GUEST_TOKEN_PREFIX)) continue;
    boards.delete(boardId); // a board seen again moves to the end (newest)
    boards.set(boardId, secret);
  }
  // A hand-made value may hold more: the newest ones count.
  while (boards.size > GUEST_COOKIE_BOARDS) boards.delete(boards.keys().next().value!);
  return boards;
}

/** The cookie value for `boards` (null: nothing left, clear the cookie). */
export function writeGuestCookie(boards: ReadonlyMap<string, string>): string | null {
  const entries = [...boards].filter(([boardId]) => boardId !== '').map(([boardId, secret]) => `${boardId}.${secret}`);
  return entries.length ? entries.slice(-GUEST_COOKIE_BOARDS).join('~') : null;
}

/** `boards` with `secret` as the newest entry for `boardId` (replacing the board's earlier one), the oldest dropped past the bound. */
export function withGuest(boards: ReadonlyMap<string, string>, boardId: string, secret: string): Map<string, string> {
  const next = new Map(boards);
  next.delete(boardId);
  next.set(boardId, secret);
  while (next.size > GUEST_COOKIE_BOARDS) next.delete(next.keys().next().value!);
  return next;
}

/** The newest secret of `boards`: the guest a request acts as when it names no board. */
export function newestGuest(boards: ReadonlyMap<string, string>): string | null {
  let last: string | null = null;
  for (const secret of boards.values()) last = secret;
  return last;
}
