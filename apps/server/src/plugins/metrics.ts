import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus metrics, one registry per app (tests run several apps in a process). */
export class Metrics {
  readonly registry = new Registry();
  readonly ops = new Counter({ name: 'inkboard_ops_total', help: 'Ops applied and stored', registers: [this.registry] });
  readonly frames = new Counter({ name: 'inkboard_frames_total', help: 'Frames delivered to subscribers', registers: [this.registry] });
  readonly gapFills = new Counter({
    name: 'inkboard_gap_fills_total',
    help: 'Times a subscription read ops from the database because events were lost or overtaken between processes',
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'inkboard_refused_total',
    help: 'Requests refused by a limit',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly fanout = new Histogram({
    name: 'inkboard_fanout_delay_seconds',
    help: 'Time from an event being published to its frame reaching the subscribers (includes the tick wait)',
    buckets: [0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly commit = new Histogram({
    name: 'inkboard_commit_seconds',
    help: 'Duration of one group-commit transaction (fsync included)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  constructor(gauges: { connections: () => number; openBoards: () => number; subscriptions: () => number }) {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    gauge('inkboard_ws_connections', 'Open WebSocket connections', gauges.connections);
    gauge('inkboard_open_boards', 'Boards with at least one subscriber on this process', gauges.openBoards);
    gauge('inkboard_subscriptions', 'Open board subscriptions on this process', gauges.subscriptions);
  }
}

/**
 * Who may read `/metrics` (it names the process's load, memory and refusals):
 * - `local` (default): requests from a loopback address of this machine that no proxy forwarded
 *   (no `X-Forwarded-For`, `Forwarded` or `X-Real-IP`: nginx on the same host connects from
 *   127.0.0.1 too), and anyone with `Authorization: Bearer <INKBOARD_METRICS_TOKEN>` when a token is set;
 * - `public`: anyone (a private network with its own firewall);
 * - `off`: nobody (404).
 */
export const METRICS_MODES = ['local', 'public', 'off'] as const;
export type MetricsMode = (typeof METRICS_MODES)[number];
/** Shortest accepted `INKBOARD_METRICS_TOKEN` (a guessable token is no protection). */
export const METRICS_TOKEN_MIN_LENGTH = 16;

const PROXY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'] as const;

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return false;
  // Compare digests: equal lengths, constant time.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}

/** Whether a request may read the metrics under `mode` / `token`. */
export function metricsAllowed(req: FastifyRequest, mode: MetricsMode, token: string | null): boolean {
  if (mode === 'public') return true;
  if (mode === 'off') return false;
  if (token !== null && bearerMatches(req.headers.authorization, token)) return true;
  return isLoopback(req.socket.remoteAddress) && PROXY_HEADERS.every((h) => req.headers[h] === undefined);
}

/** `GET /metrics` in Prometheus text format, to whom `mode` allows. */
export const metricsPlugin = fp<{ metrics: Metrics; mode?: MetricsMode; token?: string | null }>(
  async (app, opts) => {
    const mode = opts.mode ?? 'local';
    const token = opts.token ?? null;
    app.get('/metrics', async (req, reply) => {
      if (mode === 'off') return reply.code(404).send({ error: 'Not Found', message: 'Metrics are turned off on this server (INKBOARD_METRICS=off).' });
      if (!metricsAllowed(req, mode, token)) {
        const how = token === null ? 'set INKBOARD_METRICS_TOKEN and send it as "Authorization: Bearer <token>"' : 'send "Authorization: Bearer <INKBOARD_METRICS_TOKEN>"';
        return reply.code(403).send({
          error: 'Forbidden',
          message: `/metrics is served only to this machine (loopback, not through a proxy). To read it from elsewhere, ${how}, or set INKBOARD_METRICS=public on a private network.`,
        });
      }
      return reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
    });
  },
  { name: 'inkboard-metrics' },
);
