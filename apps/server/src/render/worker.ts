/**
 * A render worker (piscina task): reads the board from the database itself, so the server's event
 * loop neither serializes nor copies the elements, renders it with the protocol's `renderSvg`, and
 * rasterizes with resvg when a PNG is asked for. The result goes back as a transferred byte array.
 * Limits: the SVG length is checked as it is built (`maxSvgLength`); time and heap are enforced by
 * the pool (a job past its time, or past the worker's heap, ends the worker, not the server).
 */
import { createRequire } from 'node:module';
import { getPriority, setPriority } from 'node:os';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Resvg } from '@resvg/resvg-js';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import type { Element } from '@inkboard/protocol';
import type { DrawJob, RenderJob, RenderOutcome, WorkerData } from './jobs.js';

type Protocol = typeof import('@inkboard/protocol');

const data = workerData as WorkerData;

/**
 * Renders and snapshots yield the CPU to the event loop that serves everyone: on Linux each thread
 * has its own nice value, and pid 0 means this thread. Ten steps lower than the server (at most 19).
 */
export const RENDER_NICE_STEPS = 10;
try {
  setPriority(0, Math.min(19, getPriority(0) + RENDER_NICE_STEPS));
} catch {
  // Not permitted or not supported here: renders keep the server's priority.
}
/** A stored element: its id and its JSON as stored. */
interface Row {
  id: string;
  data: string;
}
/** A stored image the job embeds. */
interface FileRow {
  hash: string;
  mime: string;
  data: Buffer;
}
type ImageBudget = RenderJob extends infer J ? (J extends { images?: infer B } ? B : never) : never;
/** Reads the board's seq, its element rows (none when `given`: a past state's JSON, whose images are read instead) and the files to embed. */
type Reader = (boardId: string, images: ImageBudget | undefined, given?: string) => Promise<{ seq: number; rows: Row[]; files: FileRow[] } | null>;

const FILE_ID_IN_JSON = /"fileId":"([0-9a-f]{64})"/g;

/** The file ids the stored elements name (found in their JSON, without parsing it). */
function fileIdsOf(rows: readonly Row[]): string[] {
  const ids = new Set<string>();
  for (const row of rows) if (row.data.includes('"fileId":"')) for (const m of row.data.matchAll(FILE_ID_IN_JSON)) ids.add(m[1]!);
  return [...ids];
}

/** The files to embed: smallest first while the bytes and pixels stay within the budget. */
function chooseFiles(metas: { hash: string; bytes: number; width: number; height: number }[], budget: ImageBudget): string[] {
  metas.sort((a, b) => Number(a.bytes) - Number(b.bytes));
  const chosen: string[] = [];
  let bytes = 0;
  let pixels = 0;
  for (const m of metas) {
    if (bytes + Number(m.bytes) > budget.maxBytes || pixels + m.width * m.height > budget.maxPixels) break;
    bytes += Number(m.bytes);
    pixels += m.width * m.height;
    chosen.push(m.hash);
  }
  return chosen;
}

/**
 * The protocol package. From source (tests) it is TypeScript loaded through tsx's require hook:
 * tsx's import hooks do not reach into worker threads on every Node version, its require hook does.
 */
function loadProtocol(specifier: string): Promise<Protocol> {
  if (specifier.endsWith('.ts')) return Promise.resolve(createRequire(import.meta.url)(specifier) as Protocol);
  return import(specifier) as Promise<Protocol>;
}

/** Parses the stored JSON rows in one go (one string, one parse). */
const parseRows = (rows: readonly string[]): Element[] => JSON.parse(`[${rows.join(',')}]`) as Element[];

async function openReader(): Promise<Reader> {
  const source = data.source;
  if (source.kind === 'sqlite') {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(source.path, { readonly: true, fileMustExist: true });
    const seqOf = db.prepare<[string], { seq: number }>('select seq from boards where id = ?');
    const rowsOf = db.prepare<[string], Row>('select id, data from elements where board_id = ?');
    // Only files linked to this board (board_files): an element naming another board's file gets a placeholder.
    const filesOf = db.prepare<[string, string], { hash: string; bytes: number; width: number; height: number }>(
      'select f.hash, f.bytes, f.width, f.height from board_files b join files f on f.hash = b.hash where b.board_id = ? and b.hash in (select value from json_each(?))',
    );
    const fileData = db.prepare<[string], FileRow>('select hash, mime, data from files where hash = ?');
    // One read transaction: the elements are exactly those of the seq read.
    const read = db.transaction((boardId: string, images: ImageBudget | undefined, given?: string) => {
      const board = seqOf.get(boardId);
      if (!board) return null;
      const rows = given === undefined ? rowsOf.all(boardId) : [];
      const ids = images ? fileIdsOf(given === undefined ? rows : [{ id: '', data: given }]) : [];
      const files = ids.length === 0 ? [] : chooseFiles(filesOf.all(boardId, JSON.stringify(ids)), images!).map((h) => fileData.get(h)!);
      return { seq: board.seq, rows, files };
    });
    return async (boardId, images, given) => read(boardId, images, given);
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: source.url });
  // Connected on first use (a database that is down fails that job, not the worker's start).
  let connected: Promise<unknown> | null = null;
  return async (boardId, images, given) => {
    await (connected ??= client.connect().catch((err: unknown) => {
      connected = null;
      throw err;
    }));
    await client.query('begin isolation level repeatable read read only');
    try {
      const board = await client.query<{ seq: number }>('select seq from boards where id = $1', [boardId]);
      const seq = board.rows[0]?.seq;
      if (seq === undefined) return null;
      const rows = given === undefined ? await client.query<Row>('select id, data from elements where board_id = $1', [boardId]) : { rows: [] };
      const ids = images ? fileIdsOf(given === undefined ? rows.rows : [{ id: '', data: given }]) : [];
      let files: FileRow[] = [];
      if (ids.length > 0) {
        const metas = await client.query<{ hash: string; bytes: number; width: number; height: number }>(
          'select f.hash, f.bytes, f.width, f.height from board_files b join files f on f.hash = b.hash where b.board_id = $1 and b.hash = any($2::text[])',
          [boardId, ids],
        );
        const chosen = chooseFiles(metas.rows, images!);
        if (chosen.length > 0) files = (await client.query<FileRow>('select hash, mime, data from files where hash = any($1::text[])', [chosen])).rows;
      }
      return { seq: Number(seq), rows: rows.rows, files };
    } finally {
      await client.query('commit');
    }
  };
}

const FONT = { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' };

/** Width and height the SVG declares (renderSvg always writes both). */
function sizeOf(svg: string): { width: number; height: number } {
  const head = svg.slice(0, 400);
  return { width: Number(/width="(\d+)"/.exec(head)?.[1] ?? 320), height: Number(/height="(\d+)"/.exec(head)?.[1] ?? 200) };
}

/** A fresh, transferable copy (resvg's buffers are external memory and cannot be moved). */
function own(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/**
 * A full garbage collection of this worker. resvg's pixmaps (4 bytes a pixel: 64 MB for a
 * 16-megapixel PNG) are native memory V8 does not see: they are freed only when a collection finds
 * their small JS wrappers unreachable, and a worker whose heap barely grows made none for dozens of
 * PNGs (measured: RSS +64 MB per 4096 x 4096 export, never given back). A heavy board's parsed
 * elements likewise stayed in the heap until V8 felt pressure. `gc` is taken from a fresh context
 * with the flag set for that moment only (V8 flags are shared by the process's threads).
 */
const collect = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as () => void;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
})();
/** After a job, a worker heap above this (or any raster made) is collected at once. */
const COLLECT_ABOVE_HEAP_BYTES = 64 * 1024 * 1024;
let rasterized = false;

/** Collects after the result is on its way (piscina posts it before the next turn of this worker's loop). */
function collectSoon(): void {
  setImmediate(() => {
    if (rasterized || getHeapStatistics().used_heap_size > COLLECT_ABOVE_HEAP_BYTES) collect();
    rasterized = false;
  });
}

function rasterize(svg: string, zoom: number): Uint8Array {
  rasterized = true;
  return own(new Resvg(svg, { fitTo: { mode: 'zoom', value: zoom }, font: FONT }).render().asPng());
}

function render(p: Protocol, job: DrawJob, elements: Element[], images: (fileId: string) => string | undefined): string | Uint8Array {
  switch (job.kind) {
    case 'svg':
      return p.renderSvg(elements, { maxLength: job.maxSvgLength, images });
    case 'png': {
      const svg = p.renderSvg(elements, { maxLength: job.maxSvgLength, images });
      const { width, height } = sizeOf(svg);
      // Fit within the side and pixel bounds (scaled down, never refused); a hair under them, so
      // resvg's rounding up of the size cannot step over.
      const fit = Math.min(job.maxSide / width, job.maxSide / height, Math.sqrt(job.maxPixels / (width * height))) * 0.9999;
      const zoom = Math.min(job.scale, fit);
      return rasterize(svg, zoom);
    }
    case 'thumbnail': {
      try {
        return p.renderSvg(elements, { padding: 8, maxLength: job.vectorMaxLength, images });
      } catch (err) {
        if (!(err instanceof p.SvgTooLargeError)) throw err;
      }
      // Too detailed for a vector preview: a small raster of what lies on top.
      const svg = p.renderSvg(elements, { padding: 8, maxLength: job.maxSvgLength, overflow: 'keep-top', images });
      const { width, height } = sizeOf(svg);
      const zoom = Math.min(job.width / width, job.height / height);
      const png = Buffer.from(rasterize(svg, zoom)).toString('base64');
      const w = Math.max(1, Math.round(width * zoom));
      const h = Math.max(1, Math.round(height * zoom));
      return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}"><image width="${w}" height="${h}" href="data:image/png;base64,${png}"/></svg>`;
    }
    default:
      return job satisfies never;
  }
}

/**
 * Each element's packed JSON as last sent, per board, with the stored JSON it was made from: a board
 * edited since its last snapshot repacks only what changed (packing 1 M points takes about a second).
 * Bounded by `PACKED_CACHE_CHARS`; the boards used least recently are forgotten first.
 */
const packedCache = new Map<string, { chars: number; elements: Map<string, { row: string; json: string }> }>();
let packedChars = 0;
const PACKED_CACHE_CHARS = 96 * 1024 * 1024;

/** The snapshot event as a joining subscriber receives it: packed like every frame (`toWireFrame`), as JSON text. */
function snapshotJson(p: Protocol, boardId: string, seq: number, rows: readonly Row[]): string {
  const before = packedCache.get(boardId);
  packedCache.delete(boardId);
  if (before) packedChars -= before.chars;
  const elements = new Map<string, { row: string; json: string }>();
  let chars = 0;
  const parts: string[] = [];
  for (const row of rows) {
    let packed = before?.elements.get(row.id);
    if (!packed || packed.row !== row.data) {
      const element = JSON.parse(row.data) as Element;
      const [event] = p.toWireFrame({ seq, events: [{ type: 'snapshot', seq, elements: [element] }] }).events;
      packed = { row: row.data, json: JSON.stringify((event as { elements: unknown[] }).elements[0]) };
    }
    elements.set(row.id, packed);
    chars += packed.row.length + packed.json.length;
    parts.push(packed.json);
  }
  if (chars <= PACKED_CACHE_CHARS) {
    packedCache.set(boardId, { chars, elements });
    packedChars += chars;
    for (const [id, board] of packedCache) {
      if (packedChars <= PACKED_CACHE_CHARS) break;
      packedCache.delete(id);
      packedChars -= board.chars;
    }
  }
  return `{"type":"snapshot","seq":${seq},"elements":[${parts.join(',')}]}`;
}

/**
 * The files as resvg can draw them: it reads PNG, JPEG and GIF but not WebP (it would leave a hole),
 * so WebP images are converted to PNG first (sharp, loaded on first use; the pixel budget bounds them).
 */
async function rasterizable(files: FileRow[]): Promise<FileRow[]> {
  if (!files.some((f) => f.mime === 'image/webp')) return files;
  const { default: sharp } = await import('sharp');
  return Promise.all(
    files.map(async (f) => (f.mime === 'image/webp' ? { hash: f.hash, mime: 'image/png', data: await sharp(f.data).png({ compressionLevel: 1 }).toBuffer() } : f)),
  );
}

/** One render job. Expected refusals are values; anything else is a failure. */
async function run(p: Protocol, read: Reader, job: RenderJob): Promise<RenderOutcome> {
  const past = job.kind === 'png' && job.at ? { seq: job.at.seq, json: Buffer.from(job.at.json.buffer, job.at.json.byteOffset, job.at.json.byteLength).toString('utf8') } : undefined;
  const found = await read(job.boardId, job.kind === 'snapshot' ? undefined : job.images, past?.json);
  // A past state is drawn as of its own seq.
  const board = found && past ? { ...found, seq: past.seq } : found;
  if (!board) return { ok: false, seq: 0, reason: 'not-found' };
  let out: string | Uint8Array;
  try {
    if (job.kind === 'snapshot') out = snapshotJson(p, job.boardId, board.seq, board.rows);
    else {
      const files = job.kind === 'svg' ? board.files : await rasterizable(board.files);
      const uris = new Map(files.map((f) => [f.hash, `data:${f.mime};base64,${Buffer.from(f.data).toString('base64')}`]));
      out = render(p, job, past ? (JSON.parse(past.json) as Element[]) : parseRows(board.rows.map((r) => r.data)), (fileId) => uris.get(fileId));
    }
  } catch (err) {
    if (err instanceof p.SvgTooLargeError) return { ok: false, seq: board.seq, reason: 'too-large' };
    return { ok: false, seq: board.seq, reason: 'failed' };
  }
  const bytes = typeof out === 'string' ? new TextEncoder().encode(out) : out;
  const outcome: RenderOutcome = { ok: true, seq: board.seq, bytes };
  // Moved, not copied: the server thread receives the bytes without a copy (piscina moves a
  // top-level Transferable: the outcome is its value, the bytes' buffer is what is transferred).
  return move({ [transferableSymbol]: bytes.buffer, [valueSymbol]: outcome }) as unknown as RenderOutcome;
}

/**
 * The piscina task. The protocol and the database connection are ready before the worker takes
 * its first job (piscina awaits a default export that is a promise), so a job's time limit is not
 * spent starting up.
 */
export default (async () => {
  const p = await loadProtocol(data.protocol);
  const read = await openReader();
  return (job: RenderJob) => run(p, read, job).finally(collectSoon);
})();
