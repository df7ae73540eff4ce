/**
 * Version history's worker (piscina task, issue 16): rebuilds a board's state at a seq from a base
 * (a gzipped checkpoint, the board's element rows, or nothing: the empty board at seq 0) and the ops
 * after it, with the protocol's own `applyOpInPlace`, and serializes it: JSON for `history.stateAt`,
 * gzip of the JSON for a checkpoint. All the work that grows with the board happens here, never on
 * the server's event loop; results go back as transferred byte arrays.
 */
import { createRequire } from 'node:module';
import { getPriority, setPriority } from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import type { Element, Op } from '@inkboard/protocol';
import type { ReplayJob, ReplayResult } from './versionJobs.js';

type Protocol = typeof import('@inkboard/protocol');

/**
 * Steps of nice below the server's (`VersionSettings.workerNice`, default 0): a replay is someone
 * waiting to see a version and its work is bounded (about `checkpointEvery` ops), so unlike renders
 * (10 steps) it is not made to wait behind everything else on a loaded machine; on another thread it
 * never blocks the event loop. At 5 steps, `history.stateAt` took 456 ms (median) instead of 123 ms
 * on this machine under a load of 13-14 (docs/benchmarks.md).
 */
const NICE_STEPS = Number((workerData as { nice?: number }).nice ?? 0);
try {
  setPriority(0, Math.min(19, getPriority(0) + NICE_STEPS));
} catch {
  // Not permitted here: replays keep the server's priority.
}

const specifier = (workerData as { protocol: string }).protocol;
/** From source (tests) the protocol is TypeScript loaded through tsx's require hook (see render/worker.ts). */
const protocol: Promise<Protocol> = specifier.endsWith('.ts') ? Promise.resolve(createRequire(import.meta.url)(specifier) as Protocol) : (import(specifier) as Promise<Protocol>);

let protocolApi: Protocol | null = null;

/**
 * The ops turning the board now (its element rows) into `target`. Elements whose JSON is the same in
 * both are the same object here, so the protocol's comparison skips them at once; only the others are
 * compared property by property.
 */
function restore(api: Protocol, target: Map<string, Element>, job: { current: string[]; ids?: string[] }): string {
  const current = new Map<string, Element>();
  for (const row of job.current) {
    const el = JSON.parse(row) as Element;
    const then = target.get(el.id);
    current.set(el.id, then !== undefined && JSON.stringify(then) === row ? then : el);
  }
  let n = 0;
  const ops = api.restoreOps(current, target, { ...(job.ids ? { ids: job.ids } : {}), newOpId: () => `r${n++}` });
  return JSON.stringify(ops);
}

export default async function replay(job: ReplayJob): Promise<ReplayResult> {
  protocolApi ??= await protocol;
  const { applyOpInPlace } = protocolApi;
  const base: Element[] =
    job.base === null ? [] : 'gz' in job.base ? (JSON.parse(gunzipSync(job.base.gz).toString('utf8')) as Element[]) : (JSON.parse(`[${job.base.rows.join(',')}]`) as Element[]);
  const elements = new Map(base.map((e) => [e.id, e]));
  if (job.ops.length) {
    const ops = JSON.parse(`[${job.ops.join(',')}]`) as Op[];
    for (let i = 0; i < ops.length; i++) {
      const error = applyOpInPlace(elements, ops[i]!);
      // Logged ops applied in this order once; only a broken history refuses.
      if (error !== null) throw new Error(`the history does not replay at op ${job.firstSeq + i}: ${error}`);
    }
  }
  const result: ReplayResult = { count: elements.size, jsonBytes: 0 };
  if (job.restore) result.restoreOps = restore(protocolApi, elements, job.restore);
  if (!job.json && !job.gzip) return result;
  const json = Buffer.from(JSON.stringify([...elements.values()]));
  result.jsonBytes = json.byteLength;
  // Own buffers (a small Buffer may sit in Node's shared pool), moved to the server thread without a copy.
  const own = (bytes: Uint8Array) => {
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return copy;
  };
  if (job.gzip) result.gz = own(gzipSync(json));
  if (job.json) result.json = own(json);
  const moved = result.json ?? result.gz;
  return moved ? (move({ [transferableSymbol]: moved.buffer, [valueSymbol]: result }) as unknown as ReplayResult) : result;
}
