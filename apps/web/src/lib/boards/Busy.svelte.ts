import { errorMessage } from '../trpc.js';

/** A dialog's calls to the server: `busy` while one runs, `error` in words when the last one failed. */
export class Busy {
  error = $state<string | null>(null);
  busy = $state(false);

  /** Runs `fn` with `busy` set; afterwards `error` is its failure's message, or null when it succeeded. */
  protected async run(fn: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await fn();
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.busy = false;
    }
  }
}
