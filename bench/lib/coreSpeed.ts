import { spawnSync } from 'node:child_process';

/**
 * How fast the server's core is right now, measured by a short fixed job on it before a run (issue 19:
 * on the benchmark's VM the same load took 64% of the core in one run and 99% in the next). Three
 * parts, so that a slow phase tells what got slower: plain JavaScript, a system call, and a round trip
 * over loopback TCP (a write and a read on each side: the kernel's network path the server's frames
 * take). Lower is faster; compare runs of one invocation.
 */
export interface CoreSpeed {
  /** A fixed loop of arithmetic and small allocations (ms). */
  jsMs: number;
  /** One 64-byte write to /dev/null (µs, mean of 20,000). */
  writeUs: number;
  /** One round trip of 64 bytes between two sockets of one process over 127.0.0.1 (µs, mean of 2,000). */
  loopbackUs: number;
}

const SCRIPT = `
const net = require('node:net');
const fs = require('node:fs');
let t = performance.now();
let x = 0;
const kept = [];
for (let i = 0; i < 3e6; i++) {
  x += Math.sqrt(i) * 1.0001;
  const o = { i, x };
  if ((i & 1023) === 0) kept.push(o);
}
const jsMs = performance.now() - t + (kept.length > 1e9 ? x : 0);
const fd = fs.openSync('/dev/null', 'w');
const buf = Buffer.alloc(64);
for (let i = 0; i < 2000; i++) fs.writeSync(fd, buf);
t = performance.now();
for (let i = 0; i < 20000; i++) fs.writeSync(fd, buf);
const writeUs = ((performance.now() - t) * 1000) / 20000;
const server = net.createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); }).listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1', () => {
    c.setNoDelay(true);
    let n = 0;
    let t0 = 0;
    c.on('data', () => {
      n++;
      if (n === 200) t0 = performance.now();
      if (n === 2200) {
        const loopbackUs = ((performance.now() - t0) * 1000) / 2000;
        process.stdout.write(JSON.stringify({ jsMs, writeUs, loopbackUs }));
        process.exit(0);
      } else c.write(buf);
    });
    c.write(buf);
  });
});
`;

/** Runs the job on `cpu` (taskset), or wherever the kernel puts it; null when it could not run. */
export function measureCoreSpeed(cpu: number | null): CoreSpeed | null {
  const node = [process.execPath, '-e', SCRIPT];
  const r = cpu === null ? spawnSync(node[0]!, node.slice(1), { encoding: 'utf8', timeout: 30_000 }) : spawnSync('taskset', ['-c', String(cpu), ...node], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return null;
  try {
    const { jsMs, writeUs, loopbackUs } = JSON.parse(r.stdout) as CoreSpeed;
    const round = (v: number) => Math.round(v * 100) / 100;
    return { jsMs: round(jsMs), writeUs: round(writeUs), loopbackUs: round(loopbackUs) };
  } catch {
    return null;
  }
}
