import type { Api, Outputs } from '../trpc.js';
import { Busy } from './Busy.svelte.js';

type Link = Outputs['share']['links'][number];
type Member = Outputs['share']['members'][number];
type Removed = Outputs['share']['removed'][number];
/** When a new link stops working: after some hours, and/or after some people joined. */
export interface LinkLimits {
  expiresInHours?: number;
  maxUses?: number;
}
type GrantableRole = 'editor' | 'viewer';

/** The share dialog's data: links (owners only), members and their roles. */
export class Share extends Busy {
  links: Link[] = $state.raw([]);
  members: Member[] = $state.raw([]);
  /** People the owner removed: links do not let them back in (owners only). */
  removed: Removed[] = $state.raw([]);
  /** Link URLs by link id: the server shows a code only once, when it is created. */
  urls = $state.raw<ReadonlyMap<string, string>>(new Map());

  constructor(
    private readonly api: Api,
    readonly boardId: string,
    readonly isOwner: boolean,
  ) {
    super();
  }

  async load(): Promise<void> {
    await this.run(async () => {
      const boardId = this.boardId;
      const [links, members, removed] = await Promise.all([
        this.isOwner ? this.api.share.links.query({ boardId }) : Promise.resolve([]),
        this.api.share.members.query({ boardId }),
        this.isOwner ? this.api.share.removed.query({ boardId }) : Promise.resolve([]),
      ]);
      this.links = links;
      this.members = members;
      this.removed = removed;
    });
  }

  /** Creates a link and returns its URL (`/join/<code>`). */
  async createLink(role: GrantableRole, limits: LinkLimits = {}): Promise<string | null> {
    let url: string | null = null;
    await this.run(async () => {
      const { code, ...link } = await this.api.share.createLink.mutate({ boardId: this.boardId, role, ...limits });
      url = `${location.origin}/join/${code}`;
      this.urls = new Map(this.urls).set(link.id, url);
      this.links = [link, ...this.links.filter((l) => l.id !== link.id)];
    });
    return url;
  }

  async revoke(linkId: string): Promise<void> {
    await this.run(async () => {
      await this.api.share.revokeLink.mutate({ boardId: this.boardId, linkId });
      this.links = this.links.filter((l) => l.id !== linkId);
    });
  }

  async setRole(userId: string, role: GrantableRole): Promise<void> {
    await this.run(async () => {
      await this.api.share.setRole.mutate({ boardId: this.boardId, userId, role });
      this.members = this.members.map((m) => (m.userId === userId ? { ...m, role } : m));
    });
  }

  async removeMember(userId: string): Promise<void> {
    await this.run(async () => {
      await this.api.share.removeMember.mutate({ boardId: this.boardId, userId });
      this.members = this.members.filter((m) => m.userId !== userId);
      this.removed = await this.api.share.removed.query({ boardId: this.boardId });
    });
  }

  /** Lets a removed person back in with `role`. */
  async readmit(userId: string, role: GrantableRole): Promise<void> {
    await this.run(async () => {
      await this.api.share.readmit.mutate({ boardId: this.boardId, userId, role });
      this.removed = this.removed.filter((r) => r.userId !== userId);
      this.members = await this.api.share.members.query({ boardId: this.boardId });
    });
  }
}
