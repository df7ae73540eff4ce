import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStorage, type SqliteStorage } from '../storage/SqliteStorage.js';
import { AccessService } from './AccessService.js';
import { LocalBoardHub } from './BoardHub.js';

// The role cache of the lane's synchronous path, on the real SQLite store: a role in use is looked up
// again before it expires, never served older than 5 s, and a change forgets it at once.

const settle = () => new Promise((r) => setImmediate(r));

describe('AccessService role cache', () => {
  let dir: string;
  let storage: SqliteStorage;
  let hub: LocalBoardHub;
  let access: AccessService;
  let lookups: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkboard-access-'));
    storage = openSqliteStorage(join(dir, 'inkboard.db'));
    for (const [id, username] of [
      ['owner', 'olga'],
      ['member', 'max'],
    ]) {
      await storage.insertUser({ id: id!, username: username!, passwordHash: 'x', name: username!, color: '#1971c2', createdAt: Date.now() });
    }
    await storage.createBoard({ id: 'b1', title: 'Cache', ownerId: 'owner', now: Date.now() });
    await storage.addMember('b1', 'member', 'editor', Date.now());
    hub = new LocalBoardHub(25);
    access = new AccessService(storage, hub);
    lookups = 0;
    const roleOf = storage.roleOf.bind(storage);
    storage.roleOf = (boardId, userId) => {
      lookups++;
      return roleOf(boardId, userId);
    };
  });

  afterEach(async () => {
    await hub.close();
    storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('looks a role in use up again before it expires, so the synchronous path keeps finding it', async () => {
    const t0 = 1_000_000;
    expect(access.cachedRole('b1', 'member', t0)).toBeUndefined();
    expect(await access.roleOf('b1', 'member', t0)).toBe('editor');
    expect(lookups).toBe(1);
    // Fresh: served from the cache, nothing read.
    expect(access.cachedRole('b1', 'member', t0 + 3_000)).toBe('editor');
    expect(lookups).toBe(1);
    // Close to its end: still served, and read again in the background, once.
    expect(access.cachedRole('b1', 'member', t0 + 4_500)).toBe('editor');
    expect(access.cachedRole('b1', 'member', t0 + 4_600)).toBe('editor');
    await settle();
    expect(lookups).toBe(2);
    // Past the first lookup's 5 s, the refreshed entry (as of 4.5 s) serves.
    expect(access.cachedRole('b1', 'member', t0 + 6_000)).toBe('editor');
    expect(lookups).toBe(2);
  });

  it('never serves a role older than 5 s: an entry nobody used near its end expires', async () => {
    const t0 = 2_000_000;
    await access.roleOf('b1', 'member', t0);
    expect(access.cachedRole('b1', 'member', t0 + 5_000)).toBeUndefined();
    expect(lookups).toBe(1);
  });

  it('a change forgets the role at once, and a lookup it overtook caches nothing', async () => {
    const t0 = 3_000_000;
    await access.roleOf('b1', 'member', t0);
    // The next lookup reads the role now and answers only when released (a slow database).
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const roleOf = storage.roleOf;
    storage.roleOf = async (boardId, userId) => {
      const role = await roleOf(boardId, userId);
      await gate;
      return role;
    };
    // A refresh starts and reads 'editor'; the member is demoted and the board's roles forgotten before it answers.
    expect(access.cachedRole('b1', 'member', t0 + 4_500)).toBe('editor');
    await settle();
    await storage.setRole('b1', 'member', 'viewer');
    access.forget('b1');
    expect(access.cachedRole('b1', 'member', t0 + 4_501)).toBeUndefined();
    release();
    await settle();
    // What the refresh read did not come back into the cache: the next lookup reads the new role.
    expect(access.cachedRole('b1', 'member', t0 + 4_502)).toBeUndefined();
    storage.roleOf = roleOf;
    expect(await access.roleOf('b1', 'member', t0 + 4_503)).toBe('viewer');
    expect(access.cachedRole('b1', 'member', t0 + 4_504)).toBe('viewer');
  });
});
