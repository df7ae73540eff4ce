/** What the version worker (versionWorker.ts) is asked and answers. */
export interface ReplayJob {
  /** The state to start from: a gzipped checkpoint, element rows (JSON), or null for the empty board. */
  base: { gz: Uint8Array } | { rows: string[] } | null;
  /** JSON of the ops to apply, in seq order. */
  ops: string[];
  /** Seq of the first op (for error messages). */
  firstSeq: number;
  /** Return the elements' JSON array. */
  json: boolean;
  /** Return the gzip of it (a checkpoint). */
  gzip: boolean;
  /**
   * Also compute the ops restoring that state onto `current` (the board's element rows now), or
   * only its elements `ids`: `restoreOps` of the protocol, with op ids r0, r1, ... (the caller renames them).
   */
  restore?: { current: string[]; ids?: string[] };
}

export interface ReplayResult {
  count: number;
  jsonBytes: number;
  json?: Uint8Array;
  gz?: Uint8Array;
  /** The restore's ops (JSON), when asked. */
  restoreOps?: string;
}
