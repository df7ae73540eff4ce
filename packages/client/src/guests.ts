import { publicLinkCode } from '@inkboard/protocol';
import { createInkboardClient, type InkboardClient, type InkboardClientOptions } from './createClient.js';

export interface GuestJoined {
  /** A client acting as the guest (its secret as the token). */
  client: InkboardClient;
  boardId: string;
  role: 'editor' | 'viewer';
  allowChat: boolean;
  guest: { id: string; name: string; color: string };
  /** The guest's secret: pass it as `token` to act as the same guest again. */
  token: string;
}

/**
 * Joins a board through its public link (`https://host/g/<code>`, or the bare code) as a guest
 * named `name`, without an account (issue 18). The server is `options.url`, or the link's own
 * origin when the link is a URL and no url is given.
 */
export async function joinAsGuest(link: string, name: string, options: Omit<InkboardClientOptions, 'token' | 'url'> & { url?: string }): Promise<GuestJoined> {
  const code = publicLinkCode(link);
  if (!code) throw new Error(`"${link}" is not a public link (expected https://host/g/<code>).`);
  const url = options.url ?? new URL(link).origin;
  const anonymous = createInkboardClient({ ...options, url });
  let joined;
  try {
    joined = await anonymous.trpc.guest.join.mutate({ code, name, returnToken: true });
  } finally {
    await anonymous.close();
  }
  if (!('token' in joined) || typeof joined.token !== 'string') throw new Error('The server did not return a guest secret.');
  const client = createInkboardClient({ ...options, url, token: joined.token });
  return { client, boardId: joined.boardId, role: joined.role, allowChat: joined.allowChat, guest: joined.guest, token: joined.token };
}
