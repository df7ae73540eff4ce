import { newId, restoreOps, sortElements, type BoardEvent, type Element, type ElementInfo, type NamedVersion, type Version } from '@inkboard/protocol';
import type { Editor } from '../board/Editor.svelte.js';
import { elementAt } from '../canvas/hitTest.js';
import { errorMessage, type Api } from '../trpc.js';
import { appendOlder, authorColor, highlightedElements, mergeNewest } from './timeline.js';

/** Versions per page of the timeline. */
const PAGE = 30;
/** New edits refresh the open timeline this long after the first of them (a drawing person makes many: one refresh per such spell). */
const REFRESH_MS = 1_500;
/** States of past versions kept, so going back and forth between a few does not fetch them again... */
const STATES_KEPT = 4;
/** ...holding this many elements together at most (the last one fetched is always kept). */
const STATES_KEPT_ELEMENTS = 100_000;
/** Screen pixels around an element a click in the preview still picks it. */
const PICK_REACH = 6;

/** What is previewed: the board at the end of a version of the timeline, or at a named version. */
export interface Preview {
  source: { kind: 'version'; version: Version } | { kind: 'named'; named: NamedVersion };
  /** Who made the version (or named it), for the banner and the restore's notice. */
  author: string;
  at: number;
  elements: ReadonlyMap<string, Element>;
  /** What the version changed (the elements still there at its end): outlined in the author's colour. */
  changed: readonly Element[];
  color: string;
}

/**
 * The History panel's state: the timeline (newest first, paged, refreshed by live edits while open),
 * the preview of a past version (drawn by the canvas instead of the board through
 * `editor.versionPreview`, while live edits keep arriving into the board), restoring it (whole or one
 * element) as one undoable step, named versions, and who created or changed an element.
 */
export class Versions {
  open = $state(false);
  versions = $state.raw<Version[]>([]);
  hasMore = $state(false);
  loading = $state(false);
  loadingOlder = $state(false);
  error = $state<string | null>(null);
  preview = $state.raw<Preview | null>(null);
  /** The `toSeq` of the version whose state is being fetched. */
  opening = $state<number | null>(null);
  /** An element clicked in the preview: it can be restored alone. */
  picked = $state.raw<Element | null>(null);
  /** The board's named versions, newest first. */
  named = $state.raw<NamedVersion[]>([]);
  /** People's own colours (the board's members), for avatars and outlines. */
  colors = $state.raw<ReadonlyMap<string, string>>(new Map());

  private next: number | undefined;
  private loaded = false;
  /** Times a refresh started the timeline over (older pages asked before then no longer fit). */
  private restarts = 0;
  private refreshes = 0;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private previewToken = 0;
  private readonly states = new Map<number, ReadonlyMap<string, Element>>();
  private readonly infos = new WeakMap<Element, Promise<ElementInfo | null>>();

  constructor(
    private readonly api: Api,
    private readonly editor: Editor,
    private readonly boardId: string,
    private readonly notify: (text: string, kind?: 'info' | 'error') => void,
  ) {}

  get canEdit(): boolean {
    return this.editor.canEdit;
  }

  async toggle(open = !this.open): Promise<void> {
    if (open === this.open) return;
    this.open = open;
    if (!open) {
      this.endPreview();
      return;
    }
    void this.loadColors();
    void this.loadNamed();
    await this.refresh();
  }

  /** Folds a live board event in: new edits refresh the newest versions while the panel is open. */
  receive(event: BoardEvent): void {
    if (event.type !== 'op' || !this.open || this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      if (this.open) void this.refresh();
    }, REFRESH_MS);
  }

  colorOf(authorId: string): string {
    return authorColor(authorId, this.colors);
  }

  /** Loads the newest page, keeping older pages already loaded. */
  async refresh(): Promise<void> {
    const token = ++this.refreshes;
    this.loading = true;
    try {
      const page = await this.api.history.list.query({ boardId: this.boardId, limit: PAGE });
      if (token !== this.refreshes) return; // a later refresh answers instead
      const merged = this.loaded ? mergeNewest(this.versions, page.versions, page.next === undefined) : null;
      if (merged === null) this.restarts++;
      // Older versions kept below the page: paging goes on from the oldest of them, as before.
      if (merged === null || merged.length === page.versions.length) {
        this.next = page.next;
        this.hasMore = page.next !== undefined;
      }
      this.versions = merged ?? page.versions;
      this.loaded = true;
      this.error = null;
    } catch (error) {
      if (token === this.refreshes) this.error = `The history could not be loaded: ${errorMessage(error)}`;
    } finally {
      if (token === this.refreshes) this.loading = false;
    }
  }

  async loadOlder(): Promise<void> {
    const before = this.next;
    const restarts = this.restarts;
    if (before === undefined || this.loadingOlder) return;
    this.loadingOlder = true;
    try {
      const page = await this.api.history.list.query({ boardId: this.boardId, before, limit: PAGE });
      // A refresh meanwhile started the timeline over (more than a page of new versions): this page no longer fits.
      if (this.restarts !== restarts) return;
      this.versions = appendOlder(this.versions, page.versions);
      this.next = page.next;
      this.hasMore = page.next !== undefined;
      this.error = null;
    } catch (error) {
      this.error = `Older versions could not be loaded: ${errorMessage(error)}`;
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Shows the board as it was at the end of `version`, read-only, its changes outlined. */
  show(version: Version): Promise<void> {
    return this.showAt(version.toSeq, (elements) => ({
      source: { kind: 'version', version },
      author: version.authorName,
      at: version.endedAt,
      elements,
      changed: highlightedElements(version.changedIds, elements),
      color: this.colorOf(version.authorId),
    }));
  }

  /** Shows the board as it was when it got the name `named`. */
  showNamed(named: NamedVersion): Promise<void> {
    return this.showAt(named.seq, (elements) => ({ source: { kind: 'named', named }, author: named.createdByName, at: named.createdAt, elements, changed: [], color: this.colorOf(named.createdBy) }));
  }

  private async showAt(seq: number, make: (elements: ReadonlyMap<string, Element>) => Preview): Promise<void> {
    const token = ++this.previewToken;
    this.opening = seq;
    try {
      const elements = await this.stateAt(seq);
      if (token !== this.previewToken) return;
      this.editor.activeTool?.cancel();
      this.editor.select([]);
      this.picked = null;
      this.preview = make(elements);
      this.editor.versionPreview = { elements: sortElements(elements.values()) };
      this.error = null;
    } catch (error) {
      if (token === this.previewToken) this.error = `That version could not be shown: ${errorMessage(error)}`;
    } finally {
      if (token === this.previewToken) this.opening = null;
    }
  }

  /** Back to the live board (with every edit that arrived meanwhile). */
  endPreview(): void {
    this.previewToken++;
    this.opening = null;
    this.preview = null;
    this.picked = null;
    this.editor.versionPreview = null;
  }

  /** A click on the canvas during a preview, at world (x, y): picks the element there (or none). */
  pickAt(x: number, y: number): void {
    const shown = this.editor.versionPreview?.elements;
    if (!shown) return;
    this.picked = elementAt(shown, x, y, PICK_REACH / this.editor.viewport.zoom, { labelsAsContainer: true });
  }

  /**
   * Restores the previewed version: the whole board, or only the picked element (with its labels).
   * Done here as the person's own ops (protocol `restoreOps`), one undo step, live for everyone.
   */
  restore(which: 'board' | 'picked'): void {
    const preview = this.preview;
    if (!preview || !this.canEdit) return;
    const picked = this.picked;
    if (which === 'picked' && !picked) return;
    const ids = picked && which === 'picked' ? [picked.id, ...[...preview.elements.values()].filter((el) => el.type === 'text' && el.containerId === picked.id).map((el) => el.id)] : undefined;
    const ops = restoreOps(this.editor.sync.elements, preview.elements, { ids, newOpId: newId });
    this.endPreview();
    if (!ops.length) {
      this.notify(ids ? 'That element is already as it was in this version.' : 'The board already is as it was in this version.');
      return;
    }
    this.editor.commitAll(ops);
    if (ids) this.editor.select([ids[0]!]);
    const what = preview.source.kind === 'named' ? `“${preview.source.named.name}”` : `the version of ${preview.author}`;
    this.notify(ids ? 'Element restored. Ctrl+Z undoes it.' : `Restored ${what}. Ctrl+Z undoes it.`);
  }

  /** Names the board's current state (editors). */
  async nameCurrent(name: string): Promise<boolean> {
    try {
      await this.api.history.name.mutate({ boardId: this.boardId, name });
      await Promise.all([this.refresh(), this.loadNamed()]);
      return true;
    } catch (error) {
      this.notify(`The version was not named: ${errorMessage(error)}`, 'error');
      return false;
    }
  }

  async unname(id: string): Promise<void> {
    try {
      await this.api.history.unname.mutate({ boardId: this.boardId, id });
      this.versions = this.versions.map((v) => (v.names.some((n) => n.id === id) ? { ...v, names: v.names.filter((n) => n.id !== id) } : v));
      this.named = this.named.filter((n) => n.id !== id);
    } catch (error) {
      this.notify(`The name was not removed: ${errorMessage(error)}`, 'error');
    }
  }

  /** Who created and who last changed `el` (asked once per version of the element; null when unknown). */
  infoFor(el: Element): Promise<ElementInfo | null> {
    let info = this.infos.get(el);
    if (!info) {
      info = this.api.history.elementInfo.query({ boardId: this.boardId, elementId: el.id }).catch(() => {
        this.infos.delete(el);
        return null;
      });
      this.infos.set(el, info);
    }
    return info;
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.previewToken++;
  }

  private async stateAt(seq: number): Promise<ReadonlyMap<string, Element>> {
    const kept = this.states.get(seq);
    if (kept) {
      // Most recently used last.
      this.states.delete(seq);
      this.states.set(seq, kept);
      return kept;
    }
    const state = await this.api.history.stateAt.query({ boardId: this.boardId, seq });
    const elements = new Map(state.elements.map((el) => [el.id, el]));
    this.states.set(seq, elements);
    let held = 0;
    for (const kept of this.states.values()) held += kept.size;
    for (const [old, state] of this.states) {
      if (this.states.size === 1 || (this.states.size <= STATES_KEPT && held <= STATES_KEPT_ELEMENTS)) break;
      this.states.delete(old);
      held -= state.size;
    }
    return elements;
  }

  private async loadNamed(): Promise<void> {
    try {
      const named = await this.api.history.named.query({ boardId: this.boardId });
      this.named = [...named].sort((a, b) => b.seq - a.seq || b.createdAt - a.createdAt);
    } catch {
      // The badges in the timeline still show them.
    }
  }

  private async loadColors(): Promise<void> {
    try {
      const members = await this.api.share.members.query({ boardId: this.boardId });
      this.colors = new Map(members.map((m) => [m.userId, m.color]));
    } catch {
      // Stable made-up colours instead.
    }
  }
}
