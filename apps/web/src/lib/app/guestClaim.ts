import type { Auth } from './Auth.svelte.js';
import type { Router } from './Router.svelte.js';
import type { Toasts } from './Toasts.svelte.js';
import type { Api } from '../trpc.js';

/** Set on this device while it is a guest who asked to keep the board with an account (issue 18). */
export const CLAIM_KEY = 'inkboard-guest-claim';

/** Remembers that the guest wants an account: the next sign-up or sign-in on this device claims the board. */
export function wantClaim(boardId: string): void {
  try {
    localStorage.setItem(CLAIM_KEY, boardId);
  } catch {
    // Private mode: nothing to claim later.
  }
}

/**
 * After a sign-up or sign-in on a device that was a guest who asked for it: `guest.claim` makes the
 * account a member of that board with the link's role, the account takes the guest's name when it
 * had none of its own (its username), and the board opens. The guest's ops stay the guest's.
 */
export async function claimIfWanted(api: Api, auth: Auth, router: Router, toasts: Toasts): Promise<void> {
  let wanted: string | null = null;
  try {
    wanted = localStorage.getItem(CLAIM_KEY);
    if (wanted) localStorage.removeItem(CLAIM_KEY);
  } catch {
    return;
  }
  if (!wanted || !auth.user) return;
  try {
    const claimed = await api.guest.claim.mutate({ boardId: wanted });
    if (auth.user && auth.user.name === auth.user.username && claimed.guestName) await auth.updateProfile({ name: claimed.guestName });
    toasts.show(`You are now a member of the board you joined as a guest (${claimed.role}).`);
    router.navigate(`/b/${claimed.boardId}`);
  } catch {
    // No guest left to claim (the link was turned off meanwhile): nothing to do.
  }
}
