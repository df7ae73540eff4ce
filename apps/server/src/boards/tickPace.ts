import { performance } from 'node:perf_hooks';

/** The length of a board tick now (BoardHub asks at the start of each tick). */
export interface TickPace {
  current(): number;
  stop(): void;
}

/** Event-loop utilization at or above which ticks lengthen, and at or below which they return. */
export const LOADED_ABOVE = 0.7;
export const RELAXED_BELOW = 0.5;
/**
 * Utilization at or above which the loaded tick lengthens again (the process is nearly out of time),
 * and at or below which it returns to the loaded tick. The longer tick writes about a sixth fewer
 * frames, which lowers utilization by less than the gap between the two (no flapping).
 */
export const OVERLOADED_ABOVE = 0.9;
export const UNLOADED_BELOW = 0.75;
/** How often utilization is sampled. */
export const SAMPLE_MS = 500;

/**
 * Ticks of `baseMs` while the process has time, of `loadedMs` while its event loop is busy (most of
 * the last half second), and of `overloadedMs` (when given) while it is nearly always busy. Each
 * tick is one frame per subscriber, and writing frames (one socket write each) was the largest cost
 * of a busy server (a fifth to a third of its time in profiles of the school benchmark): a 33 ms
 * tick writes a quarter fewer frames than a 25 ms one, and adds at most 8 ms to an event's delay when
 * it matters least, as the server would otherwise fall behind. Past that, a process that has no time
 * left makes every event wait in its queues, longer and longer; a 40 ms tick bounds the delay it
 * adds instead (issue 19: the school load at 600 on a slowed VM). Hysteresis keeps it from flapping.
 */
export class AdaptiveTickPace implements TickPace {
  /** 0: base, 1: loaded, 2: overloaded. */
  private stage = 0;
  private last = performance.eventLoopUtilization();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly baseMs: number,
    private readonly loadedMs: number,
    private readonly onChange: (tickMs: number) => void = () => {},
    private readonly overloadedMs?: number,
  ) {
    this.timer = setInterval(() => this.sample(), SAMPLE_MS).unref();
  }

  current(): number {
    return this.stage === 0 ? this.baseMs : this.stage === 1 || this.overloadedMs === undefined ? this.loadedMs : this.overloadedMs;
  }

  /** Feeds one utilization reading (0..1); `sample` reads the event loop's. */
  observe(utilization: number): void {
    const overloads = this.overloadedMs !== undefined && this.overloadedMs > this.loadedMs;
    let next = this.stage;
    if (this.stage === 0) next = utilization >= LOADED_ABOVE ? 1 : 0;
    else if (this.stage === 1) next = utilization <= RELAXED_BELOW ? 0 : overloads && utilization >= OVERLOADED_ABOVE ? 2 : 1;
    else next = utilization <= RELAXED_BELOW ? 0 : utilization <= UNLOADED_BELOW ? 1 : 2;
    if (next === this.stage) return;
    const before = this.current();
    this.stage = next;
    if (this.current() !== before) this.onChange(this.current());
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

/**
 * The pace for a process: adaptive when `loadedMs` is longer than `baseMs`, else fixed; with a third,
 * longer tick when `overloadedMs` is longer than `loadedMs`.
 */
export function tickPace(baseMs: number, loadedMs: number | undefined, onChange?: (tickMs: number) => void, overloadedMs?: number): TickPace {
  return loadedMs !== undefined && loadedMs > baseMs ? new AdaptiveTickPace(baseMs, loadedMs, onChange, overloadedMs) : fixedTickPace(baseMs);
}
