import { readdirSync, readFileSync } from 'node:fs';

/** Wall-clock time in ms with sub-ms resolution, comparable across worker threads of one process. */
export const wall = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Size of a WebSocket frame from the server (unmasked) with this payload length. */
export const wsFrameBytes = (payload: number): number => payload + (payload < 126 ? 2 : payload < 65_536 ? 4 : 10);

/** Cursor x carries the send time: wall ms modulo 1e6, rounded to µs. */
export const CURSOR_MOD = 1_000_000;
export const stampX = (t: number): number => Math.round((t % CURSOR_MOD) * 1000) / 1000;
/** Send time of a cursor x seen at `now` (the stamp is the send time modulo 1e6 ms). */
export const cursorSendTime = (x: number, now: number): number => {
  let d = (now % CURSOR_MOD) - x;
  if (d < -CURSOR_MOD / 2) d += CURSOR_MOD;
  else if (d > CURSOR_MOD / 2) d -= CURSOR_MOD;
  return now - d;
};

/** Op ids carry author and send time in µs: o<author>_<n>_<µs>. */
export const makeOpId = (author: number, n: number, t: number) => `o${author}_${n}_${Math.round(t * 1000)}`;
export const parseOpId = (opId: string): { author: number; t: number } => {
  const a = opId.indexOf('_');
  const b = opId.lastIndexOf('_');
  return { author: Number(opId.slice(1, a)), t: Number(opId.slice(b + 1)) / 1000 };
};

/** Linear latency histogram: 0.05 ms buckets up to 10 s (plus an overflow bucket). */
export const HIST_STEP = 0.05;
export const HIST_BUCKETS = 200_000;
export const newHist = () => new Uint32Array(HIST_BUCKETS + 1);
export const histAdd = (h: Uint32Array, ms: number) => {
  const i = ms <= 0 ? 0 : Math.min(HIST_BUCKETS, Math.floor(ms / HIST_STEP));
  h[i]! += 1;
};
export const histMerge = (into: Uint32Array, from: Uint32Array) => {
  for (let i = 0; i < into.length; i++) into[i]! += from[i]!;
};
export interface HistSummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}
export function histSummary(h: Uint32Array): HistSummary {
  let count = 0;
  for (let i = 0; i < h.length; i++) count += h[i]!;
  if (count === 0) return { count, p50: null, p90: null, p99: null, max: null };
  const at = (q: number) => {
    const rank = Math.ceil(q * count);
    let seen = 0;
    for (let i = 0; i < h.length; i++) {
      seen += h[i]!;
      if (seen >= rank) return round2((i + 1) * HIST_STEP); // upper edge of the bucket
    }
    return null;
  };
  let max = 0;
  for (let i = h.length - 1; i >= 0; i--) if (h[i]) { max = (i + 1) * HIST_STEP; break; }
  return { count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round2(max) };
}

export const round2 = (v: number) => Math.round(v * 100) / 100;
export const round1 = (v: number) => Math.round(v * 10) / 10;

export function median(values: readonly (number | null | undefined)[]): number | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** CPU time (user + system) of a process in seconds, from /proc/<pid>/stat. */
export function procCpuSeconds(pid: number, clkTck = 100): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clkTck; // utime, stime (fields 14, 15)
  } catch {
    return null;
  }
}

/** Resident memory of a process in MB, from /proc/<pid>/status. */
export function procRssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Whole-machine CPU counters (jiffies) from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** A 120-ish point freehand stroke: points relative to the element origin, 0.1 px and 0.01 pressure. */
export function strokePoints(count: number, seed: number): [number, number, number][] {
  const pts: [number, number, number][] = [];
  let x = 0;
  let y = 0;
  let a = (seed * 0.7) % (2 * Math.PI);
  for (let i = 0; i < count; i++) {
    a += 0.08 * Math.sin(i * 0.15 + seed);
    x += 3.2 * Math.cos(a);
    y += 3.2 * Math.sin(a);
    pts.push([Math.round(x * 10) / 10, Math.round(y * 10) / 10, Math.round((0.5 + 0.3 * Math.sin(i * 0.1 + seed)) * 100) / 100]);
  }
  return pts;
}

/**
 * Scheduler statistics of a thread (/proc/<pid>/task/<tid>/schedstat, or the main thread with
 * /proc/<pid>/schedstat): ns on a CPU and ns runnable but waiting for one.
 */
export function schedStat(path: string): { runNs: number; waitNs: number } | null {
  try {
    const [run, wait] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    return { runNs: run!, waitNs: wait! };
  } catch {
    return null;
  }
}

/** Run-queue wait summed over every thread of this process, in ns. */
export function selfThreadsWaitNs(): number {
  let sum = 0;
  for (const tid of readdirSync('/proc/self/task')) sum += schedStat(`/proc/self/task/${tid}/schedstat`)?.waitNs ?? 0;
  return sum;
}
