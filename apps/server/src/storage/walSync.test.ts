import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalSync } from './walSync.js';

// The WAL's flush thread: a real file, a real fdatasync on a real worker thread.

/**
 * Asks for a flush, then only polls and runs microtasks (the thread's own message needs a turn of
 * the event loop, which never comes here): true when the flush was settled by a poll within 5 s.
 */
async function settlesByPolls(walSync: WalSync): Promise<boolean> {
  let done = false;
  void walSync.sync().then(() => (done = true));
  const until = performance.now() + 5_000;
  while (!done && performance.now() < until) {
    walSync.poll();
    await Promise.resolve();
  }
  return done;
}

describe('WalSync', () => {
  let dir: string;
  let file: string;
  let walSync: WalSync;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'inkboard-walsync-'));
    file = join(dir, 'inkboard.db-wal');
    writeFileSync(file, 'start');
  });

  afterEach(() => {
    walSync?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('settles a finished flush at the next poll, without a turn of the event loop', async () => {
    walSync = new WalSync(file);
    await walSync.sync(); // the thread is up
    appendFileSync(file, 'more');
    expect(await settlesByPolls(walSync)).toBe(true);
  });

  it('open starts the thread before the first flush (SqliteStorage opens it with the database) and resolves once it runs', async () => {
    walSync = new WalSync(file);
    await walSync.open();
    await walSync.open(); // again: the same thread
    appendFileSync(file, 'more');
    expect(await settlesByPolls(walSync)).toBe(true);
  });

  it('answers every request, in order, also those made during a flush (one flush covers them)', async () => {
    walSync = new WalSync(file);
    const order: number[] = [];
    const syncs = Array.from({ length: 20 }, (_, i) => {
      appendFileSync(file, `write ${i}\n`);
      return walSync.sync().then(() => order.push(i));
    });
    await Promise.all(syncs);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('request numbers wrap around at 2^31 (weeks of a busy server) and are still answered in order', async () => {
    walSync = new WalSync(file, 2 ** 31 - 3);
    const order: number[] = [];
    for (let round = 0; round < 3; round++) {
      // Some while a flush runs, some after: across the wrap from 2^31 - 1 to -2^31.
      await Promise.all([0, 1].map((i) => walSync.sync().then(() => order.push(round * 2 + i))));
    }
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a file it cannot flush fails with the reason, and so does every later sync (on the thread pool)', async () => {
    walSync = new WalSync(join(dir, 'missing-wal'));
    await expect(walSync.sync()).rejects.toThrow(/Could not flush the database's WAL to disk: .*ENOENT/);
    await expect(walSync.sync()).rejects.toThrow(/ENOENT/);
  });

  it('close fails the syncs still waiting, with a message saying so', async () => {
    walSync = new WalSync(file);
    await walSync.sync();
    const waiting = walSync.sync();
    walSync.close();
    // Either the flush finished first (then it counts) or the close failed it: never left hanging.
    const outcome = await waiting.then(
      () => 'flushed',
      (err: Error) => err.message,
    );
    expect(['flushed', 'The database was closed before its WAL was flushed to disk.']).toContain(outcome);
  });
});
