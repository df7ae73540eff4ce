import { describe, expect, it } from 'vitest';
import { v8Flags } from './v8Flags.js';

describe('v8Flags', () => {
  it('turns allocation-site pretenuring off unless Node was started with it', () => {
    expect(v8Flags([])).toEqual(['--no-allocation-site-pretenuring']);
    expect(v8Flags(['--single-threaded-gc'])).toEqual(['--no-allocation-site-pretenuring']);
    expect(v8Flags(['--allocation-site-pretenuring'])).toEqual([]);
  });
});
