import { opSchema, type Op } from '@inkboard/protocol';

/**
 * Unsent edits of the same person's other tabs on the same board (issue 17), shown here but never
 * sent from here: each op is sent only by the copy that owns it (BoardCopy.ts). A BroadcastChannel
 * per user and board carries each copy's ops as they are made, and when they leave its pending list
 * (confirmed or refused); a copy that opens asks the others for theirs. Ops of closed tabs stay shown
 * until this tab adopts them (they become its own) or the server confirms them.
 */

/** Foreign ops kept at most (the oldest are dropped past it: they are only shown, never sent). */
export const MAX_SHARED_OPS = 2_000;

type Message =
  | { type: 'ops'; owner: string; ops: Op[] }
  | { type: 'left'; owner: string; opIds: string[] }
  | { type: 'hello'; owner: string }
  | { type: 'bye'; owner: string };

/** A message from another tab, checked like any input (another version of the app may send it). */
function parseMessage(data: unknown): Message | null {
  if (!data || typeof data !== 'object' || !('owner' in data) || typeof data.owner !== 'string' || !('type' in data)) return null;
  const { owner } = data;
  const items = (key: string): unknown[] => {
    const value: unknown = (data as Record<string, unknown>)[key];
    return Array.isArray(value) ? value.slice(0, MAX_SHARED_OPS) : [];
  };
  switch (data.type) {
    case 'ops':
      return { type: 'ops', owner, ops: items('ops').flatMap((item) => opSchema.safeParse(item).data ?? []) };
    case 'left':
      return { type: 'left', owner, opIds: items('opIds').filter((id): id is string => typeof id === 'string') };
    case 'hello':
    case 'bye':
      return { type: data.type, owner };
    default:
      return null;
  }
}

export interface TabShareOptions {
  /** The foreign ops changed. */
  changed: () => void;
  /** Own ops not yet confirmed, answered to a tab that opens. */
  mine: () => readonly Op[];
  /** Another copy of the board closed: its ops may be adopted now. */
  closed?: () => void;
  /** BroadcastChannel (tests pass one); absent in old browsers: nothing is shared. */
  channel?: (name: string) => BroadcastChannel | null;
}

export class TabShare {
  /** Ops of other tabs not confirmed yet, by op id, in the order they were heard of. */
  private readonly foreign = new Map<string, Op>();
  private channel: BroadcastChannel | null;
  private list: readonly Op[] = [];
  private dirty = false;

  constructor(
    userId: string,
    boardId: string,
    private readonly owner: string,
    private readonly options: TabShareOptions,
  ) {
    const open = options.channel ?? ((name) => (typeof BroadcastChannel === 'function' ? new BroadcastChannel(name) : null));
    this.channel = userId ? open(`inkboard-pending:${userId}:${boardId}`) : null;
    this.channel?.addEventListener('message', this.onMessage);
    this.post({ type: 'hello', owner });
  }

  /** The foreign ops, oldest first (a new array only when they changed). */
  get ops(): readonly Op[] {
    if (this.dirty) {
      this.list = [...this.foreign.values()];
      this.dirty = false;
    }
    return this.list;
  }

  /** Ops read from the local copy's queue that belong to open tabs. */
  add(ops: readonly Op[]): void {
    let changed = false;
    for (const op of ops) {
      if (this.foreign.has(op.opId)) continue;
      this.foreign.set(op.opId, op);
      changed = true;
    }
    while (this.foreign.size > MAX_SHARED_OPS) this.foreign.delete(this.foreign.keys().next().value!);
    if (changed) this.touch();
  }

  /** Forgets ops (confirmed by the server, or now this tab's own). */
  drop(opIds: Iterable<string>): void {
    let changed = false;
    for (const id of opIds) changed = this.foreign.delete(id) || changed;
    if (changed) this.touch();
  }

  /** Tells the other tabs about own ops just made. */
  made(ops: readonly Op[]): void {
    if (ops.length) this.post({ type: 'ops', owner: this.owner, ops: [...ops] });
  }

  /** Tells the other tabs that own ops left the pending list. */
  left(opIds: readonly string[]): void {
    if (opIds.length) this.post({ type: 'left', owner: this.owner, opIds: [...opIds] });
  }

  dispose(): void {
    this.post({ type: 'bye', owner: this.owner });
    this.channel?.removeEventListener('message', this.onMessage);
    this.channel?.close();
    this.channel = null;
  }

  private touch(): void {
    this.dirty = true;
    this.options.changed();
  }

  private post(message: Message): void {
    try {
      this.channel?.postMessage(message);
    } catch {
      // closed meanwhile
    }
  }

  private readonly onMessage = (event: MessageEvent) => {
    const message = parseMessage(event.data);
    if (!message || message.owner === this.owner) return;
    switch (message.type) {
      case 'ops':
        this.add(message.ops);
        break;
      case 'left':
        this.drop(message.opIds);
        break;
      case 'hello':
        this.made(this.options.mine());
        break;
      case 'bye':
        this.options.closed?.();
        break;
      default: {
        const never: never = message;
        return never;
      }
    }
  };
}
