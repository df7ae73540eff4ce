/**
 * What validating a push's points costs the server (issue 13): `pushInput.parse` of pushes of long
 * pen strokes, with the point schemas before issue 13 (zod arrays of a union of tuples, rebuilt here)
 * and now (`pointListSchema`: one loop). Medians of several runs of each, old and new alternating.
 * The inputs come from `JSON.parse`, as on the server; only the parse by the schema is timed.
 *
 * Run: node --import tsx bench/validate-points.ts [--runs 15]
 * Figures: docs/benchmarks.md, "Point validation (issue 13)".
 */
import { z } from 'zod';
import {
  LIMITS,
  addOpSchema,
  applyOp,
  arrowSchema,
  type Element,
  clearOpSchema,
  coordSchema,
  measureElement,
  toWireFrame,
  type Frame,
  type PushInput,
  deleteOpSchema,
  ellipseSchema,
  lineSchema,
  pressureSchema,
  pushInput,
  rectangleSchema,
  storedTextSchema,
  strokeSchema,
  textSchema,
  updateOpSchema,
} from '../packages/protocol/src/index.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const RUNS = flag('runs', 15);
const WARMUP = 3;

// The push schema as it was before issue 13, with every point list an array of tuples.
const oldStrokePoint = z.union([z.tuple([coordSchema, coordSchema]), z.tuple([coordSchema, coordSchema, pressureSchema])]);
const oldLinePoints = z.array(z.tuple([coordSchema, coordSchema])).min(2, 'needs at least two points').max(LIMITS.pointsPerLine);
const oldElement = z.discriminatedUnion('type', [
  strokeSchema.extend({ points: z.array(oldStrokePoint).min(1, 'a stroke needs at least one point').max(LIMITS.pointsPerStroke) }),
  lineSchema.extend({ points: oldLinePoints }),
  arrowSchema.extend({ points: oldLinePoints }),
  rectangleSchema,
  ellipseSchema,
  textSchema,
]);
const oldAddOp = addOpSchema.extend({ elements: z.array(oldElement).min(1, 'add needs at least one element').max(LIMITS.elementsPerOp) });
const oldPushInput = pushInput.extend({
  ops: z.array(z.discriminatedUnion('type', [oldAddOp, updateOpSchema, deleteOpSchema, clearOpSchema])).min(1).max(LIMITS.opsPerPush),
});

/** Seeded (Park-Miller), so every run times the same input. */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

/** A hand-like pen stroke: coordinates in hundredths, pressure. */
function stroke(id: string, points: number, rand: () => number, bad: boolean) {
  let x = 0;
  let y = 0;
  let a = 0;
  const pts = Array.from({ length: points }, () => {
    a += (rand() - 0.5) * 0.6;
    x += Math.cos(a) * (2 + rand() * 4);
    y += Math.sin(a) * (2 + rand() * 4);
    return [Math.round(x * 100) / 100, bad ? Number.NaN : Math.round(y * 100) / 100, Math.round((0.4 + rand() * 0.4) * 100) / 100];
  });
  return { type: 'stroke', id, x: 100, y: 100, z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, points: pts };
}

/** A push of `strokes` strokes of `points` points in one add op, as the server receives it (JSON text). */
function pushJson(strokes: number, points: number, seed: number, bad = false): string {
  const rand = random(seed);
  const elements = Array.from({ length: strokes }, (_, i) => stroke(`s${i}`, points, rand, bad));
  // JSON turns NaN into null: a push whose every y is null, what a hostile client can send.
  return JSON.stringify({ boardId: 'bench', ops: [{ type: 'add', opId: 'o1', elements }] });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Case {
  name: string;
  points: number;
  json: string;
  valid: boolean;
}

const cases: Case[] = [
  { name: '10 x 5,000 points (50,000: the per-push limit)', points: 50_000, json: pushJson(10, 5_000, 1), valid: true },
  { name: '40 x 5,000 points (200,000: item 6 of the issue)', points: 200_000, json: pushJson(40, 5_000, 2), valid: true },
  { name: '2,000 x 25 points (50,000 in short strokes)', points: 50_000, json: pushJson(2_000, 25, 3), valid: true },
  { name: '10 x 5,000 points, every y null (refused)', points: 50_000, json: pushJson(10, 5_000, 4, true), valid: false },
];

const schemas = { old: oldPushInput, new: pushInput } as const;

/** Milliseconds `schema` takes on a fresh `JSON.parse` of `json` (a fresh object each time, as on the server). */
function time(schema: z.ZodType, json: string, valid: boolean): { ms: number; issues: number } {
  const input: unknown = JSON.parse(json);
  const t0 = performance.now();
  const r = schema.safeParse(input);
  const ms = performance.now() - t0;
  if (r.success !== valid) throw new Error(`expected ${valid ? 'acceptance' : 'refusal'}`);
  return { ms, issues: r.success ? 0 : r.error.issues.length };
}

console.log(`node ${process.version}, ${RUNS} runs after ${WARMUP} warm-up runs, old and new alternating\n`);
console.log('| push | JSON | JSON.parse | old: median (min-max) | new: median (min-max) | old / new | per point old / new | issues old / new |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const c of cases) {
  const parseMs: number[] = [];
  const ms = { old: [] as number[], new: [] as number[] };
  const issues = { old: 0, new: 0 };
  for (let run = 0; run < WARMUP + RUNS; run++) {
    const order = run % 2 ? (['new', 'old'] as const) : (['old', 'new'] as const);
    for (const which of order) {
      const t0 = performance.now();
      JSON.parse(c.json);
      const parsed = performance.now() - t0;
      const t = time(schemas[which], c.json, c.valid);
      if (run < WARMUP) continue;
      ms[which].push(t.ms);
      issues[which] = t.issues;
      if (which === 'old') parseMs.push(parsed);
    }
  }
  const f = (xs: number[]) => `${median(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
  const mb = (c.json.length / 1024 / 1024).toFixed(2);
  console.log(
    `| ${c.name} | ${mb} MB | ${median(parseMs).toFixed(1)} ms | ${f(ms.old)} | ${f(ms.new)} | ${(median(ms.old) / median(ms.new)).toFixed(0)}x | ${((median(ms.old) * 1000) / c.points).toFixed(2)} µs / ${((median(ms.new) * 1e6) / c.points).toFixed(0)} ns | ${issues.old.toLocaleString('en')} / ${issues.new} |`,
  );
}

// What else a push at the per-push limit costs in pure work on the event loop, now that its points
// are checked cheaply (the database write and the sending are not included).
{
  const json = cases[0]!.json;
  const steps: [string, (push: PushInput) => unknown][] = [
    ['`pushInput` validation', (push) => pushInput.parse(push)],
    ['`measureElement` of each element (budgets: `JSON.stringify`)', (push) => push.ops.flatMap((op) => (op.type === 'add' ? op.elements.map(measureElement) : []))],
    ['`JSON.stringify` of the op (op log)', (push) => push.ops.map((op) => JSON.stringify(op))],
    [
      '`toWireFrame` + `JSON.stringify` (the op event, packed points)',
      (push) => {
        const frame: Frame = { seq: 2, events: push.ops.map((op) => ({ type: 'op', seq: 2, author: { id: 'u1', name: 'ann' }, op })) };
        return JSON.stringify(toWireFrame(frame));
      },
    ],
  ];
  const times = new Map<string, number[]>([['`JSON.parse` of the body', []], ...steps.map(([name]) => [name, []] as [string, number[]])]);
  for (let run = 0; run < WARMUP + RUNS; run++) {
    let t0 = performance.now();
    JSON.parse(json);
    if (run >= WARMUP) times.get('`JSON.parse` of the body')!.push(performance.now() - t0);
    // A fresh copy for each step: the wire packing caches per element object.
    for (const [name, step] of steps) {
      const input = pushInput.parse(JSON.parse(json));
      t0 = performance.now();
      step(input);
      if (run >= WARMUP) times.get(name)!.push(performance.now() - t0);
    }
  }
  console.log(`\nOther pure work of the ${cases[0]!.name} push (median of ${RUNS} runs):\n`);
  console.log('| step | median (min-max) |');
  console.log('| --- | --- |');
  for (const [name, xs] of times) console.log(`| ${name} | ${median(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}) |`);
}

// An update that moves every stroke of a full board: it carries no points (so the per-push points
// limit does not count it), but `applyOp` checks each merged element again with the element schema,
// points included. 400 strokes of 5,000 points (the board's 2,000,000-point budget), 400 patches.
{
  const rand = random(5);
  const elements = new Map<string, Element>();
  for (let i = 0; i < 400; i++) {
    const el = strokeSchema.parse(stroke(`s${i}`, 5_000, rand, false));
    elements.set(el.id, el);
  }
  const op = { type: 'update' as const, opId: 'move', updates: [...elements.keys()].map((id) => ({ id, patch: { x: 200, y: 300 } })) };
  const oldStored = z.discriminatedUnion('type', [
    strokeSchema.extend({ points: z.array(oldStrokePoint).min(1).max(LIMITS.pointsPerStroke) }),
    lineSchema.extend({ points: oldLinePoints }),
    arrowSchema.extend({ points: oldLinePoints }),
    rectangleSchema,
    ellipseSchema,
    storedTextSchema,
  ]);
  const ms = { old: [] as number[], new: [] as number[] };
  for (let run = 0; run < WARMUP + Math.min(RUNS, 7); run++) {
    let t0 = performance.now();
    // What applyOp did per patch with the old schemas.
    for (const { id, patch } of op.updates) if (!oldStored.safeParse({ ...elements.get(id)!, ...patch }).success) throw new Error('refused');
    const old = performance.now() - t0;
    t0 = performance.now();
    if (!applyOp(elements, op).ok) throw new Error('refused');
    const now = performance.now() - t0;
    if (run >= WARMUP) (ms.old.push(old), ms.new.push(now));
  }
  const f = (xs: number[]) => `${median(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
  console.log(`\nAn update moving all 400 strokes of a 2,000,000-point board (median of ${ms.old.length} runs): re-checking the merged elements, old ${f(ms.old)}; applyOp now ${f(ms.new)}`);
}
