import { newId, renderSvg, type Element, type NamedVersion } from '@inkboard/protocol';
import type { InkboardClient } from '../createClient.js';
import { exportBoard } from '../helpers.js';
import { ago, table } from './format.js';

/** Version history commands of the CLI (issue 16): `history`, `restore`, and `export --at`. */

/** A failure the user can act on (printed as one line by main.ts). */
export class VersionError extends Error {}

/**
 * The seq a VERSION|SEQ argument names: digits are a seq; anything else a named version's id or
 * name (the newest of that name when several share it).
 */
export async function resolveVersion(client: InkboardClient, boardId: string, ref: string): Promise<{ seq: number; named?: NamedVersion }> {
  if (/^\d{1,15}$/.test(ref)) return { seq: Number(ref) };
  const named = await client.trpc.history.named.query({ boardId });
  const found = named.find((n) => n.id === ref) ?? named.filter((n) => n.name === ref).at(-1) ?? named.filter((n) => n.name.toLowerCase() === ref.toLowerCase()).at(-1);
  if (!found) {
    const known = named.length ? ` Named versions: ${named.map((n) => `"${n.name}" (seq ${n.seq})`).join(', ')}.` : ' The board has no named versions.';
    throw new VersionError(`No version "${ref}" on this board: give a seq (see "inkboard history BOARD") or a named version's name or id.${known}`);
  }
  return { seq: found.seq, named: found };
}

/** `inkboard history BOARD [--limit N]`: versions newest first, as a table (or JSON). */
export async function historyCommand(client: InkboardClient, boardId: string, limitArg: string | undefined, print: (human: string, data: unknown) => void): Promise<void> {
  const limit = limitArg === undefined ? 30 : Number(limitArg);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new VersionError('--limit must be a whole number from 1 to 100.');
  const { versions, next } = await client.trpc.history.list.query({ boardId, limit });
  if (!versions.length) {
    print('No history yet: the board has no edits.', { versions, next });
    return;
  }
  const rows = versions.map((v) => [
    v.fromSeq === v.toSeq ? `${v.toSeq}` : `${v.fromSeq}-${v.toSeq}`,
    v.authorName,
    ago(v.endedAt),
    v.summary.text,
    v.names.map((n) => `"${n.name}"`).join(', '),
  ]);
  const more = next ? `\n(older versions exist: the oldest shown starts at seq ${versions.at(-1)!.fromSeq})` : '';
  print(`${table([['SEQ', 'AUTHOR', 'WHEN', 'SUMMARY', 'NAMES'], ...rows])}${more}`, { versions, next });
}

/** `inkboard restore BOARD VERSION|SEQ`: the whole board back to that state, as one restore. */
export async function restoreCommand(client: InkboardClient, boardId: string, ref: string, print: (human: string, data: unknown) => void): Promise<void> {
  const { seq, named } = await resolveVersion(client, boardId, ref);
  const { ops, acks } = await client.trpc.history.restore.mutate({ boardId, seq, opId: newId() });
  const what = named ? `"${named.name}" (seq ${seq})` : `seq ${seq}`;
  if (!ops.length) print(`The board already is as it was at ${what}: nothing to restore.`, { seq, ops: 0, acks });
  else print(`Restored ${boardId} to ${what} in ${ops.length} op${ops.length === 1 ? '' : 's'} (now at seq ${acks.at(-1)!.seq}).`, { seq, ops: ops.length, acks });
}

/** The board's elements at a version, for `export --at`. */
export async function elementsAt(client: InkboardClient, boardId: string, ref: string): Promise<{ seq: number; elements: Element[] }> {
  const { seq } = await resolveVersion(client, boardId, ref);
  return client.trpc.history.stateAt.query({ boardId, seq }) as Promise<{ seq: number; elements: Element[] }>;
}

/**
 * An export of the board at a version: JSON or SVG drawn here with the protocol's renderer (as the
 * server's export does); PNG rasterized by the server like the current board's (`export.png?at=SEQ`).
 */
export async function exportAt(client: InkboardClient, server: { url: string; token: string }, boardId: string, ref: string, format: 'svg' | 'png' | 'json', scale?: number): Promise<Uint8Array> {
  if (format === 'png') return exportBoard(server, boardId, 'png', scale, (await resolveVersion(client, boardId, ref)).seq);
  const { elements } = await elementsAt(client, boardId, ref);
  const text = format === 'json' ? `${JSON.stringify(elements, null, 2)}\n` : renderSvg(elements);
  return new TextEncoder().encode(text);
}
