import type { Credential } from './AuthService.js';

interface Closable {
  close(code?: number, reason?: string): void;
}

/** WebSocket close code for "your credentials ended": the client should not retry without signing in. */
export const CLOSE_AUTH_ENDED = 4401;

/**
 * Open WebSockets by the credential that opened them, so that sign-out, session expiry and token
 * revocation close them at once (tRPC checks credentials only when a connection opens).
 */
export class ConnectionRegistry {
  private readonly open = new Map<Closable, Credential>();
  private readonly timer: NodeJS.Timeout;

  constructor(sweepMs = 500) {
    this.timer = setInterval(() => this.closeExpired(), sweepMs);
    this.timer.unref();
  }

  add(socket: Closable & { once(event: 'close', fn: () => void): unknown }, credential: Credential): void {
    this.open.set(socket, credential);
    socket.once('close', () => this.open.delete(socket));
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
      }
    }
  }
}
