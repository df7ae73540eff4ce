// The multi-process helpers work: nginx from deploy/nginx.conf in front of one ordinary server
// (HTTP, WebSocket upgrades, Host passed through for the Origin check), and throwaway PostgreSQL
// databases. Needs no multi-process server feature.
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, PG_ADMIN_URL, startNginx, type Nginx } from './helpers/cluster.js';
import { serverProcess, type ServerProcess } from './helpers/process.js';

let server: ServerProcess;
let nginx: Nginx;

beforeAll(async () => {
  server = await serverProcess();
  nginx = await startNginx([server.port]);
});

afterAll(async () => {
  await nginx?.stop();
  await server?.stop();
});

/** Opens a WebSocket to /trpc; resolves with 101 once open (then closes it) or the refusal's status. */
function upgrade(baseUrl: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((done, fail) => {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/trpc`, { headers });
    socket.once('open', () => {
      socket.once('close', () => done(101));
      socket.close();
    });
    socket.once('unexpected-response', (_req, res) => {
      done(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', fail);
  });
}

describe('nginx in front of a server process', () => {
  it('answers /healthz through nginx', async () => {
    const res = await fetch(`${nginx.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('upgrades a WebSocket to /trpc through nginx', async () => {
    expect(await upgrade(nginx.url)).toBe(101);
  });

  it("passes Host on with its port: a cookie upgrade from nginx's own origin is accepted, a foreign one refused", async () => {
    const cookie = 'inkboard_session=not-a-real-session';
    expect(await upgrade(nginx.url, { Cookie: cookie, Origin: nginx.url })).toBe(101);
    expect(await upgrade(nginx.url, { Cookie: cookie, Origin: 'https://evil.example' })).toBe(403);
  });

  it('refuses bodies over 2 MiB at nginx', async () => {
    const res = await fetch(`${nginx.url}/trpc/auth.signIn`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(3 * 1024 * 1024) });
    expect(res.status).toBe(413);
  });
});

describe('createPgDatabase', () => {
  it('creates a database that can be used, and drops it', async () => {
    const db = await createPgDatabase();
    const name = new URL(db.url).pathname.slice(1);
    expect(name).toMatch(/^inkboard_test_[0-9a-f]+$/);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>('SELECT current_database() AS name');
      expect(rows[0]?.name).toBe(name);
    } finally {
      await client.end();
    }
    await db.drop();

    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      expect(rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  });
});
