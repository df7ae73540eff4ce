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
}

export interface ReplayResult {
  count: number;
  jsonBytes: number;
  json?: Uint8Array;
  gz?: Uint8Array;
}
