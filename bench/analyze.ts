/**
 * Merges classroom result files and prints Markdown tables: medians per system and N over all runs,
 * and over the "quiet" runs only (the server waited for a CPU at most 10% of the window and other
 * processes used at most 25% of one core), with N_max for each view. Inkboard runs of several
 * deployments (classroom.ts --processes) get a table each: K = 1 on SQLite ("inkboard", also every
 * run of older files) and K processes on PostgreSQL + Redis ("inkboard-pgK", with Redis columns).
 *   node --import tsx bench/analyze.ts bench/results/classroom-A.json [B.json ...]
 */
import { readFileSync } from 'node:fs';
import { median } from './lib/util.js';

const LIMIT = 50;
const files = process.argv.slice(2);
if (!files.length) throw new Error('usage: analyze.ts RESULT.json [RESULT.json ...]');

interface Run {
  system: 'inkboard' | 'socketio';
  /** classroom.ts --processes: "inkboard" (K = 1, SQLite), "inkboard-pgK", "socketio"; missing in older files. */
  variant?: string;
  processes?: number;
  redisCpuPct?: number | null;
  publishesPerS?: number | null;
  redisUsPerEvent?: number | null;
  serverUsPerEvent?: number | null;
  serverCpuPctPerProcess?: (number | null)[];
  pgCpuPct?: number | null;
  eventsPerPublish?: number | null;
  publishUsecPerCall?: number | null;
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
/** Counts and rates (never read as a latency). */
const num = (v: number | null, d = 1) => (v === null ? '-' : v.toFixed(d));
const pct = (v: number | null) => (v === null ? '-' : `${Math.round(v * 1000) / 10}%`);

const variantOf = (r: Run) => r.variant ?? r.system;
const order = (v: string) => (v === 'inkboard' ? 0 : v === 'socketio' ? 1000 : Number(v.replace('inkboard-pg', '')) || 999);
const variants = [...new Set(runs.map(variantOf))].sort((a, b) => order(a) - order(b));
const titleOf = (v: string) =>
  v === 'socketio' ? 'socket.io relay' : v === 'inkboard' ? (variants.some((x) => x.startsWith('inkboard-pg')) ? 'Inkboard, K = 1 on SQLite' : 'Inkboard') : `Inkboard, K = ${v.replace('inkboard-pg', '')} on PostgreSQL + Redis`;

function rows(system: string, pick: (r: Run) => boolean) {
  const byN = new Map<number, Run[]>();
  for (const r of runs) if (variantOf(r) === system && pick(r)) byN.set(r.n, [...(byN.get(r.n) ?? []), r]);
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
        redisCpu: med((r) => r.redisCpuPct),
        publishes: med((r) => r.publishesPerS),
        redisUs: med((r) => r.redisUsPerEvent),
        serverUs: med((r) => r.serverUsPerEvent),
        perProcess: Array.from({ length: Math.max(1, ...rs.map((r) => r.serverCpuPctPerProcess?.length ?? 1)) }, (_, i) => med((r) => r.serverCpuPctPerProcess?.[i])),
        pgCpu: med((r) => r.pgCpuPct),
        evPerPub: med((r) => r.eventsPerPublish),
        pubUsec: med((r) => r.publishUsecPerCall),
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
  for (const system of variants) {
    const rs = rows(system, pick);
    nm[system] = nMax(rs);
    const redis = system.startsWith('inkboard-pg');
    const ink = system !== 'socketio';
    console.log(`\n**${titleOf(system)}** (N_max = ${nm[system]})\n`);
    console.log(
      '| N | runs | cursor p50 / p99 ms | op p50 / p99 ms | ack p50 ms | ops delivered | final cursors | server CPU % | server waited % | server RSS MB | probe p99 ms | KB/s per client | msgs/s per client | frames/s | gen lag p99 ms | gen CPU % | others CPU % |' +
        (redis ? ' Redis CPU % | PUBLISH/s | Redis µs per event | server µs per event |' : '') +
        ' result (runs passed) |',
    );
    console.log('|' + '---|'.repeat(redis ? 23 : 19));
    for (const s of rs)
      console.log(
        `| ${s.n} | ${s.runs} | ${f(s.cursorP50)} / ${f(s.cursorP99)} | ${f(s.opP50)} / ${f(s.opP99)} | ${ink ? f(s.ackP50) : '-'} | ${pct(s.opDelivery)} | ${pct(s.cursorDelivery)} | ${f(s.cpu, 0)} | ${f(s.wait, 0)} | ${f(s.rss, 0)} | ${f(s.probe)} | ${f(s.kb)} | ${f(s.msgs, 0)} | ${ink ? f(s.frames, 0) : '-'} | ${f(s.lag)} | ${f(s.gencpu, 0)} | ${f(s.others, 0)} |` +
          (redis ? ` ${f(s.redisCpu)} | ${f(s.publishes, 0)} | ${f(s.redisUs, 2)} | ${f(s.serverUs)} |` : '') +
          ` ${s.pass ? 'pass' : 'FAIL'} (${s.passed}/${s.runs}) |`,
      );
  }
  const ratio = nm.socketio ? Math.round((nm.inkboard! / nm.socketio) * 100) / 100 : null;
  console.log(`\nN_max: ${variants.map((v) => `${titleOf(v)} ${nm[v]}`).join(', ')}; ratio Inkboard / socket.io ${ratio ?? 'n/a'}`);
}

// ---- several processes (classroom.ts --processes): every Inkboard deployment per N, medians of all runs
const inkVariants = variants.filter((v) => v !== 'socketio');
if (inkVariants.some((v) => v.startsWith('inkboard-pg'))) {
  console.log('\n### Several processes: medians over all runs\n');
  console.log(
    '"extra" = server µs per event less that of K = 1 on SQLite at the same N (difference of the medians). Redis µs per event = Redis CPU in the window / events published; server µs per event = the K servers\' CPU / events published.\n',
  );
  console.log(
    '| N | K | runs | cursor p50 / p99 ms | op p50 / p99 ms | ack p50 ms | ops delivered | final cursors | server CPU % (per process) | server waited % | RSS MB | Redis CPU % | PostgreSQL CPU % | PUBLISH/s | events per PUBLISH | Redis µs per PUBLISH call | Redis µs per event | server µs per event | extra server µs per event | others CPU % | result (runs passed) |',
  );
  console.log('|' + '---|'.repeat(21));
  const all = inkVariants.map((v) => ({ v, rs: rows(v, () => true) }));
  const ns = [...new Set(all.flatMap((x) => x.rs.map((s) => s.n)))].sort((a, b) => a - b);
  for (const n of ns) {
    const base = all.find((x) => x.v === 'inkboard')?.rs.find((s) => s.n === n);
    for (const { v, rs } of all) {
      const s = rs.find((x) => x.n === n);
      if (!s) continue;
      const k = v === 'inkboard' ? '1 (SQLite)' : `${v.replace('inkboard-pg', '')} (PG + Redis)`;
      const extra = v !== 'inkboard' && base?.serverUs != null && s.serverUs !== null ? s.serverUs - base.serverUs : null;
      const cpu = num(s.cpu, 0) + (s.perProcess.length > 1 ? ` (${s.perProcess.map((x) => num(x, 0)).join(' + ')})` : '');
      console.log(
        `| ${n} | ${k} | ${s.runs} | ${f(s.cursorP50)} / ${f(s.cursorP99)} | ${f(s.opP50)} / ${f(s.opP99)} | ${f(s.ackP50)} | ${pct(s.opDelivery)} | ${pct(s.cursorDelivery)} | ${cpu} | ${num(s.wait, 0)} | ${num(s.rss, 0)} | ${num(s.redisCpu)} | ${num(s.pgCpu)} | ${num(s.publishes, 0)} | ${num(s.evPerPub, s.evPerPub !== null && s.evPerPub >= 100 ? 0 : 2)} | ${num(s.pubUsec, 1)} | ${num(s.redisUs, 1)} | ${num(s.serverUs, 0)} | ${extra === null ? '-' : (extra >= 0 ? '+' : '') + extra.toFixed(0)} | ${f(s.others, 0)} | ${s.pass ? 'pass' : 'FAIL'} (${s.passed}/${s.runs}) |`,
      );
    }
  }
  console.log(`\nN_max per K (all runs): ${inkVariants.map((v) => `${titleOf(v)} ${nMax(rows(v, () => true))}`).join(', ')}`);
}
