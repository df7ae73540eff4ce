import { describe, expect, it } from 'vitest';
import { AdaptiveTickPace, LOADED_ABOVE, RELAXED_BELOW, tickPace } from './tickPace.js';

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

  it('is fixed when the loaded tick is not longer than the base', () => {
    expect(tickPace(25, undefined).current()).toBe(25);
    expect(tickPace(25, 25).current()).toBe(25);
    const adaptive = tickPace(25, 33);
    expect(adaptive).toBeInstanceOf(AdaptiveTickPace);
    adaptive.stop();
  });
});
