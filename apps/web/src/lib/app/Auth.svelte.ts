import { rememberUser, rememberedUser } from '../sync/localStore.js';
import { errorCode, type Api, type Me } from '../trpc.js';

/** Who is signed in. The session is an HttpOnly cookie: this class only knows what `auth.me` says. */
export class Auth {
  #user = $state.raw<Me | null>(null);
  /** Remembered on this browser, so that the app opens without the network (issue 17). */
  get user(): Me | null {
    return this.#user;
  }
  set user(user: Me | null) {
    this.#user = user;
    rememberUser(user);
  }
  /** False until the first `auth.me` answered (or a remembered user is shown meanwhile). */
  ready = $state(false);

  constructor(private readonly api: Api) {}

  async load(): Promise<void> {
    // The person last signed in on this browser is shown at once, so their boards open from the
    // local copies without waiting for the network (issue 17); the server's answer confirms them
    // (or signs them out: a session ended meanwhile).
    const remembered = rememberedUser();
    if (remembered && !this.ready) {
      this.#user = remembered;
      this.ready = true;
    }
    try {
      this.user = await this.api.auth.me.query();
    } catch (e) {
      // No network: stay that person, and ask the server again once the network is back.
      if (!remembered || errorCode(e) !== undefined) throw e;
      addEventListener('online', () => void this.load().catch(() => {}), { once: true });
    } finally {
      this.ready = true;
    }
  }

  async signIn(username: string, password: string): Promise<void> {
    await this.api.auth.signIn.mutate({ username, password });
    this.user = await this.api.auth.me.query();
  }

  async signUp(username: string, password: string): Promise<void> {
    await this.api.auth.signUp.mutate({ username, password });
    this.user = await this.api.auth.me.query();
  }

  async signOut(): Promise<void> {
    await this.api.auth.signOut.mutate();
    this.user = null;
  }

  /** Changes the password; every other session ends. Returns how many ended. */
  async changePassword(currentPassword: string, newPassword: string): Promise<number> {
    return (await this.api.auth.changePassword.mutate({ currentPassword, newPassword })).endedSessions;
  }

  /** Ends every session (this one too) and revokes every API token of the account. */
  async signOutEverywhere(): Promise<{ endedSessions: number; revokedTokens: number }> {
    const ended = await this.api.auth.signOutEverywhere.mutate();
    this.user = null;
    return ended;
  }

  async updateProfile(patch: { name?: string; color?: string }): Promise<void> {
    this.user = await this.api.auth.updateProfile.mutate(patch);
  }
}
