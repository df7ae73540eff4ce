import { describe, expect, it } from 'vitest';
import { GUEST_COOKIE_BOARDS, newestGuest, readGuestCookie, withGuest, writeGuestCookie } from './guestCookie.js';

const secret = (n: number) => `ibg_${String(n).padStart(43, 'x')}`;

describe('guest cookie: one guest secret per board', () => {
  it('reads what it writes, oldest first, and the newest is the default', () => {
    let boards = new Map<string, string>();
    for (let i = 0; i < 3; i++) boards = withGuest(boards, `board${i}`, secret(i));
    const value = writeGuestCookie(boards)!;
    expect(value).toBe(`board0.${secret(0)}~board1.${secret(1)}~board2.${secret(2)}`);
    expect([...readGuestCookie(value)]).toEqual([...boards]);
    expect(newestGuest(readGuestCookie(value))).toBe(secret(2));
    // Joining a board again moves it to the end with its new secret.
    expect([...withGuest(boards, 'board0', secret(9)).keys()]).toEqual(['board1', 'board2', 'board0']);
  });

  it(`holds at most ${GUEST_COOKIE_BOARDS} boards: the oldest leave, on writing and on reading a longer hand-made value`, () => {
    let boards = new Map<string, string>();
    for (let i = 0; i < GUEST_COOKIE_BOARDS + 3; i++) boards = withGuest(boards, `b${i}`, secret(i));
    expect([...boards.keys()]).toEqual(Array.from({ length: GUEST_COOKIE_BOARDS }, (_, i) => `b${i + 3}`));
    const long = Array.from({ length: GUEST_COOKIE_BOARDS + 2 }, (_, i) => `b${i}.${secret(i)}`).join('~');
    expect([...readGuestCookie(long).keys()]).toEqual(Array.from({ length: GUEST_COOKIE_BOARDS }, (_, i) => `b${i + 2}`));
  });

  it('ignores malformed entries and over-long values; an older bare secret is kept under no board', () => {
    expect([...readGuestCookie(`a.${secret(1)}~nonsense~b.ink_notaguest~c.d.${secret(2)}~e f.${secret(3)}~g.${secret(4)}`)]).toEqual([
      ['a', secret(1)],
      ['g', secret(4)],
    ]);
    expect(readGuestCookie(`a.${secret(1)}~${'x'.repeat(4_000)}`).size).toBe(0);
    expect(readGuestCookie(undefined).size).toBe(0);
    const legacy = readGuestCookie(secret(5));
    expect([...legacy]).toEqual([['', secret(5)]]);
    expect(newestGuest(legacy)).toBe(secret(5));
    // It is not written back without its board (the join resolves it first).
    expect(writeGuestCookie(legacy)).toBeNull();
  });
});
