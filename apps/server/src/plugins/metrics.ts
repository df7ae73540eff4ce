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

/** `GET /metrics` in Prometheus text format. */
export const metricsPlugin = fp<{ metrics: Metrics }>(
  async (app, opts) => {
    app.get('/metrics', async (_req, reply) => reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics()));
  },
  { name: 'inkboard-metrics' },
);
