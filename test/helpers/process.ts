import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';

export const SERVER_ENTRY = resolve(import.meta.dirname, '../../apps/server/dist/index.js');

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  port: number;
  dbPath: string;
  child: ChildProcess;
  /** The last few KiB the current run wrote to stderr (startup errors, warnings). */
  stderr(): string;
  /** The last few KiB the current run wrote to stdout (the log, as JSON lines). */
  stdout(): string;
  /** Starts the process (again) on the same port and file; resolves when it answers /healthz. */
  start(): Promise<void>;
  /** SIGKILL: no chance to flush anything. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
}

/** How the process is started: Node's own options, and the CPUs it may run on (`taskset -c`). */
export interface ProcessOptions {
  nodeArgs?: string[];
  cpus?: string;
}

/** The built server as its own process, so it can be killed like a real crash. */
export async function serverProcess(env: Record<string, string> = {}, options: ProcessOptions = {}): Promise<ServerProcess> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run "npm run build" first`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'inkboard-proc-'));
  const dbPath = join(dir, 'inkboard.db');
  let stderr = '';
  let stdout = '';
  const failure = (what: string) => new Error(`${what}${stderr.trim() ? `; its stderr:\n${stderr.trim()}` : ''}`);
  const handle: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    dbPath,
    child: null as unknown as ChildProcess,
    stderr: () => stderr,
    stdout: () => stdout,
    async start() {
      stderr = '';
      stdout = '';
      const node = [process.execPath, ...(options.nodeArgs ?? []), SERVER_ENTRY];
      const argv = options.cpus ? ['taskset', '-c', options.cpus, ...node] : node;
      handle.child = spawn(argv[0]!, argv.slice(1), {
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', INKBOARD_DB: dbPath, LOG_LEVEL: 'warn', INKBOARD_SCRYPT_LOG_N: '10', INKBOARD_UPGRADES_PER_MINUTE: '100000', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Always drained (a full pipe would block the server), the tails kept for error messages and checks.
      handle.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-8192);
      });
      handle.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        stdout = (stdout + chunk).slice(-8192);
      });
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (handle.child.exitCode !== null) {
          await new Promise((r) => setTimeout(r, 100)); // the last of its stderr
          throw failure(`server exited with ${handle.child.exitCode}`);
        }
        const ok = await fetch(`${handle.url}/healthz`).then((r) => r.ok, () => false);
        if (ok) return;
        if (Date.now() > deadline) throw failure('server did not answer /healthz within 15 s');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill9() {
      const exited = new Promise((r) => handle.child.once('exit', r));
      handle.child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      // Already gone (also after kill9, whose exit leaves exitCode null and signalCode set).
      if (handle.child.exitCode !== null || handle.child.signalCode !== null) return handle.child.exitCode;
      const exited = new Promise<number | null>((r) => handle.child.once('exit', (code) => r(code)));
      handle.child.kill('SIGTERM');
      return exited;
    },
  };
  await handle.start();
  return handle;
}

/**
 * A full garbage collection in a server process started with `nodeArgs: ['--inspect-port=0']`:
 * SIGUSR1 opens its inspector on a free port (printed on stderr), `HeapProfiler.collectGarbage` runs
 * the collection, and the session ends. For memory figures that do not depend on where the next
 * collection falls.
 */
export function collectGarbage(proc: ServerProcess): Promise<void> {
  return collectGarbageIn(proc.child.pid!, proc.stderr);
}

/** The inspector URL of each process `collectGarbageIn` opened. */
const inspectors = new Map<number, string>();

/** `collectGarbage` for any Node process started with --inspect-port=0 whose stderr `output` returns (bench/classroom.ts too). */
export async function collectGarbageIn(pid: number, output: () => string): Promise<void> {
  // Opened once: a second SIGUSR1 prints nothing, and the first line may have left a capped output tail.
  let url = inspectors.get(pid);
  const fresh = !url;
  if (!url) process.kill(pid, 'SIGUSR1');
  const deadline = Date.now() + 10_000;
  while (!url && !(url = /Debugger listening on (ws:\/\/\S+)/.exec(output())?.[1])) {
    if (Date.now() > deadline) throw new Error(`the process's inspector did not open (start it with --inspect-port=0); its output:\n${output().slice(-2_000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  inspectors.set(pid, url);
  const ws = new WebSocket(url);
  const opened = await new Promise<boolean>((done) => {
    ws.once('open', () => done(true));
    ws.once('error', () => done(false));
  });
  if (!opened) {
    // A URL remembered for an earlier process with the same pid (the pid was reused): open this one's.
    if (!fresh) {
      inspectors.delete(pid);
      return collectGarbageIn(pid, output);
    }
    throw new Error(`could not connect to the process's inspector at ${url}`);
  }
  await new Promise<void>((done, fail) => {
    ws.once('error', fail);
    ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    ws.on('message', (data) => {
      const reply = JSON.parse(String(data)) as { id?: number; error?: { message: string } };
      if (reply.id === 1) (reply.error ? fail(new Error(reply.error.message)) : done());
    });
  });
  ws.close();
}
