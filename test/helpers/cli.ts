import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (commands run from here, so `node --import tsx` finds tsx). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The `inkboard` command as installed: runs the built CLI (`npx turbo run build` first). */
export const CLI_BIN = join(ROOT, 'packages/client/bin/inkboard.js');

export interface RunResult {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export type Env = Record<string, string | undefined>;

/** The test's environment without anything that would make a child pick up the developer's own login. */
function childEnv(env: Env): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['INKBOARD_SERVER', 'INKBOARD_TOKEN', 'XDG_CONFIG_HOME', 'NODE_OPTIONS']) delete base[key];
  base.HOME = join(tmpdir(), 'inkboard-test-no-home'); // never ~/.config/inkboard of whoever runs the tests
  const out: NodeJS.ProcessEnv = { ...base };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * Runs `node ...args` to completion with a time limit. A non-zero exit is a result, not an error;
 * running out of time is an error (with what was printed so far).
 */
export function runNode(args: string[], env: Env, options: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      args,
      { cwd: ROOT, env: childEnv(env), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException & { killed?: boolean }).killed) {
          reject(new Error(`"node ${args.join(' ')}" did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
          return;
        }
        if (error && typeof (error as { code?: unknown }).code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** Runs the `inkboard` CLI to completion. */
export function runCli(args: string[], env: Env, options: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return runNode([CLI_BIN, ...args], env, options);
}

/** Strips terminal control sequences and what a carriage return overwrote (interactive output). */
export function cleanLine(raw: string): string {
  // eslint-disable-next-line no-control-regex
  const noAnsi = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  const visible = noAnsi.slice(noAnsi.lastIndexOf('\r') + 1);
  return visible.replace(/^(> )+/, '');
}

/** A long-running CLI process (watch, interactive chat) whose output is read line by line. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Complete stdout lines so far, cleaned with `cleanLine`. */
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';
  private readonly waiters = new Set<() => void>();

  constructor(args: string[], env: Env) {
    this.child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: ROOT, env: childEnv(env), stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      for (const p of parts) this.lines.push(cleanLine(p));
      this.notify();
    });
    this.child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.notify();
        resolve({ code, signal });
      }),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first line (from index `from` on) that matches; fails on exit or timeout. */
  waitForLine(pattern: RegExp, options: { from?: number; timeoutMs?: number } = {}): Promise<string> {
    const from = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? 15_000;
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.lines.slice(from).find((l) => pattern.test(l));
        if (line !== undefined) return finish(() => resolve(line));
        if (!this.running) return finish(() => reject(new Error(`process exited before printing ${pattern}\n${this.describe()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms\n${this.describe()}`))), timeoutMs);
      const finish = (then: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        then();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Writes a line to the process's standard input. */
  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Ends standard input (Ctrl+D) and waits for the exit. */
  async endInput(timeoutMs = 10_000) {
    this.child.stdin.end();
    return this.waitExit(timeoutMs);
  }

  /** Sends a signal (Ctrl+C is SIGINT) and waits for the exit. */
  async interrupt(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 10_000) {
    this.child.kill(signal);
    return this.waitExit(timeoutMs);
  }

  async waitExit(timeoutMs: number) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms\n${this.describe()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process if it still runs (cleanup). */
  async kill(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  describe(): string {
    return `stdout:\n${this.lines.join('\n')}${this.partial ? `\n${this.partial}` : ''}\nstderr:\n${this.stderr}`;
  }
}

/**
 * A person using the CLI: their own config folder ($XDG_CONFIG_HOME) and server, so saved logins of
 * different people (and tests) never mix.
 */
export class CliUser {
  readonly configHome: string;

  constructor(
    public server: string,
    readonly extraEnv: Env = {},
  ) {
    this.configHome = mkdtempSync(join(tmpdir(), 'inkboard-cli-'));
  }

  get env(): Env {
    return { INKBOARD_SERVER: this.server, XDG_CONFIG_HOME: this.configHome, ...this.extraEnv };
  }

  get configFile(): string {
    return join(this.configHome, 'inkboard', 'config.json');
  }

  /** The saved login, or null when there is none. */
  saved(): { server: string; token: string; tokenId: string; username: string } | null {
    try {
      return JSON.parse(readFileSync(this.configFile, 'utf8'));
    } catch {
      return null;
    }
  }

  run(args: string[], options: { timeoutMs?: number; input?: string; env?: Env } = {}): Promise<RunResult> {
    return runCli(args, { ...this.env, ...options.env }, options);
  }

  /** Runs a command that must succeed and returns its standard output. */
  async ok(args: string[], options: { timeoutMs?: number; env?: Env } = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) throw new Error(`inkboard ${args.join(' ')} exited with ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    return result.stdout;
  }

  spawn(args: string[], env: Env = {}): CliProcess {
    return new CliProcess(args, { ...this.env, ...env });
  }

  remove(): void {
    rmSync(this.configHome, { recursive: true, force: true });
  }
}

/** Width and height from a PNG's IHDR chunk (after checking the signature). */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => bytes[i] === b)) throw new Error('not a PNG: wrong signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.slice(12, 16)) !== 'IHDR') throw new Error('not a PNG: no IHDR chunk first');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
