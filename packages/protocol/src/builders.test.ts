import { describe, expect, it } from 'vitest';
import { newId } from './builders.js';

describe('newId', () => {
  it('never starts with "-" or "_" (a command line would take it for an option)', () => {
    for (let i = 0; i < 5_000; i++) expect(newId(12)).toMatch(/^[A-Za-z0-9][\w-]{11}$/);
  });
});
