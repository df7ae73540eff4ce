import { z } from 'zod';
import { assertNever, type Elements } from './applyOp.js';
import { missingFieldValue, storedElementSchema, type Element, type ElementPatch, type ElementType } from './elements/index.js';
import { deepEqual } from './history.js';
import type { AddOp, DeleteOp, Op, UpdateOp } from './ops.js';
import { idSchema, LIMITS, plainText } from './primitives.js';
import { boardIdSchema } from './api.js';

/**
 * Version history (issue 16): a board's past as "versions" (runs of consecutive edits by one
 * person), named versions, the state at any seq and restoring it. Not to be confused with
 * `history.ts`, the per-user undo stack. Schemas of the `history.*` procedures and the pure
 * functions both the server and the web app use.
 */

export const VERSION_LIMITS = {
  /** Characters of a version's name. */
  nameLength: 100,
  /** Versions one `history.list` call returns at most (default `listDefault`). */
  listMax: 100,
  listDefault: 30,
  /** Element ids a version lists for highlighting. */
  changedIds: 200,
  /** Edits by one person less than this apart form one version. */
  gapMs: 5 * 60_000,
  /** Ops one version holds at most (a longer run is split). */
  opsPerVersion: 1_000,
  /** Element ids one `history.restore` may name. */
  restoreIds: LIMITS.updatesPerOp,
} as const;

const seqSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** A version's name: one line, no control characters. */
export const versionNameSchema = plainText(
  z.string().trim().min(1, 'a version name must not be empty').max(VERSION_LIMITS.nameLength, `a version name has at most ${VERSION_LIMITS.nameLength} characters`),
  true,
);

export const historyListInput = z.strictObject({
  boardId: boardIdSchema,
  /** Versions that end before this seq (the `next` of the previous page); newest when omitted. */
  before: seqSchema.optional(),
  limit: z.number().int().min(1).max(VERSION_LIMITS.listMax).default(VERSION_LIMITS.listDefault),
});
export const historyNamedInput = z.strictObject({ boardId: boardIdSchema });
export const historyNameInput = z.strictObject({
  boardId: boardIdSchema,
  name: versionNameSchema,
  /** The seq to name; the board's current seq when omitted. */
  seq: seqSchema.optional(),
});
export const historyUnnameInput = z.strictObject({ boardId: boardIdSchema, id: idSchema });
export const historyStateAtInput = z.strictObject({ boardId: boardIdSchema, seq: seqSchema });
export const historyElementInfoInput = z.strictObject({ boardId: boardIdSchema, elementId: idSchema });
export const historyRestoreInput = z.strictObject({
  boardId: boardIdSchema,
  /** The seq whose state to restore. */
  seq: seqSchema,
  /** Only these elements (a deleted one comes back, a changed one gets its old properties); the whole board when omitted. */
  ids: z.array(idSchema).min(1, 'name at least one element, or leave ids out to restore the whole board').max(VERSION_LIMITS.restoreIds).optional(),
  /** Id of the restore (its ops get ids derived from it), so a retried restore is not applied twice. */
  opId: idSchema,
});
export type HistoryListInput = z.input<typeof historyListInput>;
export type HistoryRestoreInput = z.infer<typeof historyRestoreInput>;

/** What an edit did to an element. */
export const VERSION_VERBS = ['added', 'deleted', 'moved', 'resized', 'rotated', 'edited', 'restyled', 'arranged', 'grouped', 'locked', 'cleared'] as const;
export const versionVerbSchema = z.enum(VERSION_VERBS);
export type VersionVerb = z.infer<typeof versionVerbSchema>;

/** Kinds as a summary names them: rectangles and ellipses are "shapes"; `element` when the kind is unknown. */
export const VERSION_KINDS = ['stroke', 'line', 'arrow', 'shape', 'text', 'note', 'image', 'element', 'board'] as const;
export const versionKindSchema = z.enum(VERSION_KINDS);
export type VersionKind = z.infer<typeof versionKindSchema>;

export const versionSummarySchema = z.object({
  /** E.g. "added 3 strokes, moved 2 shapes". */
  text: z.string(),
  /** Elements per verb and kind (a board clear counts once, kind `board`). */
  counts: z.array(z.object({ verb: versionVerbSchema, kind: versionKindSchema, n: z.number().int().positive() })),
});
export type VersionSummary = z.infer<typeof versionSummarySchema>;

export const namedVersionSchema = z.object({
  id: z.string(),
  seq: z.number().int().nonnegative(),
  name: z.string(),
  createdBy: z.string(),
  createdByName: z.string(),
  createdAt: z.number().int(),
});
export type NamedVersion = z.infer<typeof namedVersionSchema>;

/** A run of consecutive edits by one person: the ops `fromSeq..toSeq`. */
export const versionSchema = z.object({
  fromSeq: z.number().int().positive(),
  toSeq: z.number().int().positive(),
  authorId: z.string(),
  authorName: z.string(),
  startedAt: z.number().int(),
  endedAt: z.number().int(),
  opCount: z.number().int().positive(),
  summary: versionSummarySchema,
  /** Elements the version added, changed or deleted (at most `VERSION_LIMITS.changedIds`), for highlighting. */
  changedIds: z.array(z.string()),
  /** Named versions whose seq falls in `fromSeq..toSeq`. */
  names: z.array(namedVersionSchema.pick({ id: true, name: true, createdByName: true, createdAt: true })),
  /**
   * A kept state of older history (retention keeps one a day; the byte budget and named versions keep
   * a few more): its edits `fromSeq..toSeq` are no longer kept one by one, only the state at `toSeq`
   * (it can be previewed and restored). Its author is `THINNED_AUTHOR`, its counts and changed ids are empty.
   */
  thinned: z.literal(true).optional(),
});
export type Version = z.infer<typeof versionSchema>;

/** The author a thinned version names (its edits, by whoever made them, are no longer kept). */
export const THINNED_AUTHOR = { id: '', name: 'various' } as const;

export const historyListOutput = z.object({
  versions: z.array(versionSchema),
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next: z.number().int().positive().optional(),
});
export type HistoryListOutput = z.infer<typeof historyListOutput>;

export const stateAtOutput = z.object({ seq: z.number().int().nonnegative(), elements: z.array(storedElementSchema) });
export type StateAt = z.infer<typeof stateAtOutput>;

const changeRefSchema = z.object({ id: z.string(), name: z.string(), at: z.number().int(), seq: z.number().int().positive() });
export const elementInfoOutput = z.object({ createdBy: changeRefSchema.optional(), changedBy: changeRefSchema.optional() });
export type ElementInfo = z.infer<typeof elementInfoOutput>;

export const historyRestoreOutput = z.object({
  ops: z.array(z.unknown()),
  acks: z.array(z.object({ opId: z.string(), seq: z.number().int(), duplicate: z.boolean() })),
});

// Restore

export interface RestoreOptions {
  /** Only these elements; every element of either state when omitted. */
  ids?: readonly string[];
  newOpId: () => string;
}

const pointCount = (el: Element | ElementPatch): number => ('points' in el && Array.isArray(el.points) ? el.points.length : 0);

/**
 * The ops that turn `current` into `target` (or, with `ids`, only those elements): a delete of what
 * `target` lacks, an update giving changed elements their old properties, an add bringing back
 * deleted ones with their old ids. Elements keep their `z`, so paint order is restored too. Each op
 * stays within LIMITS (elements or updates per op, points per push); a larger restore is split into
 * several ops of each kind. An element whose differences no patch can express is deleted and re-added.
 * Empty when nothing differs.
 */
export function restoreOps(current: Elements, target: Elements, opts: RestoreOptions): Op[] {
  const scope = opts.ids ? [...new Set(opts.ids)] : [...new Set([...current.keys(), ...target.keys()])];
  const deletes: string[] = [];
  const adds: Element[] = [];
  const updates: { id: string; patch: ElementPatch }[] = [];
  for (const id of scope) {
    const now = current.get(id);
    const then = target.get(id);
    if (now === undefined && then === undefined) continue;
    if (then === undefined) deletes.push(id);
    else if (now === undefined) adds.push(then);
    else if (!deepEqual(now, then)) {
      const patch = patchBetween(now, then);
      if (patch === null) {
        deletes.push(id);
        adds.push(then);
      } else updates.push({ id, patch });
    }
  }
  const ops: Op[] = [];
  for (const ids of chunks(deletes, LIMITS.updatesPerOp, () => 0)) ops.push({ type: 'delete', opId: opts.newOpId(), ids } satisfies DeleteOp);
  for (const part of chunks(updates, LIMITS.updatesPerOp, (u) => pointCount(u.patch))) ops.push({ type: 'update', opId: opts.newOpId(), updates: part } satisfies UpdateOp);
  for (const elements of chunks(adds, LIMITS.elementsPerOp, pointCount)) ops.push({ type: 'add', opId: opts.newOpId(), elements } satisfies AddOp);
  return ops;
}

/** The patch that makes `now` into `then`, or null when no patch can (a different kind, a field that cannot be unset). */
function patchBetween(now: Element, then: Element): ElementPatch | null {
  if (now.type !== then.type) return null;
  const a = now as Record<string, unknown>;
  const b = then as Record<string, unknown>;
  const patch: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key === 'id' || key === 'type') continue;
    if (deepEqual(a[key], b[key])) continue;
    // A field `then` was stored without goes back to what its absence meant.
    const value = b[key] !== undefined ? b[key] : missingFieldValue(then, key);
    if (value === undefined) return null;
    if (deepEqual(a[key], value)) continue;
    patch[key] = value;
  }
  return Object.keys(patch).length ? (patch as ElementPatch) : null;
}

/** `items` in order, in runs of at most `max` items and `LIMITS.pointsPerPush` points (an item over that alone forms its run). */
function chunks<T>(items: readonly T[], max: number, points: (item: T) => number): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  let sum = 0;
  for (const item of items) {
    const p = points(item);
    if (run.length && (run.length >= max || sum + p > LIMITS.pointsPerPush)) {
      out.push(run);
      run = [];
      sum = 0;
    }
    run.push(item);
    sum += p;
  }
  if (run.length) out.push(run);
  return out;
}

// Summaries

const KIND_OF_TYPE: Record<string, VersionKind> = { rectangle: 'shape', ellipse: 'shape', stroke: 'stroke', line: 'line', arrow: 'arrow', text: 'text', note: 'note', image: 'image' };

/** The kind a summary names (`element` for an unknown one). */
export function versionKindOf(type: ElementType | undefined): VersionKind {
  return (type && KIND_OF_TYPE[type]) ?? 'element';
}

/** What an update patch did, by its keys (the first that applies). */
export function patchVerb(patch: ElementPatch): VersionVerb {
  const keys = Object.keys(patch);
  const has = (...k: string[]) => k.some((key) => keys.includes(key));
  if (has('text')) return 'edited';
  if (has('width', 'height', 'fontSize')) return 'resized';
  if (has('angle')) return 'rotated';
  if (has('x', 'y', 'points', 'startBinding', 'endBinding', 'containerId')) return 'moved';
  if (has('z')) return 'arranged';
  if (has('groupIds')) return 'grouped';
  if (has('locked')) return 'locked';
  return 'restyled';
}

const PLURAL: Record<VersionKind, [string, string]> = {
  stroke: ['stroke', 'strokes'],
  line: ['line', 'lines'],
  arrow: ['arrow', 'arrows'],
  shape: ['shape', 'shapes'],
  text: ['text', 'texts'],
  note: ['note', 'notes'],
  image: ['image', 'images'],
  element: ['element', 'elements'],
  board: ['board', 'boards'],
};

/**
 * Counts of what `ops` did, by verb and kind, and a sentence of them ("added 3 strokes, moved 2
 * shapes"). Each element counts once per verb; one added in the same ops counts only as added, one
 * both added and deleted not at all. `kindOf` names the kind of elements the ops do not add (e.g.
 * from the board); unknown ones are "elements".
 */
export function summarizeOps(ops: readonly Op[], kindOf: (id: string) => ElementType | undefined = () => undefined): VersionSummary {
  const kinds = new Map<string, ElementType>();
  const verbs = new Map<string, Set<VersionVerb>>();
  let clears = 0;
  const mark = (id: string, verb: VersionVerb) => {
    let set = verbs.get(id);
    if (!set) verbs.set(id, (set = new Set()));
    set.add(verb);
  };
  for (const op of ops) {
    switch (op.type) {
      case 'add':
        for (const el of op.elements) {
          kinds.set(el.id, el.type);
          mark(el.id, 'added');
        }
        break;
      case 'delete':
        for (const id of op.ids) mark(id, 'deleted');
        break;
      case 'update':
        for (const { id, patch } of op.updates) mark(id, patchVerb(patch));
        break;
      case 'clear':
        clears++;
        break;
      default:
        assertNever(op);
    }
  }
  const counts = new Map<string, { verb: VersionVerb; kind: VersionKind; n: number }>();
  const count = (verb: VersionVerb, kind: VersionKind) => {
    const key = `${verb} ${kind}`;
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { verb, kind, n: 1 });
  };
  for (const [id, set] of verbs) {
    const kind = versionKindOf(kinds.get(id) ?? kindOf(id));
    if (set.has('added') && set.has('deleted')) continue;
    if (set.has('added')) count('added', kind);
    else if (set.has('deleted')) count('deleted', kind);
    else for (const verb of set) count(verb, kind);
  }
  const list = [...counts.values()].sort((a, b) => VERSION_VERBS.indexOf(a.verb) - VERSION_VERBS.indexOf(b.verb) || b.n - a.n || VERSION_KINDS.indexOf(a.kind) - VERSION_KINDS.indexOf(b.kind));
  if (clears) list.push({ verb: 'cleared', kind: 'board', n: clears });
  const words = list.map(({ verb, kind, n }) => (verb === 'cleared' ? 'cleared the board' : `${verb} ${n} ${PLURAL[kind][n === 1 ? 0 : 1]}`));
  return { text: words.length ? words.join(', ') : 'no visible change', counts: list };
}

/** Element ids `ops` add, change or delete, in first-touched order, at most `max`. */
export function changedIds(ops: readonly Op[], max: number = VERSION_LIMITS.changedIds): string[] {
  const ids = new Set<string>();
  for (const op of ops) {
    const touched = op.type === 'add' ? op.elements.map((e) => e.id) : op.type === 'update' ? op.updates.map((u) => u.id) : op.type === 'delete' ? op.ids : [];
    for (const id of touched) {
      if (ids.size >= max) return [...ids];
      ids.add(id);
    }
  }
  return [...ids];
}

// Grouping

/** What grouping needs of an op. */
export interface OpMeta {
  seq: number;
  authorId: string;
  /** When it was committed (epoch ms). */
  at: number;
}

export interface VersionRun {
  fromSeq: number;
  toSeq: number;
  authorId: string;
  startedAt: number;
  endedAt: number;
  opCount: number;
}

/**
 * Runs of consecutive ops by one author, each less than `gapMs` from its neighbour, of at most
 * `maxOps` ops. `ops` are in seq order, ascending or descending; runs come back in the same order,
 * and a run that is too long is split counting from the first op given (so a server reading newest
 * first cuts the same runs whatever page it starts on). A missing seq (history thinned by retention)
 * ends a run.
 */
export function groupVersions(ops: readonly OpMeta[], gapMs: number = VERSION_LIMITS.gapMs, maxOps: number = VERSION_LIMITS.opsPerVersion): VersionRun[] {
  const runs: VersionRun[] = [];
  let run: VersionRun | null = null;
  let last: OpMeta | null = null;
  for (const op of ops) {
    const joins = run !== null && last !== null && op.authorId === run.authorId && Math.abs(op.seq - last.seq) === 1 && Math.abs(op.at - last.at) < gapMs && run.opCount < maxOps;
    if (joins && run) {
      run.fromSeq = Math.min(run.fromSeq, op.seq);
      run.toSeq = Math.max(run.toSeq, op.seq);
      run.startedAt = Math.min(run.startedAt, op.at);
      run.endedAt = Math.max(run.endedAt, op.at);
      run.opCount++;
    } else {
      run = { fromSeq: op.seq, toSeq: op.seq, authorId: op.authorId, startedAt: op.at, endedAt: op.at, opCount: 1 };
      runs.push(run);
    }
    last = op;
  }
  return runs;
}

/** Elements as a map by id (the form `applyOp` and `restoreOps` take). */
export function elementMap(elements: Iterable<Element>): Map<string, Element> {
  return new Map([...elements].map((e) => [e.id, e]));
}
