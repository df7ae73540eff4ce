import { opSchema, type History, type HistoryEntry } from '@inkboard/protocol';
import type { UndoGroups } from '../versions/undoGroups.js';

/** Undo (and redo) entries kept per board in the local copy: the newest ones. */
export const STORED_HISTORY_ENTRIES = 100;
/** JSON bytes of them at most (a restored version can be one big entry): older entries are left out past it. */
export const STORED_HISTORY_BYTES = 2 * 1024 * 1024;

/** One entry as stored: its group (entries of one action share a number), if it has one. */
interface StoredEntry {
  forward: unknown;
  inverse: unknown;
  group?: number;
}

/** Each entry's JSON, kept while the entry lives (entries are immutable): a write serializes only the new ones. */
export type EntryJson = WeakMap<HistoryEntry, string>;

/**
 * A person's undo history of one board as one JSON string (issue 17: Ctrl+Z after a reload undoes
 * the last stroke made before it), newest entries first to be kept: at most `maxEntries` per stack
 * and `maxBytes` of JSON in all. A group cut by the bound keeps its newest entries.
 */
export function serializeHistory(
  history: History,
  groups: UndoGroups,
  maxEntries = STORED_HISTORY_ENTRIES,
  maxBytes = STORED_HISTORY_BYTES,
  cache: EntryJson = new WeakMap(),
): string {
  const tokens = new Map<object, number>();
  let budget = maxBytes;
  const keep = (entries: readonly HistoryEntry[]): string[] => {
    const kept: string[] = [];
    for (let i = entries.length - 1; i >= 0 && kept.length < maxEntries; i--) {
      const entry = entries[i]!;
      const token = groups.get(entry);
      if (token && !tokens.has(token)) tokens.set(token, tokens.size + 1);
      let plain = cache.get(entry);
      if (plain === undefined) {
        const stored: StoredEntry = { forward: entry.forward, inverse: entry.inverse };
        plain = JSON.stringify(stored);
        cache.set(entry, plain);
      }
      const json = token ? `{"group":${tokens.get(token)},${plain.slice(1)}` : plain;
      if (json.length > budget) break;
      budget -= json.length;
      kept.push(json);
    }
    return kept.reverse();
  };
  // The undo stack first: it is what Ctrl+Z reaches.
  const undo = keep(history.undo);
  const redo = keep(history.redo);
  return `{"undo":[${undo.join(',')}],"redo":[${redo.join(',')}]}`;
}

/** The history stored by `serializeHistory`, its groups marked in `groups`; entries that do not parse are left out. */
export function parseHistory(json: string, groups: UndoGroups): History {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { undo: [], redo: [] };
  }
  const tokens = new Map<number, object>();
  const stack = (key: 'undo' | 'redo'): HistoryEntry[] => {
    const items: unknown = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : null;
    if (!Array.isArray(items)) return [];
    const entries: HistoryEntry[] = [];
    for (const item of items.slice(-STORED_HISTORY_ENTRIES)) {
      if (!item || typeof item !== 'object') continue;
      const forward = opSchema.safeParse(item.forward);
      const inverse = opSchema.safeParse(item.inverse);
      if (!forward.success || !inverse.success) continue;
      const entry: HistoryEntry = { forward: forward.data, inverse: inverse.data };
      if (typeof item.group === 'number') {
        const token = tokens.get(item.group) ?? {};
        tokens.set(item.group, token);
        groups.set(entry, token);
      }
      entries.push(entry);
    }
    return entries;
  };
  return { undo: stack('undo'), redo: stack('redo') };
}
