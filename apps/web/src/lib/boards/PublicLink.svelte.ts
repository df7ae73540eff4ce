import type { Api, Outputs } from '../trpc.js';
import { Busy } from './Busy.svelte.js';

type Link = NonNullable<Outputs['guest']['link']>;
type Guest = Outputs['guest']['list'][number];
type Role = 'editor' | 'viewer';

/** Where this browser keeps a board's public link URL: the server shows the code only once. */
const urlKey = (boardId: string) => `inkboard-public-link:${boardId}`;

/** The share dialog's "Public link" section (issue 18): the board's link for guests, and its guests. Owners only. */
export class PublicLink extends Busy {
  link: Link | null = $state.raw(null);
  guests: Guest[] = $state.raw([]);
  /** The link's URL when this browser made it; null: make a new one to copy it. */
  url = $state<string | null>(null);
  loaded = $state(false);

  constructor(
    private readonly api: Api,
    readonly boardId: string,
  ) {
    super();
  }

  /**
   * Counts the changes made here. A reload (a guest joined, say) that was asked before a change and
   * answered after it holds the state from before: it must not undo what the owner just did (the
   * link turned off showing as on again, its guests listed). The change's own answer holds, and the
   * `members` event it sends reloads the list.
   */
  private changes = 0;

  async load(): Promise<void> {
    const asked = this.changes;
    await this.run(async () => {
      const [link, guests] = await Promise.all([this.api.guest.link.query({ boardId: this.boardId }), this.api.guest.list.query({ boardId: this.boardId })]);
      this.loaded = true;
      if (asked !== this.changes) return;
      this.link = link;
      this.guests = guests;
      this.url = link ? localStorage.getItem(urlKey(this.boardId)) : null;
    });
  }

  /** Turns the link on, or changes its role, chat or embed origins. */
  async set(role: Role, allowChat: boolean, embedOrigins?: string[]): Promise<void> {
    this.changes++;
    await this.run(async () => {
      const made = await this.api.guest.setLink.mutate({ boardId: this.boardId, role, allowChat, ...(embedOrigins ? { embedOrigins } : {}) });
      if ('code' in made) this.remember(made.code);
      this.link = made;
    });
  }

  /** A new link: the old one stops working and its guests are cut off. */
  async regenerate(): Promise<void> {
    this.changes++;
    await this.run(async () => {
      const made = await this.api.guest.regenerate.mutate({ boardId: this.boardId });
      this.remember(made.code);
      this.link = made;
      this.guests = [];
    });
  }

  async disable(): Promise<void> {
    this.changes++;
    await this.run(async () => {
      await this.api.guest.disable.mutate({ boardId: this.boardId });
      localStorage.removeItem(urlKey(this.boardId));
      this.link = null;
      this.url = null;
      this.guests = [];
    });
  }

  async remove(guestId: string): Promise<void> {
    this.changes++;
    await this.run(async () => {
      await this.api.guest.remove.mutate({ boardId: this.boardId, guestId });
      this.guests = this.guests.filter((g) => g.id !== guestId);
    });
  }

  private remember(code: string | undefined): void {
    if (!code) return;
    this.url = `${location.origin}/g/${code}`;
    try {
      localStorage.setItem(urlKey(this.boardId), this.url);
    } catch {
      // Private mode: the URL is shown this once.
    }
  }
}
