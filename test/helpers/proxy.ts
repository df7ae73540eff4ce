import { createServer, Socket, type Server } from 'node:net';

/** A TCP proxy on loopback whose connections can be cut, to simulate network failures. */
export class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private down = false;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      if (this.down) {
        client.destroy();
        return;
      }
      const upstream = new Socket();
      upstream.connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Drops every connection and refuses new ones for `ms`. */
  async cut(ms: number): Promise<void> {
    this.down = true;
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => setTimeout(r, ms));
    this.down = false;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/**
 * A TCP proxy on loopback that sends each new connection to the next of several upstream ports
 * (skipping ones that refuse), as a load balancer does: a client that reconnects lands on another
 * server process.
 */
export class RoundRobinProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private next = 0;
  port = 0;
  /** Connections sent to each upstream port. */
  readonly counts = new Map<number, number>();

  constructor(private readonly targetPorts: readonly number[]) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      client.pause();
      client.on('error', () => undefined);
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      this.connect(client, 0);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private connect(client: Socket, attempt: number): void {
    if (attempt >= this.targetPorts.length || client.destroyed) {
      client.destroy();
      return;
    }
    const port = this.targetPorts[this.next++ % this.targetPorts.length]!;
    const upstream = new Socket();
    let connected = false;
    upstream.once('error', () => {
      // Refused (a killed process): try the next one, like nginx's proxy_next_upstream.
      if (!connected) this.connect(client, attempt + 1);
    });
    upstream.connect(port, '127.0.0.1', () => {
      connected = true;
      this.counts.set(port, (this.counts.get(port) ?? 0) + 1);
      this.sockets.add(upstream);
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => undefined);
      client.on('close', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
