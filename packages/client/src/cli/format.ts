import type { BoardEvent, Element, PresenceEntry } from '@inkboard/protocol';

const time = (ms = Date.now()) => new Date(ms).toTimeString().slice(0, 8);

function kinds(elements: readonly Element[]): string {
  const counts = new Map<string, number>();
  for (const el of elements) counts.set(el.type, (counts.get(el.type) ?? 0) + 1);
  return [...counts].map(([type, n]) => (n > 1 ? `${n} ${type}s` : `a ${type}`)).join(', ');
}

/** One readable line for a board event, or null for events not worth a line. */
export function describeEvent(event: BoardEvent, presence: ReadonlyMap<string, PresenceEntry>): string | null {
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
      return `${time()} ${event.client.user.name} joined`;
    case 'leave':
      return `${time()} ${who(event.clientId)} left`;
    case 'chat':
      return `${time(event.message.createdAt)} [chat] ${event.message.user.name}: ${event.message.text}`;
    case 'snapshot':
    case 'presence':
    case 'cursor':
    case 'preview':
    case 'typing':
      return null;
    default: {
      const never: never = event;
      return never;
    }
  }
}

/** Left-aligned columns. */
export function table(rows: string[][]): string {
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
