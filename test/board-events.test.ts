import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardEvent } from '@inkboard/protocol';
import { connect, openSession, startServer, waitFor, type TestServer } from './helpers/server.js';

/**
 * Board details that are not ops reach everyone on the board live: a rename (`renamed`) and every
 * change of who is a member (`members`), so titles and share dialogs need no reload.
 */
describe('renamed and members events', () => {
  let server: TestServer;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await server?.destroy();
  });

  it('reach a member’s subscription when the owner renames the board and when membership changes', async () => {
    const owner = connect(server.url, 'owner');
    cleanups.push(() => owner.close());
    const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'Before' });
    const events: BoardEvent[] = [];
    const member = openSession(server.url, boardId, 'member', { event: (e) => events.push(e) });
    cleanups.push(member.close);
    await waitFor(() => member.session.status === 'live', 'the member live');
    const count = (type: BoardEvent['type']) => events.filter((e) => e.type === type).length;

    await owner.trpc.board.rename.mutate({ boardId, title: 'After' });
    await waitFor(() => count('renamed') === 1, 'the renamed event');
    expect(events.find((e) => e.type === 'renamed')).toEqual({ type: 'renamed', title: 'After' });
    expect((await owner.trpc.board.byId.query({ boardId })).title).toBe('After');

    // A newcomer joins by a link, gets another role, leaves, joins again, is removed and let back in: one event each.
    const { code } = await owner.trpc.share.createLink.mutate({ boardId, role: 'editor' });
    const newcomer = connect(server.url, 'newcomer');
    cleanups.push(() => newcomer.close());
    await newcomer.trpc.share.accept.mutate({ code });
    await waitFor(() => count('members') === 1, 'members after accept');
    const { userId } = (await owner.trpc.share.members.query({ boardId })).find((m) => m.name === 'newcomer')!;
    await owner.trpc.share.setRole.mutate({ boardId, userId, role: 'viewer' });
    await waitFor(() => count('members') === 2, 'members after setRole');
    await newcomer.trpc.board.leave.mutate({ boardId });
    await waitFor(() => count('members') === 3, 'members after leave');
    await newcomer.trpc.share.accept.mutate({ code });
    await waitFor(() => count('members') === 4, 'members after joining again');
    await owner.trpc.share.removeMember.mutate({ boardId, userId });
    await waitFor(() => count('members') === 5, 'members after removeMember');
    await owner.trpc.share.readmit.mutate({ boardId, userId, role: 'editor' });
    await waitFor(() => count('members') === 6, 'members after readmit');

    // A refused rename (not the owner) changes nothing and tells no one.
    const renamedBefore = count('renamed');
    await expect(member.client.trpc.board.rename.mutate({ boardId, title: 'Hijacked' })).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    expect(count('renamed')).toBe(renamedBefore);
  });
});
