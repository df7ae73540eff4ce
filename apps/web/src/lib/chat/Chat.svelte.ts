import type { BoardEvent, ChatMessage, User } from '@inkboard/protocol';
import type { InkboardClient } from '@inkboard/client';
import { errorMessage, type Api } from '../trpc.js';

/** How long "X is typing" stays after their last keystroke signal. */
const TYPING_SHOWN_MS = 3_500;
/** At most one typing signal per this many ms. */
const TYPING_SEND_MS = 2_000;
const PAGE = 50;

/** The board's chat: history on first open, older pages on demand, live messages, typing, unread. */
export class Chat {
  open = $state(false);
  messages = $state.raw<ChatMessage[]>([]);
  unread = $state(0);
  hasMore = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);
  typing = $state.raw<ReadonlyMap<string, { user: User; until: number }>>(new Map());
  typingText = $derived(typingLine([...this.typing.values()].map((t) => t.user.name)));

  private loaded = false;
  private lastTypingSent = 0;
  private typingTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly api: Api,
    private readonly live: InkboardClient,
    private readonly boardId: string,
    private readonly me: () => User,
  ) {}

  async toggle(open = !this.open): Promise<void> {
    this.open = open;
    if (!open) return;
    this.unread = 0;
    if (!this.loaded) await this.loadLatest();
  }

  /** Folds a live board event in. */
  receive(event: BoardEvent): void {
    if (event.type === 'chat') {
      const m = event.message;
      if (this.messages.some((x) => x.id === m.id)) return;
      this.messages = [...this.messages, m];
      if (!this.open && m.user.id !== this.me().id) this.unread++;
      this.setTyping(m.user.id, null);
    } else if (event.type === 'typing' && event.user.id !== this.me().id) {
      this.setTyping(event.user.id, { user: event.user, until: Date.now() + TYPING_SHOWN_MS });
    }
  }

  async send(text: string): Promise<boolean> {
    const body = text.trim();
    if (!body) return false;
    try {
      const message = await this.live.trpc.chat.send.mutate({ boardId: this.boardId, text: body });
      // The message ended the others' "is typing": the next keystroke announces typing again.
      this.lastTypingSent = 0;
      if (!this.messages.some((x) => x.id === message.id)) this.messages = [...this.messages, message];
      this.error = null;
      return true;
    } catch (error) {
      this.error = errorMessage(error);
      return false;
    }
  }

  /** Tells the others this person is typing (throttled). */
  typed(): void {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_SEND_MS) return;
    this.lastTypingSent = now;
    this.live.lane.typing(this.boardId);
  }

  async loadOlder(): Promise<void> {
    const oldest = this.messages[0];
    if (!this.hasMore || this.loading || !oldest) return;
    await this.load(oldest.id);
  }

  dispose(): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
  }

  private async loadLatest(): Promise<void> {
    this.loaded = true;
    await this.load(undefined);
  }

  private async load(before: number | undefined): Promise<void> {
    this.loading = true;
    try {
      const page = await this.api.chat.history.query({ boardId: this.boardId, limit: PAGE, ...(before ? { before } : {}) });
      const known = new Set(this.messages.map((m) => m.id));
      const older = page.messages.filter((m) => !known.has(m.id)).reverse();
      this.messages = [...older, ...this.messages].sort((a, b) => a.id - b.id);
      this.hasMore = page.hasMore;
      this.error = null;
    } catch (error) {
      this.error = errorMessage(error);
      if (before === undefined) this.loaded = false;
    } finally {
      this.loading = false;
    }
  }

  private setTyping(userId: string, entry: { user: User; until: number } | null): void {
    const next = new Map(this.typing);
    if (entry) next.set(userId, entry);
    else next.delete(userId);
    const now = Date.now();
    for (const [id, t] of next) if (t.until <= now) next.delete(id);
    this.typing = next;
    if (this.typingTimer) clearTimeout(this.typingTimer);
    const soonest = Math.min(...[...next.values()].map((t) => t.until));
    if (Number.isFinite(soonest)) this.typingTimer = setTimeout(() => this.setTyping('', null), soonest - now + 10);
  }
}

function typingLine(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
