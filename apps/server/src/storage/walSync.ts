import { closeSync, fdatasync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * Slots of the state shared with the thread (Int32). Request numbers wrap around at 2^31 (a busy
 * server makes that many in weeks): they are compared by their difference, never by size.
 */
const REQUESTED = 0; // number of the latest sync asked for
const SYNCED = 1; // number of the latest sync done (it covers every request up to it)
const STOP = 2; // 1: the thread ends (a failed flush, or `close`)

/**
 * The thread: waits for a request, flushes the file, publishes the number it covered. One
 * `fdatasync` covers every request made before it started (their writes were in the page cache), so
 * requests that arrive during one are answered together by the next. After a failure it stops: once
 * `fdatasync` failed, the kernel may have dropped the dirty pages, and a later success would not
 * prove them on disk.
 */
const THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const { openSync, closeSync, fdatasyncSync } = require('node:fs');
const state = workerData.state;
let fd = -1;
let seen = Atomics.load(state, ${SYNCED});
for (;;) {
  Atomics.wait(state, ${REQUESTED}, seen);
  if (Atomics.load(state, ${STOP}) === 1) break;
  const n = Atomics.load(state, ${REQUESTED});
  if (n === seen) continue;
  try {
    if (fd < 0) fd = openSync(workerData.path, 'r');
    fdatasyncSync(fd);
  } catch (err) {
    Atomics.store(state, ${STOP}, 1);
    parentPort.postMessage({ failed: n, message: String((err && err.message) || err) });
    break;
  }
  seen = n;
  Atomics.store(state, ${SYNCED}, n);
  parentPort.postMessage(n);
}
if (fd >= 0) closeSync(fd);
`;

interface Waiter {
  n: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Flushes one file to disk (`fdatasync`) on a thread of its own, for SqliteStorage's WAL: what
 * `fs.fdatasync` on libuv's thread pool does, with the completion seen sooner. libuv hands a finished
 * job back at the event loop's next turn, which on a busy server comes after a whole poll phase of
 * hundreds of sockets' messages (a commit's median flush 0.2 ms, but 13-44 ms p99 from request to
 * its callback at N = 600 in the school benchmark, issue 19). Here the thread publishes each
 * finished flush in shared memory, and `poll` (called before every WebSocket message is handled,
 * and when the thread's message arrives, whichever is first) settles the waiting promises.
 * After a failed flush, or if the thread cannot run, every later `sync` uses `fs.fdatasync`.
 */
export class WalSync {
  private readonly state = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  private worker: Worker | null = null;
  private requested = 0;
  private readonly waiting: Waiter[] = [];
  /** The thread stopped (a failed flush, a crash, `close`): flush on the thread pool instead. */
  private stopped = false;
  private fd: number | null = null;
  /** Settles when the thread runs (or ended before it did). */
  private online: Promise<void> = Promise.resolve();

  /** `first`: the number the first request follows (tests start it near the wrap-around). */
  constructor(
    private readonly path: string,
    first = 0,
  ) {
    this.requested = first | 0;
    this.state[REQUESTED] = this.requested;
    this.state[SYNCED] = this.requested;
  }

  /**
   * Starts the thread now instead of at the first `sync`, which otherwise waits for it to boot (78 ms
   * on an idle machine, 100-160 ms under load: the first commits of a new server, issue 19).
   * Resolves when the thread is running, or at once when it cannot run (syncs then use the pool).
   */
  open(): Promise<void> {
    if (this.stopped || (!this.worker && !this.start())) return Promise.resolve();
    return this.online;
  }

  /** Resolves once everything written to the file before the call is on disk. */
  sync(): Promise<void> {
    if (this.stopped) return this.syncOnPool();
    if (!this.worker && !this.start()) return this.syncOnPool();
    const n = (this.requested = (this.requested + 1) | 0);
    Atomics.store(this.state, REQUESTED, n);
    Atomics.notify(this.state, REQUESTED);
    return new Promise((resolve, reject) => this.waiting.push({ n, resolve, reject }));
  }

  /** Settles the syncs the thread has finished since the last call: cheap when there are none. */
  poll(): void {
    if (this.waiting.length === 0) return;
    const synced = Atomics.load(this.state, SYNCED);
    let done = 0;
    // Done when `synced` is at or past the waiter's number (in the wrapping order).
    while (done < this.waiting.length && ((synced - this.waiting[done]!.n) | 0) >= 0) this.waiting[done++]!.resolve();
    if (done) this.waiting.splice(0, done);
  }

  /** Stops the thread; syncs still waiting fail. */
  close(): void {
    this.stop(new Error('The database was closed before its WAL was flushed to disk.'));
    if (this.fd !== null) closeSync(this.fd); // the thread-pool fallback's descriptor
    this.fd = null;
  }

  private start(): boolean {
    try {
      const worker = new Worker(THREAD, { eval: true, workerData: { path: this.path, state: this.state } });
      worker.unref();
      this.online = new Promise((resolve) => {
        worker.once('online', resolve);
        worker.once('exit', resolve);
      });
      worker.on('message', (message: unknown) => {
        this.poll();
        if (typeof message === 'object' && message !== null) this.stop(new Error(`Could not flush the database's WAL to disk: ${(message as { message: string }).message}`));
      });
      worker.on('error', (err) => this.stop(new Error(`The WAL's flush thread failed: ${err.message}`, { cause: err })));
      worker.on('exit', () => this.stop(new Error("The WAL's flush thread stopped before the flush was done.")));
      this.worker = worker;
      return true;
    } catch {
      this.stopped = true;
      return false;
    }
  }

  /** What the thread finished counts; the rest of the waiting fail with `error`. */
  private stop(error: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.poll();
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    Atomics.store(this.state, STOP, 1);
    Atomics.notify(this.state, REQUESTED);
    this.worker = null;
  }

  private syncOnPool(): Promise<void> {
    const failed = (err: Error) => new Error(`Could not flush the database's WAL to disk: ${err.message}`, { cause: err });
    try {
      this.fd ??= openSync(this.path, 'r');
    } catch (err) {
      return Promise.reject(failed(err as Error));
    }
    const fd = this.fd;
    return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(failed(err)) : resolve())));
  }
}
