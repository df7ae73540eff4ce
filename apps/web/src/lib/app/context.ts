import { createContext } from 'svelte';
import type { Api } from '../trpc.js';
import type { Auth } from './Auth.svelte.js';
import type { Router } from './Router.svelte.js';
import type { Theme } from './Theme.svelte.js';
import type { Toasts } from './Toasts.svelte.js';
import type { UnsentSync } from '../sync/UnsentSync.svelte.js';

/** What every page uses, created once by App.svelte. */
export interface AppContext {
  api: Api;
  auth: Auth;
  router: Router;
  theme: Theme;
  toasts: Toasts;
  /** Sends unsent edits of boards not open in this tab when the network returns (issue 17). */
  unsent: UnsentSync;
}

export const [getApp, setApp] = createContext<AppContext>();
