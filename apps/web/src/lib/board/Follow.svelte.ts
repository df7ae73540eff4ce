import type { Viewport } from '../canvas/viewport.js';
import type { Editor } from './Editor.svelte.js';
import { viewportShowing, type ViewRect } from './follow.js';

export interface Leader {
  clientId: string;
  userId: string;
  name: string;
  color: string;
}

/**
 * Following someone: this screen shows what theirs shows (their `view` events, live) until the
 * person pans or zooms themselves, the other leaves, or they press "Stop following".
 */
export class Follow {
  leader = $state.raw<Leader | null>(null);
  /** The camera this set last, and the view and screen size it was made from. */
  private shown: { viewport: Viewport; view: ViewRect; width: number; height: number } | null = null;

  constructor(
    private readonly editor: Editor,
    private readonly notify: (text: string) => void,
  ) {}

  /** Follows `userId` (their connection that moved its view last), or stops when already following them. */
  toggle(userId: string): void {
    if (this.leader?.userId === userId) {
      this.stop();
      return;
    }
    const { presence, views } = this.editor.sync;
    const withView = [...views.keys()].filter((id) => presence.get(id)?.user.id === userId);
    const clientId = withView.at(-1) ?? [...presence.values()].find((e) => e.user.id === userId)?.clientId;
    const user = clientId ? presence.get(clientId)?.user : undefined;
    if (!clientId || !user) return;
    this.leader = { clientId, userId, name: user.name, color: user.color };
    this.shown = null;
    this.update();
  }

  stop(reason?: string): void {
    if (!this.leader) return;
    this.leader = null;
    this.shown = null;
    if (reason) this.notify(reason);
  }

  /**
   * Brings the camera to the leader's view; stops when the camera moved otherwise (the person
   * panned or zoomed) or the leader left. Called from an effect whenever any of these changes.
   */
  update(): void {
    const leader = this.leader;
    if (!leader) return;
    const { sync, viewport, size } = this.editor;
    if (!sync.presence.has(leader.clientId)) {
      this.stop(`${leader.name} left the board: you no longer follow them.`);
      return;
    }
    if (this.shown && viewport !== this.shown.viewport) {
      this.stop(`You moved the view: you no longer follow ${leader.name}.`);
      return;
    }
    const view = sync.views.get(leader.clientId);
    if (!view || !size.width || !size.height) return;
    const s = this.shown;
    if (s && s.view === view && s.width === size.width && s.height === size.height) return;
    const next = viewportShowing(view, size.width, size.height);
    this.shown = { viewport: next, view, width: size.width, height: size.height };
    this.editor.setViewport(next);
  }
}
