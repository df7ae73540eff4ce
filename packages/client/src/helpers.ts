import {
  elementInputSchema,
  fromWireFrame,
  LIMITS,
  newId,
  normalizeElement,
  topZ,
  zRangeAbove,
  type Element,
  type ElementInput,
  type Frame,
  type Op,
} from '@inkboard/protocol';
import type { InkboardClient } from './createClient.js';

export interface InvalidElement {
  index: number;
  reason: string;
}

/** Thrown by `addElements` when an input does not validate; nothing was sent. */
export class InvalidElementsError extends Error {
  constructor(readonly problems: InvalidElement[]) {
    super(`${problems.length} invalid element(s): ${problems.slice(0, 5).map((p) => `#${p.index}: ${p.reason}`).join('; ')}`);
    this.name = 'InvalidElementsError';
  }
}

/** Validates element inputs (ids, z and style may be left out) and fills them, or lists every problem. */
export function prepareElements(inputs: unknown[], below: string | null): Element[] {
  const problems: InvalidElement[] = [];
  const parsed: ElementInput[] = [];
  inputs.forEach((input, index) => {
    const result = elementInputSchema.safeParse(input);
    if (result.success) parsed.push(result.data);
    else {
      const issue = result.error.issues[0]!;
      problems.push({ index, reason: `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}` });
    }
  });
  if (problems.length) throw new InvalidElementsError(problems);
  const zs = zRangeAbove(below, parsed.length);
  return parsed.map((input, i) => normalizeElement(input, { id: newId(), z: zs[i]! }));
}

/**
 * Adds elements on top of the board in one atomic push (all or nothing). Returns the added
 * elements (with their ids) and the seq of the last op.
 */
export async function addElements(client: InkboardClient, boardId: string, inputs: unknown[]): Promise<{ elements: Element[]; seq: number }> {
  if (!Array.isArray(inputs)) throw new InvalidElementsError([{ index: 0, reason: 'expected an array of elements' }]);
  if (inputs.length > LIMITS.elementsPerOp * LIMITS.opsPerPush) {
    throw new InvalidElementsError([{ index: 0, reason: `at most ${LIMITS.elementsPerOp * LIMITS.opsPerPush} elements at once` }]);
  }
  const snapshot = await client.trpc.board.snapshot.query({ boardId });
  const elements = prepareElements(inputs, topZ(snapshot.elements));
  const ops: Op[] = [];
  for (let i = 0; i < elements.length; i += LIMITS.elementsPerOp) {
    ops.push({ type: 'add', opId: newId(), elements: elements.slice(i, i + LIMITS.elementsPerOp) });
  }
  if (!ops.length) return { elements: [], seq: snapshot.seq };
  const { acks } = await client.trpc.board.push.mutate({ boardId, ops });
  return { elements, seq: Math.max(...acks.map((a) => a.seq)) };
}

export interface WatchOptions {
  /** Resume after this seq (the last frame's seq seen); omitted: start with a snapshot. */
  lastEventId?: number;
  onFrame(frame: Frame): void;
  onError?(error: Error): void;
}

/** Follows a board's frames; the tRPC client resumes after a dropped connection with the last seq. */
export function watchBoard(client: InkboardClient, boardId: string, options: WatchOptions): () => void {
  const sub = client.trpc.board.onEvents.subscribe(
    { boardId, lastEventId: options.lastEventId === undefined ? undefined : String(options.lastEventId) },
    { onData: ({ data }) => options.onFrame(fromWireFrame(data)), onError: (err) => options.onError?.(err) },
  );
  return () => sub.unsubscribe();
}

/**
 * Downloads a board's export from the server (`svg` or `png`), authenticated with the client's token;
 * a PNG may be of the board as it was at a past seq (`at`, version history).
 */
export async function exportBoard(options: { url: string; token: string }, boardId: string, format: 'svg' | 'png', scale?: number, at?: number): Promise<Uint8Array> {
  const base = options.url.replace(/\/+$/, '');
  const params = new URLSearchParams();
  if (format === 'png' && scale) params.set('scale', String(scale));
  if (format === 'png' && at !== undefined) params.set('at', String(at));
  const query = params.size ? `?${params}` : '';
  const res = await fetch(`${base}/api/boards/${encodeURIComponent(boardId)}/export.${format}${query}`, {
    headers: { authorization: `Bearer ${options.token}` },
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    throw new Error(body.message ?? `export failed with HTTP ${res.status}`);
  }
  return new Uint8Array(await res.arrayBuffer());
}
