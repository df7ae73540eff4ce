import { describe, expect, it } from 'vitest';
import { ByteLru } from './ByteLru.js';

describe('ByteLru', () => {
  it('drops the least recently used entries past its byte budget', () => {
    const lru = new ByteLru<string>(100, 60);
    lru.set('a', 'A', 40);
    lru.set('b', 'B', 40);
    expect(lru.get('a')).toBe('A'); // a is now the most recent
    lru.set('c', 'C', 40);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('A');
    expect(lru.get('c')).toBe('C');
    expect(lru.bytes).toBe(80);
    expect(lru.size).toBe(2);
  });

  it('does not keep a value larger than its entry limit, and replacing a key frees the old value', () => {
    const lru = new ByteLru<string>(100, 60);
    lru.set('big', 'X', 61);
    expect(lru.get('big')).toBeUndefined();
    expect(lru.bytes).toBe(0);
    lru.set('k', 'v1', 50);
    lru.set('k', 'v2', 30);
    expect(lru.get('k')).toBe('v2');
    expect(lru.bytes).toBe(30);
    lru.delete('k');
    expect(lru.bytes).toBe(0);
  });
});
