/// <reference types="vite-plugin-pwa/vanillajs" />
import { registerSW } from 'virtual:pwa-register';

/** How often an open tab asks whether a new version was deployed (also when it comes back online or into view). */
const CHECK_EVERY_MS = 30 * 60_000;

/**
 * The service worker (issue 17): the app shell opens without the network, and a new version
 * deployed while a tab is open waits until the person chooses to reload (never a silent reload:
 * unsent edits are in IndexedDB either way, but a drawing in progress would be cut).
 */
export class AppUpdate {
  /** A new version is installed and waits for a reload. */
  available = $state(false);
  private update: ((reload?: boolean) => Promise<void>) | null = null;

  start(): () => void {
    if (!('serviceWorker' in navigator)) return () => {};
    let registration: ServiceWorkerRegistration | undefined;
    const check = () => {
      if (navigator.onLine && document.visibilityState === 'visible') void registration?.update().catch(() => {});
    };
    this.update = registerSW({
      immediate: true,
      onNeedRefresh: () => (this.available = true),
      onRegisteredSW: (_url, found) => (registration = found),
      onRegisterError: (error: unknown) => console.warn('Inkboard: the app cannot work offline here (service worker not registered)', error),
    });
    const timer = setInterval(check, CHECK_EVERY_MS);
    addEventListener('online', check);
    document.addEventListener('visibilitychange', check);
    return () => {
      clearInterval(timer);
      removeEventListener('online', check);
      document.removeEventListener('visibilitychange', check);
    };
  }

  /** Activates the new version; the page reloads once it controls it. */
  reload(): void {
    void this.update?.(true);
  }

  dismiss(): void {
    this.available = false;
  }
}
