import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@inkboard/server';

/**
 * Signs up or in over HTTP (the server answers with a session cookie), then uses that session to
 * create an API token for the CLI.
 */
export async function signInForToken(server: string, username: string, password: string, signUp: boolean, tokenName: string) {
  let cookie = '';
  const client = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${server}/trpc`,
        headers: () => (cookie ? { cookie } : {}),
        fetch: async (url, init) => {
          const res = await fetch(url, init as RequestInit);
          const set = res.headers.getSetCookie().map((c) => c.split(';')[0]).filter(Boolean);
          if (set.length) cookie = set.join('; ');
          return res;
        },
      }),
    ],
  });
  const { user } = signUp ? await client.auth.signUp.mutate({ username, password }) : await client.auth.signIn.mutate({ username, password });
  const created = await client.token.create.mutate({ name: tokenName });
  await client.auth.signOut.mutate();
  return { username: user.username, token: created.token, tokenId: created.id };
}
