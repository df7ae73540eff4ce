import { describe, expect, it } from 'vitest';
import { redactLogLine } from './logging.js';

describe('redactLogLine', () => {
  it('removes share codes, query credentials and API tokens, and leaves the rest', () => {
    const code = 'Zx9_abcDEF-123456789';
    const token = `ink_${'A'.repeat(43)}`;
    const line = JSON.stringify({
      msg: `Route GET:/join/${code}?from=mail not found`,
      req: { url: `/join/${code}`, other: `/trpc/board.list?input=%7B%7D&token=${token}&x=1` },
      err: `bad token ${token}`,
    });
    const out = redactLogLine(line);
    expect(out).not.toContain(code);
    expect(out).not.toContain(token.slice(4));
    expect(JSON.parse(out)).toEqual({
      msg: 'Route GET:/join/[redacted]?from=mail not found',
      req: { url: '/join/[redacted]', other: '/trpc/board.list?input=%7B%7D&token=[redacted]&x=1' },
      err: 'bad token ink_[redacted]',
    });
  });

  it('removes a share code or password that a tRPC call sent as GET carries in its URL (encoded or raw)', () => {
    const code = 'Zx9_abcDEF-123456789';
    const encoded = `/trpc/share.accept?input=${encodeURIComponent(JSON.stringify({ code }))}`;
    const raw = `/trpc/auth.signIn?input={"username":"ann","password":"p\\"ss w0rd"}`;
    const out = redactLogLine(JSON.stringify({ req: { url: encoded }, msg: `Route GET:${raw} not found`, err: { code: 'METHOD_NOT_SUPPORTED' } }));
    expect(out).not.toContain(code);
    expect(out).not.toContain('w0rd');
    expect(JSON.parse(out)).toEqual({
      req: { url: '/trpc/share.accept?input=%7B%22code%22%3A%22[redacted]%22%7D' },
      msg: 'Route GET:/trpc/auth.signIn?input={"username":"ann","password":"[redacted]"} not found',
      err: { code: 'METHOD_NOT_SUPPORTED' },
    });
  });

  it('returns other lines unchanged', () => {
    const line = '{"level":30,"msg":"incoming request","req":{"url":"/healthz"}}\n';
    expect(redactLogLine(line)).toBe(line);
  });
});
