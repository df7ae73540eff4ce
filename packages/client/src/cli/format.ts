import type { BoardEvent, Element, PresenceEntry } from '@inkboard/protocol';

const time = (ms = Date.now()) => new Date(ms).toTimeString().slice(0, 8);

/**
 * Terminal escape sequences, in their 7-bit (ESC) and 8-bit (C1) forms: CSI (`ESC [` or U+009B,
 * parameters, a final byte: colours, cursor moves, `ESC [2J` clears the screen), the string
 * commands OSC, DCS, SOS, PM and APC (`ESC ]`... up to BEL or ST: `ESC ]0;title BEL` retitles the
 * window, OSC 8 makes links, OSC 52 writes the clipboard; unterminated, they run to the end), and
 * ESC with any one character.
 */
const ESCAPE_SEQUENCE = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[\s\S]?/g;
/** Other C0 and C1 controls (tab and newline are handled apart), DEL, bidi overrides and lone surrogates. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\p{Cs}/gu;
const LINE_BREAK = /\r\n|[\n\r\t\u2028\u2029]/g;

/**
 * `text` (from the server: titles, names, chat, errors) made safe to print on a terminal: escape
 * sequences and control characters removed; on one line unless `multiline` (then newlines stay).
 */
export function terminalSafe(text: string, multiline = false): string {
  const stripped = text.replace(ESCAPE_SEQUENCE, '');
  const lines = multiline ? stripped.replace(/\r\n?/g, '\n') : stripped.replace(LINE_BREAK, ' ');
  return lines.replace(CONTROL, '');
}

/** JSON for the terminal: like JSON.stringify, with DEL, C1 controls, bidi overrides and line separators escaped as `\\uXXXX` (C0 ones already are). */
export function terminalJson(data: unknown, indent?: number): string {
  return (JSON.stringify(data, null, indent) ?? 'null').replace(/[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function kinds(elements: readonly Element[]): string {
  const counts = new Map<string, number>();
  for (const el of elements) counts.set(el.type, (counts.get(el.type) ?? 0) + 1);
  return [...counts].map(([type, n]) => (n > 1 ? `${n} ${type}s` : `a ${type}`)).join(', ');
}

/** One readable line for a board event, or null for events not worth a line. */
export function describeEvent(event: BoardEvent, presence: ReadonlyMap<string, PresenceEntry>): string | null {
  const line = describeRaw(event, presence);
  return line === null ? null : terminalSafe(line);
}

function describeRaw(event: BoardEvent, presence: ReadonlyMap<string, PresenceEntry>): string | null {
  const who = (clientId: string) => presence.get(clientId)?.user.name ?? 'someone';
  switch (event.type) {
    case 'op': {
      const { op, author } = event;
      const what =
        op.type === 'add'
          ? `added ${kinds(op.elements)}${op.elements.length === 1 && op.elements[0]!.type === 'stroke' ? ` (${op.elements[0]!.points.length} points)` : ''}`
          : op.type === 'update'
            ? `changed ${op.updates.length} element${op.updates.length === 1 ? '' : 's'}`
            : op.type === 'delete'
              ? `deleted ${op.ids.length} element${op.ids.length === 1 ? '' : 's'}`
              : 'cleared the board';
      return `${time()} #${event.seq} ${author.name} ${what}`;
    }
    case 'join':
      return `${time()} ${event.client.user.name}${event.client.guest ? ' (guest)' : ''} joined`;
    case 'leave':
      return `${time()} ${who(event.clientId)} left`;
    case 'chat':
      return `${time(event.message.createdAt)} [chat] ${event.message.user.name}: ${event.message.text}`;
    case 'snapshot':
    case 'presence':
    case 'cursor':
    case 'preview':
    case 'typing':
    case 'view':
    case 'members':
      return null;
    case 'renamed':
      return `${time()} the board was renamed to “${event.title}”`;
    default: {
      const never: never = event;
      return never;
    }
  }
}

/** Left-aligned columns; each cell made terminal-safe and one line. */
export function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map((c) => terminalSafe(c)));
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export function ago(ms: number): string {
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}
