import { performance } from 'node:perf_hooks';

/** The length of a board tick now (BoardHub asks at the start of each tick). */
export interface TickPace {
  current(): number;
  stop(): void;
}

/** Event-loop utilization at or above which ticks lengthen, and at or below which they return. */
export const LOADED_ABOVE = 0.7;
export const RELAXED_BELOW = 0.5;
/** How often utilization is sampled. */
export const SAMPLE_MS = 500;

/**
 * Ticks of `baseMs` while the process has time, of `loadedMs` while its event loop is busy (most of
 * the last half second). Each tick is one frame per subscriber, and writing frames (one socket write
 * each) was the largest cost of a busy server (a fifth to a third of its time in profiles of the
 * school benchmark): a 33 ms tick writes a quarter fewer frames than a 25 ms one, and adds at most
 * 8 ms to an event's delay when it matters least, as the server would otherwise fall behind.
 * Hysteresis (LOADED_ABOVE / RELAXED_BELOW) keeps it from flapping.
 */
export class AdaptiveTickPace implements TickPace {
  private loaded = false;
  private last = performance.eventLoopUtilization();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly baseMs: number,
    private readonly loadedMs: number,
    private readonly onChange: (tickMs: number) => void = () => {},
  ) {
    this.timer = setInterval(() => this.sample(), SAMPLE_MS).unref();
  }

  current(): number {
    return this.loaded ? this.loadedMs : this.baseMs;
  }

  /** Feeds one utilization reading (0..1); `sample` reads the event loop's. */
  observe(utilization: number): void {
    const next = this.loaded ? utilization > RELAXED_BELOW : utilization >= LOADED_ABOVE;
    if (next === this.loaded) return;
    this.loaded = next;
    this.onChange(this.current());
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const now = performance.eventLoopUtilization();
    this.observe(performance.eventLoopUtilization(now, this.last).utilization);
    this.last = now;
  }
}

/** A tick that never changes. */
export function fixedTickPace(ms: number): TickPace {
  return { current: () => ms, stop: () => {} };
}

/** The pace for a process: adaptive when `loadedMs` is longer than `baseMs`, else fixed. */
export function tickPace(baseMs: number, loadedMs: number | undefined, onChange?: (tickMs: number) => void): TickPace {
  return loadedMs !== undefined && loadedMs > baseMs ? new AdaptiveTickPace(baseMs, loadedMs, onChange) : fixedTickPace(baseMs);
}
