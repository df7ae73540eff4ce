import type { Credential } from './AuthService.js';

interface Closable {
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/** How long a client gets to complete the close handshake before its connection is cut. */
const CLOSE_GRACE_MS = 1_000;

/** WebSocket close code for "your credentials ended": the client should not retry without signing in. */
export const CLOSE_AUTH_ENDED = 4401;
/** Close code for "too many connections for this user". */
export const CLOSE_TOO_MANY = 4429;
/** Open WebSockets one user may have at once (tabs, scripts). */
export const MAX_SOCKETS_PER_USER = 20;

/**
 * Open WebSockets by the credential that opened them, so that sign-out, session expiry and token
 * revocation close them at once (tRPC checks credentials only when a connection opens).
 */
export class ConnectionRegistry {
  private readonly open = new Map<Closable, Credential>();
  private readonly perUser = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(sweepMs = 500) {
    this.timer = setInterval(() => this.closeExpired(), sweepMs);
    this.timer.unref();
  }

  /** Tracks a signed-in socket; refuses (closes) one over the per-user limit. */
  add(socket: Closable & { once(event: 'close', fn: () => void): unknown }, credential: Credential, userId: string): boolean {
    const count = this.perUser.get(userId) ?? 0;
    if (count >= MAX_SOCKETS_PER_USER) {
      socket.close(CLOSE_TOO_MANY, `at most ${MAX_SOCKETS_PER_USER} connections per user`);
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
      return false;
    }
    this.perUser.set(userId, count + 1);
    this.open.set(socket, credential);
    socket.once('close', () => {
      this.open.delete(socket);
      const left = (this.perUser.get(userId) ?? 1) - 1;
      if (left > 0) this.perUser.set(userId, left);
      else this.perUser.delete(userId);
    });
    return true;
  }

  closeSession(idHash: string): void {
    this.closeWhere((c) => c.kind === 'session' && c.idHash === idHash, 'signed out');
  }

  closeToken(tokenId: string): void {
    this.closeWhere((c) => c.kind === 'token' && c.tokenId === tokenId, 'token revoked');
  }

  closeExpired(now = Date.now()): void {
    this.closeWhere((c) => c.kind === 'session' && c.expiresAt <= now, 'session expired');
  }

  get size(): number {
    return this.open.size;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private closeWhere(match: (c: Credential) => boolean, reason: string): void {
    for (const [socket, credential] of this.open) {
      if (match(credential)) {
        this.open.delete(socket);
        socket.close(CLOSE_AUTH_ENDED, reason);
        // A client that never answers the close frame would otherwise keep the connection (and its
        // subscriptions) for ws's 30 s close timeout; terminate() is a no-op once it has closed.
        setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
      }
    }
  }
}
