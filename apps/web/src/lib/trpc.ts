import { createTRPCClient, httpBatchLink, TRPCClientError, type TRPCClient } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@inkboard/server';
import { createInkboardClient, type InkboardClient } from '@inkboard/client';

export type Api = TRPCClient<AppRouter>;
export type Outputs = inferRouterOutputs<AppRouter>;
export type Me = NonNullable<Outputs['auth']['me']>;
export type BoardSummary = Outputs['board']['list'][number];
export type BoardInfo = Outputs['board']['byId'];

/**
 * Queries and mutations over HTTP. Same origin, so the browser sends the HttpOnly session cookie
 * with each request, and sign-in responses can set it.
 */
export function createApi(): Api {
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: '/trpc' })] });
}

/**
 * A live connection for one board: everything over one WebSocket, authenticated by the cookie sent
 * with the handshake. Cursors and previews must share the subscription's socket, since the server
 * names a connection's presence, cursor and previews by the same client id. `guestBoard`: a guest's
 * board (the guest cookie holds one identity per board; the socket acts as that board's).
 */
export function createLiveClient(guestBoard?: string): InkboardClient {
  // A person waits at the screen: retry at least every 2 s (with jitter) once the network is back.
  return createInkboardClient({ url: location.origin, allOverWebSocket: true, maxRetryDelayMs: 2_000, ...(guestBoard ? { guestBoard } : {}) });
}

/** A message fit to show a person. */
export function errorMessage(error: unknown): string {
  if (error instanceof TRPCClientError) {
    if (error.message === 'Failed to fetch' || error.message.includes('NetworkError')) return 'The server cannot be reached. Check your connection.';
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The tRPC error code of a failure (UNAUTHORIZED, FORBIDDEN, NOT_FOUND...), if any. */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data: unknown = error.data;
  return data && typeof data === 'object' && 'code' in data && typeof data.code === 'string' ? data.code : undefined;
}
