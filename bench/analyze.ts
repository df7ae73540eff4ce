/**
 * Merges classroom result files and prints Markdown tables: medians per system and N over all runs,
 * and over the "quiet" runs only (the server waited for a CPU at most 10% of the window and other
 * processes used at most 25% of one core), with N_max for each view.
 *   node --import tsx bench/analyze.ts bench/results/classroom-A.json [B.json ...]
 */
import { readFileSync } from 'node:fs';
import { median } from './lib/util.js';

const LIMIT = 50;
const files = process.argv.slice(2);
if (!files.length) throw new Error('usage: analyze.ts RESULT.json [RESULT.json ...]');

interface Run {
  system: 'inkboard' | 'socketio';
  n: number;
  cursor: { p50: number | null; p99: number | null };
  op: { p50: number | null; p99: number | null };
  ack: { p50: number | null; p99: number | null };
  opDelivery: number | null;
  cursorDelivery: number | null;
  serverCpuPct: number | null;
  serverWaitPct: number | null;
  serverRssMbPeak: number | null;
  probeRtt?: { p99: number | null };
  bytesPerClientPerS: number;
  msgsPerClientPerS: number;
  framesPerClientPerS?: number | null;
  genLagP99: number;
  genCpuPct: number;
  otherCpuPct: number | null;
  sendRate: number;
  pass: boolean;
}

const runs: Run[] = files.flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as { runs: Run[] }).runs);
const quiet = (r: Run) => (r.serverWaitPct ?? 100) <= 10 && (r.otherCpuPct ?? 100) <= 25;

const f = (v: number | null, d = 1) => (v === null ? '-' : v >= 10_000 ? '≥10 s' : v.toFixed(d));
const pct = (v: number | null) => (v === null ? '-' : `${Math.round(v * 1000) / 10}%`);

function rows(system: string, pick: (r: Run) => boolean) {
  const byN = new Map<number, Run[]>();
  for (const r of runs) if (r.system === system && pick(r)) byN.set(r.n, [...(byN.get(r.n) ?? []), r]);
  return [...byN.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([n, rs]) => {
      const med = (g: (r: Run) => number | null | undefined) => median(rs.map((r) => g(r) ?? null));
      const s = {
        n,
        runs: rs.length,
        passed: rs.filter((r) => r.pass).length,
        cursorP50: med((r) => r.cursor.p50),
        cursorP99: med((r) => r.cursor.p99),
        opP50: med((r) => r.op.p50),
        opP99: med((r) => r.op.p99),
        ackP50: med((r) => r.ack.p50),
        opDelivery: med((r) => r.opDelivery),
        cursorDelivery: med((r) => r.cursorDelivery),
        cpu: med((r) => r.serverCpuPct),
        wait: med((r) => r.serverWaitPct),
        rss: med((r) => r.serverRssMbPeak),
        probe: med((r) => r.probeRtt?.p99),
        kb: med((r) => r.bytesPerClientPerS / 1024),
        msgs: med((r) => r.msgsPerClientPerS),
        frames: med((r) => r.framesPerClientPerS),
        lag: med((r) => r.genLagP99),
        gencpu: med((r) => r.genCpuPct),
        others: med((r) => r.otherCpuPct),
        sends: med((r) => r.sendRate),
        pass: false,
      };
      s.pass =
        s.cursorP99 !== null && s.cursorP99 <= LIMIT && s.opP99 !== null && s.opP99 <= LIMIT && s.opDelivery === 1 && s.cursorDelivery === 1;
      return s;
    });
}

function nMax(rs: ReturnType<typeof rows>) {
  let best = 0;
  for (const s of rs) {
    if (!s.pass) break;
    best = s.n;
  }
  return best;
}

for (const [title, pick] of [
  ['all runs', () => true],
  ['quiet runs only (server waited for a CPU <= 10%, other processes <= 25% of a core)', quiet],
] as const) {
  console.log(`\n### Medians over ${title}\n`);
  const nm: Record<string, number> = {};
  for (const system of ['inkboard', 'socketio']) {
    const rs = rows(system, pick);
    nm[system] = nMax(rs);
    console.log(`\n**${system === 'inkboard' ? 'Inkboard' : 'socket.io relay'}** (N_max = ${nm[system]})\n`);
    console.log(
      '| N | runs | cursor p50 / p99 ms | op p50 / p99 ms | ack p50 ms | ops delivered | final cursors | server CPU % | server waited % | server RSS MB | probe p99 ms | KB/s per client | msgs/s per client | frames/s | gen lag p99 ms | gen CPU % | others CPU % | result (runs passed) |',
    );
    console.log('|' + '---|'.repeat(19));
    for (const s of rs)
      console.log(
        `| ${s.n} | ${s.runs} | ${f(s.cursorP50)} / ${f(s.cursorP99)} | ${f(s.opP50)} / ${f(s.opP99)} | ${system === 'inkboard' ? f(s.ackP50) : '-'} | ${pct(s.opDelivery)} | ${pct(s.cursorDelivery)} | ${f(s.cpu, 0)} | ${f(s.wait, 0)} | ${f(s.rss, 0)} | ${f(s.probe)} | ${f(s.kb)} | ${f(s.msgs, 0)} | ${system === 'inkboard' ? f(s.frames, 0) : '-'} | ${f(s.lag)} | ${f(s.gencpu, 0)} | ${f(s.others, 0)} | ${s.pass ? 'pass' : 'FAIL'} (${s.passed}/${s.runs}) |`,
      );
  }
  const ratio = nm.socketio ? Math.round((nm.inkboard! / nm.socketio) * 100) / 100 : null;
  console.log(`\nN_max: Inkboard ${nm.inkboard}, socket.io ${nm.socketio}, ratio ${ratio ?? 'n/a'}`);
}
