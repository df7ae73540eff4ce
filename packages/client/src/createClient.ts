import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '@inkboard/server';
import { PROTOCOL_VERSION } from '@inkboard/protocol';
import { Lane } from './Lane.js';

export interface InkboardClientOptions {
  /** Server address, e.g. http://localhost:3000. */
  url: string;
  /** API token (accounts). */
  token?: string;
  /** WebSocket implementation; Node 20 has none built in: pass the `ws` package. */
  WebSocket?: typeof globalThis.WebSocket;
  /** Send queries and mutations over the WebSocket too (lower latency for a live session). */
  allOverWebSocket?: boolean;
  /** Longest wait between reconnect attempts (before jitter); default 5 s. */
  maxRetryDelayMs?: number;
  /**
   * A browser that is a guest of several boards (issue 18): the board whose guest the WebSocket
   * acts as (its guest cookie holds one secret per board).
   */
  guestBoard?: string;
  /** Called when the server closed the connection for good (4401 credentials ended, 4429 too many connections). */
  onAuthEnded?: (code: number) => void;
}

/** Close codes after which the client stops reconnecting. */
export const FINAL_CLOSE_CODES = new Set([4401, 4429]);

export interface InkboardClient {
  trpc: TRPCClient<AppRouter>;
  ws: ReturnType<typeof createWSClient>;
  /** Cursor moves, previews and typing over the WebSocket, without replies. */
  lane: Lane;
  /** The server address and token it was made with (HTTP routes such as uploads use them). */
  readonly url: string;
  readonly token?: string;
  close(): Promise<void>;
}

/** Jittered exponential backoff: 0.25 s doubling up to `maxMs` (5 s), each delay randomized by +-50%. */
export function backoffMs(attempt: number, maxMs = 5_000): number {
  const base = Math.min(maxMs, 250 * 2 ** attempt);
  return Math.round(base * (0.5 + Math.random()));
}

/** The typed tRPC client of an Inkboard server: HTTP for queries and mutations, WebSocket for subscriptions. */
export function createInkboardClient(options: InkboardClientOptions): InkboardClient {
  const base = options.url.replace(/\/+$/, '');
  const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
  if (!WebSocketImpl) throw new Error('No WebSocket implementation: pass the `ws` package as options.WebSocket');
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const ws = createWSClient({
    url: `${base.replace(/^http/, 'ws')}/trpc`,
    WebSocket: WebSocketImpl,
    retryDelayMs: (attempt) => backoffMs(attempt, options.maxRetryDelayMs),
    connectionParams: () => {
      const params: Record<string, string> = { protocol: String(PROTOCOL_VERSION) };
      if (options.token) params.token = options.token;
      if (options.guestBoard) params.guestBoard = options.guestBoard;
      return params;
    },
    keepAlive: { enabled: true, intervalMs: 5_000, pongTimeoutMs: 3_000 },
    onClose: (cause) => {
      // Signed out, token revoked or too many connections: retrying cannot help.
      if (cause?.code !== undefined && FINAL_CLOSE_CODES.has(cause.code)) {
        options.onAuthEnded?.(cause.code);
        void ws.close();
      }
    },
  });
  const http = httpBatchLink<AppRouter>({ url: `${base}/trpc`, headers: () => headers });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription' || options.allOverWebSocket === true,
        true: wsLink<AppRouter>({ client: ws }),
        false: http,
      }),
    ],
  });
  return { trpc, ws, lane: new Lane(ws), url: base, ...(options.token ? { token: options.token } : {}), close: () => ws.close() };
}
