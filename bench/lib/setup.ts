/**
 * Accounts and a shared board for the benchmarks, through the public API: every client of the
 * classroom is its own user (the server limits sockets and rates per user), with an API token, and an
 * editor of the board through a share link. Servers without accounts (before auth existed) are
 * detected and used as they are (`token: null`).
 */

export interface Classroom {
  boardId: string;
  /** Every board (a classroom: one; a school: one per board of clients). */
  boardIds: string[];
  /** Owner's token (creates the board), or null on a server without accounts. */
  ownerToken: string | null;
  /** One token per client, or nulls. */
  tokens: (string | null)[];
  setupMs: number;
}

interface TrpcHttpResult<T> {
  data: T;
  setCookie: string | null;
}

/** A tRPC call over HTTP (v11, no transformer): mutations are POSTed with the input as the body. */
export async function trpcHttp<T>(
  port: number,
  path: string,
  input: unknown,
  auth: { token?: string | null; cookie?: string | null } = {},
  kind: 'mutation' | 'query' = 'mutation',
): Promise<TrpcHttpResult<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.cookie) headers.cookie = auth.cookie;
  const url = `http://127.0.0.1:${port}/trpc/${path}` + (kind === 'query' ? `?input=${encodeURIComponent(JSON.stringify(input))}` : '');
  const res = await fetch(url, { method: kind === 'query' ? 'GET' : 'POST', headers, body: kind === 'query' ? undefined : JSON.stringify(input), signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as { result?: { data: T }; error?: { message: string; data?: { code?: string } } };
  if (body.error) {
    const err = new Error(`${path}: ${body.error.message}`) as Error & { code?: string };
    err.code = body.error.data?.code;
    throw err;
  }
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]!);
  return { data: body.result!.data, setCookie: cookies.length ? cookies.join('; ') : null };
}

/** Signs up a user and makes an API token for it. */
export async function makeUser(port: number, username: string): Promise<string> {
  const { setCookie } = await trpcHttp(port, 'auth.signUp', { username, password: 'benchmark-password' });
  if (!setCookie) throw new Error('auth.signUp set no session cookie');
  const { data } = await trpcHttp<{ token: string }>(port, 'token.create', { name: 'benchmark' }, { cookie: setCookie });
  return data.token;
}

/** Whether the server has accounts (auth.me exists). */
export async function hasAccounts(port: number): Promise<boolean> {
  try {
    await trpcHttp(port, 'auth.me', undefined, {}, 'query');
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'NOT_FOUND') return false;
    throw err;
  }
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) out[i] = await task(i);
    }),
  );
  return out;
}

/**
 * The owner's board and `n` users who may edit it; with `school`, `school.boards` boards and user i an
 * editor of board `school.boardOf(i)` only.
 */
export async function setupClassroom(
  port: number,
  n: number,
  title: string,
  school?: { boards: number; boardOf: (i: number) => number },
  options: { guests?: boolean } = {},
): Promise<Classroom> {
  const t0 = performance.now();
  const boards = school?.boards ?? 1;
  const boardOf = school?.boardOf ?? (() => 0);
  if (!(await hasAccounts(port))) {
    const boardIds = await pool(boards, 8, async (b) => (await trpcHttp<{ id: string }>(port, 'board.create', { title: `${title} #${b + 1}` })).data.id);
    return { boardId: boardIds[0]!, boardIds, ownerToken: null, tokens: new Array(n).fill(null), setupMs: performance.now() - t0 };
  }
  // One teacher per 15 boards: a person may create 20 boards at once (then 2 a second).
  const teachers = await pool(Math.ceil(boards / 15), 4, (t) => makeUser(port, t === 0 ? 'teacher' : `teacher${t}`));
  const ownerToken = teachers[0]!;
  const made = await pool(boards, 4, async (b) => {
    const owner = teachers[Math.floor(b / 15)]!;
    const { data: board } = await trpcHttp<{ id: string }>(port, 'board.create', { title: boards > 1 ? `${title} #${b + 1}` : title }, { token: owner });
    const { data: link } = options.guests
      ? await trpcHttp<{ code: string }>(port, 'guest.setLink', { boardId: board.id, role: 'editor' }, { token: owner })
      : await trpcHttp<{ code: string }>(port, 'share.createLink', { boardId: board.id, role: 'editor' }, { token: owner });
    return { id: board.id, code: link.code };
  });
  const tokens = await pool(n, 8, async (i) => {
    // --guests (issue 18): each client a guest of the public link, its secret as the token.
    if (options.guests) return (await trpcHttp<{ token: string }>(port, 'guest.join', { code: made[boardOf(i)]!.code, name: `guest ${i}`, returnToken: true })).data.token;
    const token = await makeUser(port, `student${i}`);
    await trpcHttp(port, 'share.accept', { code: made[boardOf(i)]!.code }, { token });
    return token;
  });
  return { boardId: made[0]!.id, boardIds: made.map((b) => b.id), ownerToken, tokens, setupMs: performance.now() - t0 };
}

/** WebSocket URL and first message for a token (tRPC connection params), or the plain URL. */
export function wsConnect(port: number, token: string | null): { url: string; first: string | null } {
  if (!token) return { url: `ws://127.0.0.1:${port}/trpc`, first: null };
  return { url: `ws://127.0.0.1:${port}/trpc?connectionParams=1`, first: JSON.stringify({ method: 'connectionParams', data: { token } }) };
}
