import { deepEqual, type Element, type Elements, type PreviewEvent } from '@inkboard/protocol';

/** Another person's element in progress. */
export interface RemotePreview {
  clientId: string;
  element: Element;
  updatedAt: number;
  /** When `done` arrived: kept until the committed element shows up, so it never blinks. */
  doneAt: number | null;
  /** The stored element under that id when `done` arrived (a moved or edited element). */
  base: Element | undefined;
  /** A new element (not a change of a stored one): dropped as soon as it is stored. */
  isNew: boolean;
}

const DONE_GRACE_MS = 1_500;
const STALE_MS = 15_000;

/** Folds a preview event into the map of previews by element id (a new map when it changed). */
export function applyPreview(
  previews: ReadonlyMap<string, RemotePreview>,
  event: PreviewEvent,
  elements: Elements,
  now: number,
): ReadonlyMap<string, RemotePreview> {
  const current = previews.get(event.elementId);
  let element = event.element ?? current?.element;
  if (element && event.append?.length && element.type === 'stroke') {
    element = { ...element, points: [...element.points, ...event.append] };
  }
  if (!element) return previews;
  const next = new Map(previews);
  const stored = elements.get(event.elementId);
  if (event.done && stored && deepEqual(stored, element)) {
    // The committed op came first: the board already shows the final element.
    next.delete(event.elementId);
    return next;
  }
  next.set(event.elementId, {
    clientId: event.clientId,
    element,
    updatedAt: now,
    doneAt: event.done ? now : null,
    base: event.done ? stored : undefined,
    isNew: current ? current.isNew : stored === undefined,
  });
  return next;
}

/** Drops previews whose element was committed (or that were abandoned); the same map when none. */
export function prunePreviews(previews: ReadonlyMap<string, RemotePreview>, elements: Elements, now: number): ReadonlyMap<string, RemotePreview> {
  let next: Map<string, RemotePreview> | null = null;
  for (const [id, p] of previews) {
    const stored = elements.get(id);
    const committed = (p.isNew && stored !== undefined) || (p.doneAt !== null && (stored !== p.base || now - p.doneAt > DONE_GRACE_MS));
    if (committed || now - p.updatedAt > STALE_MS) {
      next ??= new Map(previews);
      next.delete(id);
    }
  }
  return next ?? previews;
}

/** Drops the previews of a connection that left. */
export function dropClientPreviews(previews: ReadonlyMap<string, RemotePreview>, clientId: string): ReadonlyMap<string, RemotePreview> {
  if (![...previews.values()].some((p) => p.clientId === clientId)) return previews;
  return new Map([...previews].filter(([, p]) => p.clientId !== clientId));
}
