import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints of the SQLite WAL, made by a worker thread with a connection of its own, so that the
 * event loop never waits for them: a checkpoint copies up to a few MiB into the database file and
 * syncs the WAL and the file (synchronous=FULL), which held the loop for tens of milliseconds at
 * every checkpoint (every board's ops and cursors stood still meanwhile). PASSIVE: it copies what it
 * can without waiting for the server's connection, which keeps reading and writing meanwhile. The
 * WAL restarts from its beginning at the first write after a checkpoint that left nothing uncopied,
 * so a checkpoint during which the server wrote is followed by another (each copies only what was
 * written during the one before, so they get short at once), until one finds no new write. The
 * thread starts at the first checkpoint (most short-lived servers, like tests', never need it).
 */
export class WalCheckpointer {
  private worker: Worker | null = null;
  private running: Promise<CheckpointResult> | null = null;
  private again = false;
  private closed = false;

  /** Rounds of one checkpoint at most (each after writes made during the one before). */
  static readonly MAX_ROUNDS = 20;

  constructor(private readonly dbPath: string) {}

  /** Starts a checkpoint (or one more after the running one); never waits. */
  checkpoint(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.rounds().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.checkpoint();
      }
    });
    this.running.catch(() => {});
  }

  /** Resolves once no checkpoint is running or asked for (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => {});
  }

  /** Waits for the running checkpoint, then closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    this.closed = true;
    this.again = false;
    await this.idle();
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' });
    await exited;
  }

  /** Checkpoints until one ran with no write meanwhile (everything copied: the WAL can restart). */
  private async rounds(): Promise<CheckpointResult> {
    for (let round = 1; ; round++) {
      const result = await this.run();
      if (!result.writtenMeanwhile || round >= WalCheckpointer.MAX_ROUNDS || this.closed) return result;
    }
  }

  private run(): Promise<CheckpointResult> {
    const worker = this.thread();
    return new Promise((resolve, reject) => {
      const onMessage = (result: CheckpointResult | { error: string }) => {
        worker.off('error', onError);
        if ('error' in result) reject(new Error(`WAL checkpoint failed: ${result.error}`));
        else resolve(result);
      };
      const onError = (err: Error) => {
        worker.off('message', onMessage);
        this.worker = null;
        reject(err);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.postMessage({ type: 'checkpoint' });
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sqlite, path: this.dbPath } });
    // A thread that ended (an error) is made again at the next checkpoint.
    worker.once('exit', () => {
      if (this.worker === worker) this.worker = null;
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

/** What `PRAGMA wal_checkpoint` answered, and how long the thread took. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
  ms: number;
  /** Another connection (the server's) committed while it ran (`PRAGMA data_version` changed). */
  writtenMeanwhile: boolean;
}

/** The thread (CommonJS, evaluated): its own connection, FULL syncs, one checkpoint per message. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', (message) => {
  if (message.type === 'close') {
    db.close();
    process.exit(0);
  }
  const started = performance.now();
  try {
    const version = db.pragma('data_version', { simple: true });
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    const writtenMeanwhile = db.pragma('data_version', { simple: true }) !== version;
    parentPort.postMessage({ ...result, ms: performance.now() - started, writtenMeanwhile });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
});
`;
