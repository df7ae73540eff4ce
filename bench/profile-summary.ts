/**
 * Summarizes a V8 .cpuprofile (e.g. from `classroom.ts --server-prof`): self time per function and
 * per package, and inclusive time of the functions whose name matches --match.
 *   node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top 30] [--match regex] [--window FROM-TO] [--timeline] [--stalls MS]
 * --window: only the samples FROM..TO seconds after the profile's start (e.g. the measured window,
 * without the accounts' setup); --timeline prints the busy share of every second to find it.
 * --stalls: every stretch of at least MS ms without an idle sample (the event loop never waited:
 * whatever arrived then waited for it), with the functions that took most of it, to find a tail's cause.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const file = args[0];
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--top N] [--match REGEX]');
const top = Number(args[args.indexOf('--top') + 1]) || 30;
const match = args.includes('--match') ? new RegExp(args[args.indexOf('--match') + 1]!) : null;
const [winFrom, winTo] = args.includes('--window') ? args[args.indexOf('--window') + 1]!.split('-').map(Number) : [0, Infinity];
const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map<number, number>();
const idleIds = new Set(prof.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const perSecond: { busy: number; all: number }[] = [];
let tUs = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i + 1] ?? 0;
  tUs += prof.timeDeltas[i] ?? 0;
  const sec = Math.floor(tUs / 1e6);
  const slot = (perSecond[sec] ??= { busy: 0, all: 0 });
  slot.all += dt;
  if (!idleIds.has(prof.samples[i]!)) slot.busy += dt;
  if (tUs / 1e6 < winFrom! || tUs / 1e6 > winTo!) continue;
  selfUs.set(prof.samples[i]!, (selfUs.get(prof.samples[i]!) ?? 0) + dt);
}
if (args.includes('--timeline')) console.log('busy per second: ' + perSecond.map((s, i) => `${i}:${s ? Math.round((s.busy / Math.max(1, s.all)) * 100) : 0}%`).join(' '));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const short = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return url;
  if (!url) return '(native/vm)';
  return url.replace(/^.*\/(apps|packages)\//, '$1/');
};
const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const fnSelf = new Map<string, number>();
const pkgSelf = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  fnSelf.set(label(n), (fnSelf.get(label(n)) ?? 0) + us);
  const pkg = ['(idle)', '(program)', '(garbage collector)'].includes(n.callFrame.functionName) ? n.callFrame.functionName : short(n.callFrame.url);
  pkgSelf.set(pkg, (pkgSelf.get(pkg) ?? 0) + us);
}
const pctOf = (us: number) => ((us / total) * 100).toFixed(1).padStart(5) + '%';
const busy = total - (pkgSelf.get('(idle)') ?? 0);
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle (${((busy / total) * 100).toFixed(0)}%)`);
console.log('\nself time by package / file:');
for (const [k, v] of [...pkgSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pctOf(v)}  ${k}`);
console.log('\nself time by function:');
for (const [k, v] of [...fnSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pctOf(v)}  ${k}`);

if (match) {
  // Inclusive time: a sample counts for a function once if the function is anywhere on its stack.
  const incl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      const l = label(n);
      if (match.test(l) && !seen.has(l)) {
        seen.add(l);
        incl.set(l, (incl.get(l) ?? 0) + us);
      }
    }
  }
  console.log(`\ninclusive time of functions matching ${match}:`);
  for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pctOf(v)}  ${k}`);
}

const stallMs = args.includes('--stalls') ? Number(args[args.indexOf('--stalls') + 1]) : null;
if (stallMs !== null) printStalls(stallMs);

/** Busy stretches of at least `minMs` in the window, each with its heaviest functions (self time). */
function printStalls(minMs: number): void {
  const stalls: { at: number; us: number; self: Map<string, number> }[] = [];
  let cur: { at: number; us: number; self: Map<string, number> } | null = null;
  let t = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    const dt = prof.timeDeltas[i + 1] ?? 0;
    const inWindow = t / 1e6 >= winFrom! && t / 1e6 <= winTo!;
    const id = prof.samples[i]!;
    if (!inWindow || idleIds.has(id)) {
      if (cur && cur.us >= minMs * 1000) stalls.push(cur);
      cur = null;
      continue;
    }
    cur ??= { at: t, us: 0, self: new Map() };
    cur.us += dt;
    const l = label(byId.get(id)!);
    cur.self.set(l, (cur.self.get(l) ?? 0) + dt);
  }
  if (cur && cur.us >= minMs * 1000) stalls.push(cur);
  const sum = stalls.reduce((a, s) => a + s.us, 0);
  console.log(`\n${stalls.length} busy stretches of >= ${minMs} ms (${(sum / 1e3).toFixed(0)} ms in all):`);
  for (const s of stalls) {
    const heaviest = [...s.self].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${(v / 1e3).toFixed(1)} ${k}`);
    console.log(`  at ${(s.at / 1e6).toFixed(2)} s: ${(s.us / 1e3).toFixed(1)} ms: ${heaviest.join('; ')}`);
  }
}
