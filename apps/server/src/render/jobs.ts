/** What crosses between the server and its render workers (plain data: structured-cloned, tiny). */

/** Where a worker reads boards: the same database as the server, through its own read-only connection. */
export type BoardSource = { kind: 'sqlite'; path: string } | { kind: 'pg'; url: string };

export interface WorkerData {
  source: BoardSource;
  /** Module specifier of the protocol package (its TypeScript source when the server runs from source). */
  protocol: string;
}

interface JobBase {
  boardId: string;
  /** Longest SVG document the job may build, in characters (about bytes). */
  maxSvgLength: number;
  /**
   * Stored images (issue 15) the job may embed, from this board's files only: bytes and pixels in
   * total; the rest are drawn as placeholders. Left out: none (placeholders only).
   */
  images?: { maxBytes: number; maxPixels: number };
}

export type RenderJob =
  | (JobBase & { kind: 'svg' })
  | (JobBase & {
      kind: 'png';
      scale: number;
      maxPixels: number;
      maxSide: number;
      /** A past state of the board (version history): its seq and its elements' JSON array, drawn instead of the board's rows. */
      at?: { seq: number; json: Uint8Array };
    })
  /** A board list preview: vector when small, else a small PNG of the topmost elements inside an SVG. */
  | (JobBase & { kind: 'thumbnail'; vectorMaxLength: number; width: number; height: number })
  /** A joining subscriber's snapshot event, packed (`toWireFrame`) and serialized to JSON bytes. */
  | { kind: 'snapshot'; boardId: string };

export type RenderKind = RenderJob['kind'];
/** The jobs that draw the board (exports and previews). */
export type DrawJob = Exclude<RenderJob, { kind: 'snapshot' }>;

export type RenderOutcome =
  | { ok: true; seq: number; bytes: Uint8Array }
  | { ok: false; seq: number; reason: 'not-found' | 'too-large' | 'failed' };
