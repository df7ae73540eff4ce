/**
 * Draws a labelled bar chart from a JSON file onto a board, below whatever is already there.
 *
 *   INKBOARD_SERVER=http://localhost:3000 INKBOARD_TOKEN=ink_... \
 *     node --import tsx examples/bar-chart.ts BOARD_ID examples/data/sales.json
 *
 * The file is `{ "title": "...", "data": [{ "label": "Q1", "value": 120 }, ...] }` or just the array.
 * The whole chart is added in one atomic push: it appears at once for everyone on the board.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { addElements } from '@inkboard/client';
import { TEXT_CHAR_WIDTH, unionBounds, type ElementInput } from '@inkboard/protocol';
import { clientFor, connectionFromEnv, run, UsageError } from './common.js';

export interface Bar {
  label: string;
  value: number;
}

export interface Chart {
  title?: string;
  data: Bar[];
}

const PALETTE = ['#1971c2', '#2f9e44', '#f08c00', '#9c36b5', '#e03131', '#0c8599'];
const BAR_WIDTH = 64;
const GAP = 28;
const PLOT_HEIGHT = 260;
const FONT = 16;

/** Reads and checks the chart file; every problem is reported in words. */
export function readChart(file: string): Chart {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const chart = (Array.isArray(raw) ? { data: raw } : raw) as Partial<Chart> | null;
  if (!chart || !Array.isArray(chart.data) || chart.data.length === 0) {
    throw new UsageError(`${file} must hold a non-empty "data" array of { "label", "value" }`);
  }
  chart.data.forEach((bar, i) => {
    if (typeof bar?.label !== 'string' || !bar.label.trim()) throw new UsageError(`${file}: data[${i}].label must be a non-empty string`);
    if (typeof bar.value !== 'number' || !Number.isFinite(bar.value) || bar.value < 0) {
      throw new UsageError(`${file}: data[${i}].value must be a number >= 0`);
    }
  });
  if (chart.title !== undefined && typeof chart.title !== 'string') throw new UsageError(`${file}: "title" must be a string`);
  return { title: chart.title, data: chart.data };
}

const textWidth = (text: string, fontSize: number) => text.length * fontSize * TEXT_CHAR_WIDTH;

/** The chart's elements with its top-left corner at `left`, `top`: title, axes, bars, values and labels. */
export function chartElements(chart: Chart, left: number, top: number): ElementInput[] {
  const max = Math.max(...chart.data.map((b) => b.value)) || 1;
  const plotTop = top + (chart.title ? 48 : 0) + FONT + 12; // room for the value above the tallest bar
  const baseline = plotTop + PLOT_HEIGHT;
  const width = chart.data.length * (BAR_WIDTH + GAP) + GAP;
  const elements: ElementInput[] = [];
  if (chart.title) elements.push({ type: 'text', x: left, y: top, text: chart.title, fontSize: 24 });
  // Axes: value axis up, category axis to the right.
  elements.push({ type: 'arrow', x: left, y: baseline, points: [[0, 0], [0, -PLOT_HEIGHT - FONT - 8]], strokeColor: '#495057' });
  elements.push({ type: 'arrow', x: left, y: baseline, points: [[0, 0], [width + 16, 0]], strokeColor: '#495057' });
  chart.data.forEach((bar, i) => {
    const x = left + GAP + i * (BAR_WIDTH + GAP);
    const height = (bar.value / max) * PLOT_HEIGHT;
    const color = PALETTE[i % PALETTE.length]!;
    const centre = (text: string) => x + BAR_WIDTH / 2 - textWidth(text, FONT) / 2;
    const value = String(bar.value);
    elements.push({ type: 'rectangle', x, y: baseline - height, width: BAR_WIDTH, height, fillColor: color, strokeColor: color });
    elements.push({ type: 'text', x: centre(value), y: baseline - height - FONT - 6, text: value, fontSize: FONT });
    elements.push({ type: 'text', x: centre(bar.label), y: baseline + 8, text: bar.label, fontSize: FONT });
  });
  return elements;
}

async function main(): Promise<void> {
  const [boardId, file] = process.argv.slice(2);
  if (!boardId || !file) throw new UsageError('usage: node --import tsx examples/bar-chart.ts BOARD_ID FILE.json');
  const chart = readChart(file);
  const client = clientFor(connectionFromEnv());
  try {
    // Below what the board already shows, so the chart covers nothing.
    const { elements: existing } = await client.trpc.board.snapshot.query({ boardId });
    const bounds = unionBounds(existing);
    const left = bounds ? bounds.minX : 0;
    const top = bounds ? bounds.maxY + 60 : 0;
    const { elements, seq } = await addElements(client, boardId, chartElements(chart, left, top));
    console.log(`Drew ${chart.data.length} bars (${elements.length} elements) on ${boardId} at seq ${seq}`);
  } finally {
    await client.close();
  }
}

// Runs when started as a script (importing the module only gives its functions).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) run('bar-chart', main);
