import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDb, type Db } from '../src/db/index.ts';
import { type GazetteProcess, spawnGazette } from './helpers/gazette-process.ts';
import { type Nginx, nginxBinary, startNginx } from './helpers/nginx.ts';
import { freePort } from './helpers/ports.ts';
import { createTestSite } from './helpers/site.ts';

/**
 * A POST of the sign-up form from a chosen loopback source address (Linux routes all of 127/8 to `lo`),
 * so that one machine can play several visitors behind one proxy.
 */
function signup(base: string, email: string, from: string, headers: Record<string, string> = {}): Promise<number> {
  const body = new URLSearchParams({ email, consent: 'yes', source: '/' }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}/newsletter/subscribe`,
      {
        method: 'POST',
        localAddress: from,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(body)),
          ...headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface ProxiedSite {
  direct: string;
  proxied: string;
  siteUrl: string;
  db: Db;
  /** The IP recorded in each address's `signup` consent event (IP_STORAGE=full). */
  consentIp: (email: string) => Promise<string | null>;
  close: () => Promise<void>;
}

/** `gazette serve` (SQLite, its own DATA_DIR) with a real nginx in front. */
async function proxiedSite(env: Record<string, string>): Promise<ProxiedSite> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gazette-proxy-'));
  const port = await freePort();
  const siteUrl = `http://127.0.0.1:${port}`;
  const server: GazetteProcess = spawnGazette(['serve'], {
    DATA_DIR: dataDir,
    PORT: String(port),
    SITE_URL: siteUrl,
    SIGNUP_LIMIT_PER_IP: '2',
    IP_STORAGE: 'full',
    ...env,
  });
  await server.waitFor('Gazette is serving');
  const nginx: Nginx = await startNginx(siteUrl);
  const { db } = createDb({ kind: 'sqlite', file: path.join(dataDir, 'gazette.sqlite') });
  return {
    direct: siteUrl,
    proxied: nginx.url,
    siteUrl,
    db,
    consentIp: async (email) =>
      (
        await db
          .selectFrom('consent_events')
          .innerJoin('subscribers', 'subscribers.id', 'consent_events.subscriber_id')
          .select('consent_events.ip')
          .where('subscribers.email', '=', email)
          .where('consent_events.kind', '=', 'signup')
          .executeTakeFirstOrThrow()
      ).ip,
    close: async () => {
      await nginx.stop();
      await server.stop();
      await db.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describe('TRUST_PROXY as a hop count', () => {
  it('TRUST_PROXY=1 takes the client address from the last X-Forwarded-For entry the nearest proxy added', async () => {
    const site = await createTestSite({ env: { TRUST_PROXY: '1', IP_STORAGE: 'full' } });
    try {
      const response = await site.app.inject({
        method: 'POST',
        url: '/newsletter/subscribe',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': '203.0.113.9, 198.51.100.3',
        },
        payload: new URLSearchParams({ email: 'hop@example.com', consent: 'yes', source: '/' }).toString(),
        remoteAddress: '10.0.0.2',
      });
      assert.equal(response.statusCode, 200);
      const event = await site.db
        .selectFrom('consent_events')
        .select('ip')
        .where('kind', '=', 'signup')
        .executeTakeFirstOrThrow();
      assert.equal(event.ip, '198.51.100.3');
    } finally {
      await site.close();
    }
  });
});

describe(
  'TRUST_PROXY behind a real nginx',
  { skip: existsSync(nginxBinary) ? false : `${nginxBinary} is not installed (apt-get install nginx-light)` },
  () => {
    describe('TRUST_PROXY=127.0.0.1 (the proxy’s address)', () => {
      let site: ProxiedSite;
      before(async () => (site = await proxiedSite({ TRUST_PROXY: '127.0.0.1' })));
      after(() => site?.close());

      it('the per-IP sign-up limit and the consent record see each visitor’s own address, and a forged X-Forwarded-For is not believed', async () => {
        assert.equal(await signup(site.proxied, 'a1@example.com', '127.0.0.5'), 200);
        assert.equal(await signup(site.proxied, 'a2@example.com', '127.0.0.5'), 200);
        // nginx appends the real peer to what the visitor claims; only the proxy's own hop is trusted.
        assert.equal(
          await signup(site.proxied, 'a3@example.com', '127.0.0.5', { 'x-forwarded-for': '203.0.113.9' }),
          429,
        );
        assert.equal(
          await signup(site.proxied, 'b1@example.com', '127.0.0.6'),
          200,
          'another visitor behind the same proxy has a limit of their own',
        );
        assert.equal(await site.consentIp('a1@example.com'), '127.0.0.5');
        assert.equal(await site.consentIp('b1@example.com'), '127.0.0.6');
      });

      it('a peer that is not the trusted proxy cannot claim an address', async () => {
        assert.equal(
          await signup(site.direct, 'c1@example.com', '127.0.0.7', { 'x-forwarded-for': '198.51.100.1' }),
          200,
        );
        assert.equal(await site.consentIp('c1@example.com'), '127.0.0.7');
      });

      it('absolute URLs come from SITE_URL, whatever scheme X-Forwarded-Proto reports', async () => {
        const page = await (await fetch(`${site.proxied}/`)).text();
        assert.match(page, new RegExp(`<link rel="canonical" href="${site.siteUrl}/"`));
      });
    });

    describe('without TRUST_PROXY (the default)', () => {
      let site: ProxiedSite;
      before(async () => (site = await proxiedSite({})));
      after(() => site?.close());

      it('every visitor behind the proxy shares its address, and a forged X-Forwarded-For changes nothing', async () => {
        assert.equal(await signup(site.proxied, 'a1@example.com', '127.0.0.5'), 200);
        assert.equal(await signup(site.proxied, 'a2@example.com', '127.0.0.5'), 200);
        assert.equal(await signup(site.proxied, 'b1@example.com', '127.0.0.6'), 429);
        assert.equal(await site.consentIp('a1@example.com'), '127.0.0.1', 'the proxy’s address, not the visitor’s');
        for (const forged of ['203.0.113.10', '203.0.113.11']) {
          assert.equal(
            await signup(site.direct, `f${forged}@example.com`, '127.0.0.1', { 'x-forwarded-for': forged }),
            429,
          );
        }
        assert.equal(await signup(site.direct, 'd1@example.com', '127.0.0.8', { 'x-forwarded-for': '127.0.0.5' }), 200);
        assert.equal(await site.consentIp('d1@example.com'), '127.0.0.8');
      });
    });
  },
);
