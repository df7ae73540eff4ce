import { errorCode, errorMessage, type Api, type BoardSummary } from '../trpc.js';

/** The caller's boards (owned and shared), newest change first. */
export class Boards {
  items = $state.raw<BoardSummary[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  /** The session ended (signed out elsewhere, or expired). */
  signedOut = $state(false);

  constructor(private readonly api: Api) {}

  async load(): Promise<void> {
    try {
      this.items = await this.api.board.list.query();
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
      this.signedOut = errorCode(e) === 'UNAUTHORIZED';
    } finally {
      this.loading = false;
    }
  }

  async create(title = 'Untitled board'): Promise<string> {
    const board = await this.api.board.create.mutate({ title });
    return board.id;
  }

  async rename(boardId: string, title: string): Promise<void> {
    await this.api.board.rename.mutate({ boardId, title });
    this.items = this.items.map((b) => (b.id === boardId ? { ...b, title } : b));
  }

  async remove(boardId: string): Promise<void> {
    await this.api.board.delete.mutate({ boardId });
    this.items = this.items.filter((b) => b.id !== boardId);
  }

  async leave(boardId: string): Promise<void> {
    await this.api.board.leave.mutate({ boardId });
    this.items = this.items.filter((b) => b.id !== boardId);
  }
}
