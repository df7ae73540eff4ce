import { frameCorners, type Element, type ElementInfo, type Version } from '@inkboard/protocol';
import { outlineOf, paddedFrame } from '../canvas/handles.js';
import { timeAgo } from '../format.js';
import type { Viewport } from '../canvas/viewport.js';

/**
 * Pure helpers of the History panel: merging pages of the timeline, colours of authors, what a
 * preview highlights and where.
 */

/**
 * The timeline after a fresh first page: the page, then the older versions already loaded that end
 * before it starts (the newest version may have grown, or been followed by new ones, since). Null
 * when the page does not reach the loaded versions (more new versions than a page): the loaded ones
 * are then dropped, as the versions between them and the page are not known.
 */
export function mergeNewest(loaded: readonly Version[], page: readonly Version[], complete: boolean): Version[] | null {
  const oldest = page.at(-1);
  if (!oldest) return [];
  const newestLoaded = loaded[0];
  if (!complete && newestLoaded && newestLoaded.toSeq < oldest.fromSeq - 1) return null;
  return [...page, ...loaded.filter((v) => v.toSeq < oldest.fromSeq)];
}

/** The timeline with an older page appended (versions already there are not repeated). */
export function appendOlder(loaded: readonly Version[], page: readonly Version[]): Version[] {
  const last = loaded.at(-1);
  return [...loaded, ...page.filter((v) => !last || v.toSeq < last.fromSeq)];
}

/** Colours given to people whose own colour is unknown (they left the board): picked by id. */
const FALLBACK_COLORS = ['#e8590c', '#1971c2', '#2f9e44', '#9c36b5', '#c2255c', '#0c8599', '#5f3dc4', '#d9480f'];

/** A person's colour: the one they chose when known, else a stable one made from their id. */
export function authorColor(authorId: string, known: ReadonlyMap<string, string>): string {
  const own = known.get(authorId);
  if (own) return own;
  let h = 0;
  for (let i = 0; i < authorId.length; i++) h = (h * 31 + authorId.charCodeAt(i)) >>> 0;
  return FALLBACK_COLORS[h % FALLBACK_COLORS.length]!;
}

/** The elements of a version that its preview outlines: those it changed that still exist at its end (deleted ones are not drawn). */
export function highlightedElements(changedIds: readonly string[], state: ReadonlyMap<string, Element>): Element[] {
  const out: Element[] = [];
  for (const id of new Set(changedIds)) {
    const el = state.get(id);
    if (el) out.push(el);
  }
  return out;
}

/** An element's outline on screen (CSS pixels), a little outside it: a polygon's `points` attribute. */
export function screenOutline(el: Element, viewport: Viewport, padPx = 4): string {
  const frame = paddedFrame(outlineOf(el), padPx / viewport.zoom);
  return frameCorners(frame)
    .map(([x, y]) => `${round((x - viewport.x) * viewport.zoom)},${round((y - viewport.y) * viewport.zoom)}`)
    .join(' ');
}

const round = (n: number) => Math.round(n * 10) / 10;

/** What a name badge's tooltip says: each name and who gave it. */
export function namesTitle(names: readonly { name: string; createdByName: string }[]): string {
  return names.map((n) => `“${n.name}”, named by ${n.createdByName}`).join('; ');
}

/** "Created by alice, 3 minutes ago · Changed by bob, just now" (a change only when there was one after the creation). */
export function authorsLine(info: ElementInfo, now = Date.now()): string {
  const parts: string[] = [];
  if (info.createdBy) parts.push(`Created by ${info.createdBy.name}, ${timeAgo(info.createdBy.at, now)}`);
  if (info.changedBy && info.changedBy.seq !== info.createdBy?.seq) parts.push(`Changed by ${info.changedBy.name}, ${timeAgo(info.changedBy.at, now)}`);
  return parts.join(' · ');
}
