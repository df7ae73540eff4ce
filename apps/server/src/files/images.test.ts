import { describe, expect, it } from 'vitest';
import { DecodeGate, sniffImageType, UploadError } from './images.js';

describe('sniffImageType', () => {
  it('knows the four accepted formats by their first bytes only', () => {
    expect(sniffImageType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe('image/png');
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImageType(Buffer.from('GIF89a...'))).toBe('image/gif');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).toBeNull();
    expect(sniffImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    expect(sniffImageType(Buffer.alloc(0))).toBeNull();
  });
});

describe('DecodeGate', () => {
  it('admits concurrency + queue uploads (2 per person), refuses the rest at once, decodes `concurrency` at a time', async () => {
    const gate = new DecodeGate(2, 1, 2);
    const a1 = gate.admit('a');
    const a2 = gate.admit('a');
    expect(() => gate.admit('a')).toThrow(expect.objectContaining({ code: 'TOO_MANY_REQUESTS', status: 429 }));
    const b1 = gate.admit('b');
    expect(gate.busy).toBe(3);
    let refused: unknown;
    try {
      gate.admit('c');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(UploadError);
    expect(refused).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503, retryAfterSeconds: 2 });

    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const work = () =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => releases.push(r));
        running--;
      });
    const jobs = [work(), work(), work()];
    await new Promise((r) => setImmediate(r));
    expect(running).toBe(2);
    while (releases.length || running) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(jobs);
    expect(peak).toBe(2);
    a1();
    a1(); // twice is once
    a2();
    b1();
    expect(gate.busy).toBe(0);
    gate.admit('a')();
  });
});
