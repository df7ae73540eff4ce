/**
 * Exports every board you can open (owned and shared) to SVG files in a folder.
 *
 *   INKBOARD_SERVER=http://localhost:3000 INKBOARD_TOKEN=ink_... \
 *     node --import tsx examples/export-all.ts [FOLDER]
 *
 * FOLDER defaults to ./inkboard-export; each board becomes `<title>-<id>.svg`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportBoard } from '@inkboard/client';
import { clientFor, connectionFromEnv, run } from './common.js';

/** A file name from a board title: lower case, dashes, short; the id keeps it unique. */
export function fileNameFor(board: { id: string; title: string }): string {
  const slug = board.title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents off: "Ü" -> "U"
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `${slug || 'board'}-${board.id}.svg`;
}

async function main(): Promise<void> {
  const folder = resolve(process.argv[2] ?? 'inkboard-export');
  const connection = connectionFromEnv();
  const client = clientFor(connection);
  try {
    const boards = await client.trpc.board.list.query();
    mkdirSync(folder, { recursive: true });
    for (const board of boards) {
      const svg = await exportBoard(connection, board.id, 'svg');
      const path = join(folder, fileNameFor(board));
      writeFileSync(path, svg);
      console.log(`${path}  (${board.elementCount} elements, "${board.title}")`);
    }
    console.log(`Exported ${boards.length} board${boards.length === 1 ? '' : 's'} to ${folder}`);
  } finally {
    await client.close();
  }
}

// Runs when started as a script (importing the module only gives its functions).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) run('export-all', main);
