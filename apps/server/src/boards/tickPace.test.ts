import { describe, expect, it } from 'vitest';
import { AdaptiveTickPace, LOADED_ABOVE, OVERLOADED_ABOVE, RELAXED_BELOW, tickPace, UNLOADED_BELOW } from './tickPace.js';

describe('tick pace', () => {
  it('lengthens the tick when the event loop is busy and returns with hysteresis', () => {
    const changes: number[] = [];
    const pace = new AdaptiveTickPace(25, 33, (ms) => changes.push(ms));
    try {
      expect(pace.current()).toBe(25);
      pace.observe(LOADED_ABOVE - 0.01);
      expect(pace.current()).toBe(25);
      pace.observe(LOADED_ABOVE);
      expect(pace.current()).toBe(33);
      // Between the thresholds it stays where it is, either way.
      pace.observe((LOADED_ABOVE + RELAXED_BELOW) / 2);
      expect(pace.current()).toBe(33);
      pace.observe(RELAXED_BELOW);
      expect(pace.current()).toBe(25);
      pace.observe((LOADED_ABOVE + RELAXED_BELOW) / 2);
      expect(pace.current()).toBe(25);
      expect(changes).toEqual([33, 25]);
    } finally {
      pace.stop();
    }
  });

  it('lengthens the loaded tick again when the event loop is nearly always busy, and comes back by stages', () => {
    const changes: number[] = [];
    const pace = new AdaptiveTickPace(25, 33, (ms) => changes.push(ms), 40);
    try {
      // Straight from the base only to the loaded tick, however busy.
      pace.observe(1);
      expect(pace.current()).toBe(33);
      pace.observe(OVERLOADED_ABOVE - 0.01);
      expect(pace.current()).toBe(33);
      pace.observe(OVERLOADED_ABOVE);
      expect(pace.current()).toBe(40);
      // The longer tick lowers utilization: between the thresholds it stays.
      pace.observe((OVERLOADED_ABOVE + UNLOADED_BELOW) / 2);
      expect(pace.current()).toBe(40);
      pace.observe(UNLOADED_BELOW);
      expect(pace.current()).toBe(33);
      pace.observe(OVERLOADED_ABOVE);
      pace.observe(RELAXED_BELOW);
      expect(pace.current()).toBe(25);
      expect(changes).toEqual([33, 40, 33, 40, 25]);
    } finally {
      pace.stop();
    }
  });

  it('has no third tick unless it is longer than the loaded one', () => {
    for (const overloaded of [undefined, 33, 30]) {
      const pace = new AdaptiveTickPace(25, 33, () => {}, overloaded);
      pace.observe(1);
      pace.observe(1);
      expect(pace.current()).toBe(33);
      pace.stop();
    }
  });

  it('is fixed when the loaded tick is not longer than the base', () => {
    expect(tickPace(25, undefined).current()).toBe(25);
    expect(tickPace(25, 25).current()).toBe(25);
    const adaptive = tickPace(25, 33);
    expect(adaptive).toBeInstanceOf(AdaptiveTickPace);
    adaptive.stop();
  });
});
