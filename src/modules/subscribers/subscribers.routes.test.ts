import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { createSubscriberToken } from './subscribers.tokens.ts';
import { eventually } from '../../../test/helpers/eventually.ts';

/** A real SMTP server on loopback that keeps every message it accepts, parsed. */
async function startSmtpServer(): Promise<{ port: number; mails: ParsedMail[]; close: () => Promise<void> }> {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => (mails.push(mail), callback()),
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const formType = { 'content-type': 'application/x-www-form-urlencoded' };

describe('newsletter sign-up, double opt-in and self-service (HTTP + real SMTP)', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let site: TestSite;
  let clock = Date.parse('2026-11-25T10:00:00Z');
  let ipCounter = 0;
  /** A fresh client address per test, so the per-IP limit is only met where a test means it. */
  let ip = '203.0.113.1';

  before(async () => {
    smtp = await startSmtpServer();
    site = await createTestSite({
      now: () => new Date(clock),
      env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, IP_STORAGE: 'truncated' },
    });
  });
  after(async () => {
    await site.close();
    await smtp.close();
  });
  beforeEach(() => {
    ipCounter++;
    ip = `198.51.${ipCounter}.7`;
  });

  const signup = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    site.app.inject({
      method: 'POST',
      url: '/newsletter/subscribe',
      headers: { ...formType, ...headers },
      payload: new URLSearchParams(fields).toString(),
      remoteAddress: ip,
    });

  /** The mails `address` has received, once there are `count` of them. */
  async function mailsTo(address: string, count: number): Promise<ParsedMail[]> {
    const to = (m: ParsedMail) =>
      m.to && !Array.isArray(m.to) && m.to.value.some((v) => v.address?.toLowerCase() === address.toLowerCase());
    await eventually(() => smtp.mails.filter(to).length >= count, `${count} mail(s) to ${address}`, 5000);
    return smtp.mails.filter(to);
  }

  const confirmLink = (mail: ParsedMail | undefined): string => {
    const link = /http:\/\/gazette\.test(\/newsletter\/confirm\?token=[A-Za-z0-9._-]+)/.exec(mail?.text ?? '')?.[1];
    assert.ok(link, 'the mail carries a confirmation link');
    return link;
  };

  const subscriberRow = (emailKey: string) =>
    site.db.selectFrom('subscribers').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
  /** `subscriber_mails` is the only way a mail leaves: no new row there is no mail, now or later. */
  const count = async (table: 'subscribers' | 'consent_events' | 'suppressions' | 'subscriber_mails') =>
    Number(
      (
        await site.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('double opt-in end to end through the real HTML form', async () => {
    const article = await site.app.inject({ url: '/articles/blinken-meets-herzog-ceasefire-push' });
    const form =
      /<form class="signup__form" method="post" action="([^"]+)">[\s\S]*?<\/form>/.exec(article.body)?.[0] ?? '';
    assert.match(form, /action="\/newsletter\/subscribe"/);
    assert.match(form, /name="website"[^>]*tabindex="-1"[^>]*autocomplete="off"/, 'honeypot in the form');
    const source = /name="source" value="([^"]+)"/.exec(form)?.[1] ?? '';
    assert.equal(source, '/articles/blinken-meets-herzog-ceasefire-push');
    assert.doesNotMatch(form, /checked/, 'nothing pre-ticked');

    const res = await signup(
      { source, email: 'Reader@Example.org', consent: 'yes', website: '' },
      { 'user-agent': 'TestBrowser/1.0' },
    );
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Check your inbox/);

    const [mail] = await mailsTo('Reader@example.org', 1);
    assert.ok(mail);
    assert.match(mail.subject ?? '', /Confirm your subscription/);
    assert.ok(mail.html && mail.html.includes('/newsletter/confirm?token='), 'HTML part has the link');
    const row = await subscriberRow('reader@example.org');
    assert.equal(row?.status, 'pending');

    const events = await site.db
      .selectFrom('consent_events')
      .selectAll()
      .where('subscriber_id', '=', row?.id ?? -1)
      .execute();
    assert.equal(events.length, 1);
    const [event] = events;
    const terms = await site.db
      .selectFrom('legal_documents')
      .selectAll()
      .where('kind', '=', 'terms')
      .orderBy('version', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(event?.kind, 'signup');
    assert.equal(event?.terms_version, terms.version);
    assert.equal(event?.terms_hash, terms.content_hash);
    assert.ok(event?.privacy_hash);
    assert.match(event?.form_wording ?? '', /Terms and conditions/);
    assert.equal(event?.source_url, source);
    assert.equal(event?.ip, `198.51.${ipCounter}.0`, 'IPv4 truncated to /24');
    assert.equal(event?.user_agent, 'TestBrowser/1.0');

    // A GET (what a mail scanner does) shows a button and confirms nothing.
    const link = confirmLink(mail);
    const page = await site.app.inject({ url: link });
    assert.equal(page.statusCode, 200);
    assert.equal((await subscriberRow('reader@example.org'))?.status, 'pending');
    const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const confirmed = await site.app.inject({
      method: 'POST',
      url: '/newsletter/confirm',
      headers: formType,
      payload: new URLSearchParams({ token }).toString(),
    });
    assert.equal(confirmed.statusCode, 200);
    assert.match(confirmed.body, /You are subscribed/);
    const after = await subscriberRow('reader@example.org');
    assert.equal(after?.status, 'confirmed');
    assert.equal(after?.confirm_nonce, null);
    const kinds = (
      await site.db
        .selectFrom('consent_events')
        .select('kind')
        .where('subscriber_id', '=', after?.id ?? -1)
        .orderBy('id')
        .execute()
    ).map((e) => e.kind);
    assert.deepEqual(kinds, ['signup', 'confirmed']);

    // Pressed again: confirms nothing more, and says so kindly.
    const again = await site.app.inject({
      method: 'POST',
      url: '/newsletter/confirm',
      headers: formType,
      payload: new URLSearchParams({ token }).toString(),
    });
    assert.equal(again.statusCode, 200);
    assert.match(again.body, /Already confirmed/);
    const queued = await site.db
      .selectFrom('subscriber_mails')
      .select('kind')
      .where('subscriber_id', '=', after?.id ?? -1)
      .execute();
    assert.equal(queued.length, 1, 'only the confirmation was queued, so only it is sent');
    assert.equal((await mailsTo('Reader@example.org', 1)).length, 1);
  });

  it('requires consent: 400 with the message next to the field and the typed address; nothing stored or sent', async () => {
    const before = [await count('subscribers'), await count('consent_events'), await count('subscriber_mails')];
    const res = await signup({ source: '/', email: 'noconsent@example.com' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /role="alert">Please tick the box/);
    // The box is what is wrong, not the address.
    assert.match(
      res.body,
      /id="signup-consent" name="consent" type="checkbox" value="yes" required aria-invalid="true" aria-describedby="signup-error">/,
    );
    assert.match(res.body, /value="noconsent@example.com">/);
    assert.doesNotMatch(res.body, /id="signup-email"[^>]*aria-invalid/);
    assert.deepEqual(
      [await count('subscribers'), await count('consent_events'), await count('subscriber_mails')],
      before,
    );
  });

  it('refuses invalid addresses (CR/LF, too long, markup) with an escaped 400, and accepts an internationalised domain as punycode', async () => {
    for (const email of [
      'a@example.com\r\nBcc: victim@example.com',
      'x'.repeat(250) + '@example.com',
      '<script>alert(1)</script>@example.com',
      'no-at-sign',
      'a@localhost',
    ]) {
      const res = await signup({ source: '/', email, consent: 'yes' });
      assert.equal(res.statusCode, 400, email);
      assert.doesNotMatch(res.body, /<script>alert/);
      assert.match(res.body, /valid email address/);
      assert.match(res.body, /id="signup-email"[^>]* aria-invalid="true" aria-describedby="signup-error">/);
      assert.doesNotMatch(res.body, /id="signup-consent"[^>]*aria-invalid/);
    }
    const idn = await signup({ source: '/', email: 'leser@bücher.example', consent: 'yes' });
    assert.equal(idn.statusCode, 200);
    const row = await subscriberRow('leser@xn--bcher-kva.example');
    assert.equal(row?.email, 'leser@xn--bcher-kva.example');
    const [idnMail] = await mailsTo('leser@bücher.example', 1);
    assert.ok(idnMail, 'the confirmation reached the internationalised address');
  });

  it('a second sign-up neither duplicates nor reveals: same page; pending gets another link, confirmed an "already subscribed" mail', async () => {
    const first = await signup({ source: '/', email: 'twice@example.com', consent: 'yes' });
    await mailsTo('twice@example.com', 1);
    const second = await signup({ source: '/', email: 'TWICE@example.com', consent: 'yes' });
    assert.equal(second.body, first.body);
    const mails = await mailsTo('twice@example.com', 2);
    assert.equal(mails.length, 2);
    assert.equal(
      Number(
        (
          await site.db
            .selectFrom('subscribers')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('email_key', '=', 'twice@example.com')
            .executeTakeFirstOrThrow()
        ).n,
      ),
      1,
    );
    const page = await site.app.inject({ url: confirmLink(mails[1]) });
    const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    assert.equal(
      (
        await site.app.inject({
          method: 'POST',
          url: '/newsletter/confirm',
          headers: formType,
          payload: `token=${token}`,
        })
      ).statusCode,
      200,
    );

    const third = await signup({ source: '/', email: 'twice@example.com', consent: 'yes' });
    assert.equal(third.body, first.body, 'a confirmed address gets the same page');
    const all = await mailsTo('twice@example.com', 3);
    assert.match(all[2]?.subject ?? '', /already subscribed/);
    assert.equal((await subscriberRow('twice@example.com'))?.status, 'confirmed');
  });

  it('signed up twice a minute apart: the FIRST mail\'s link confirms, and the second then says "already confirmed"', async () => {
    await signup({ source: '/', email: 'impatient@example.com', consent: 'yes' });
    await mailsTo('impatient@example.com', 1);
    clock += 60_000;
    try {
      await signup({ source: '/', email: 'impatient@example.com', consent: 'yes' });
      const [firstMail, secondMail] = await mailsTo('impatient@example.com', 2);
      assert.notEqual(confirmLink(firstMail), confirmLink(secondMail), 'two mails, two links');

      const firstPage = await site.app.inject({ url: confirmLink(firstMail) });
      assert.equal(firstPage.statusCode, 200);
      assert.match(firstPage.body, /Confirm my subscription/);
      const firstToken = /name="token" value="([^"]+)"/.exec(firstPage.body)?.[1] ?? '';
      const confirmed = await site.app.inject({
        method: 'POST',
        url: '/newsletter/confirm',
        headers: formType,
        payload: new URLSearchParams({ token: firstToken }).toString(),
      });
      assert.equal(confirmed.statusCode, 200);
      assert.match(confirmed.body, /You are subscribed/);
      assert.equal((await subscriberRow('impatient@example.com'))?.status, 'confirmed');

      // The second mail's link: a friendly page, no button, no error; its button (an old tab) says the same.
      const secondPage = await site.app.inject({ url: confirmLink(secondMail) });
      assert.equal(secondPage.statusCode, 200);
      assert.match(secondPage.body, /Already confirmed/);
      assert.doesNotMatch(secondPage.body, /<form method="post" action="\/newsletter\/confirm"/);
      const secondToken = confirmLink(secondMail).split('token=')[1] ?? '';
      const pressed = await site.app.inject({
        method: 'POST',
        url: '/newsletter/confirm',
        headers: formType,
        payload: new URLSearchParams({ token: secondToken }).toString(),
      });
      assert.equal(pressed.statusCode, 200);
      assert.match(pressed.body, /Already confirmed/);
      const again = await site.app.inject({
        method: 'POST',
        url: '/newsletter/confirm',
        headers: formType,
        payload: new URLSearchParams({ token: firstToken }).toString(),
      });
      assert.equal(again.statusCode, 200, 'the same link pressed twice is no error either');

      const row = await subscriberRow('impatient@example.com');
      const kinds = (
        await site.db
          .selectFrom('consent_events')
          .select('kind')
          .where('subscriber_id', '=', row?.id ?? -1)
          .orderBy('id')
          .execute()
      ).map((e) => e.kind);
      assert.deepEqual(kinds, ['signup', 'signup', 'confirmed'], 'one confirmation on record');
    } finally {
      clock -= 60_000;
    }
  });

  it("a link mailed before the reader unsubscribed cannot subscribe them again; the new sign-up's link can", async () => {
    await signup({ source: '/', email: 'changed-mind@example.com', consent: 'yes' });
    const [before] = await mailsTo('changed-mind@example.com', 1);
    const row = await subscriberRow('changed-mind@example.com');
    assert.ok(row);
    const unsubscribe = createSubscriberToken(await secretOf(site), 'unsubscribe', row.id);
    assert.equal(
      (
        await site.app.inject({
          method: 'POST',
          url: `/newsletter/unsubscribe?token=${unsubscribe}`,
          headers: formType,
          payload: 'List-Unsubscribe=One-Click',
        })
      ).statusCode,
      200,
    );
    const stale = await site.app.inject({ url: confirmLink(before) });
    assert.equal(stale.statusCode, 410);
    assert.equal((await subscriberRow('changed-mind@example.com'))?.status, 'unsubscribed');

    await signup({ source: '/', email: 'changed-mind@example.com', consent: 'yes' });
    const [, fresh] = await mailsTo('changed-mind@example.com', 2);
    assert.equal((await site.app.inject({ url: confirmLink(before) })).statusCode, 410, 'still not the old one');
    const token = confirmLink(fresh).split('token=')[1] ?? '';
    assert.equal(
      (
        await site.app.inject({
          method: 'POST',
          url: '/newsletter/confirm',
          headers: formType,
          payload: new URLSearchParams({ token }).toString(),
        })
      ).statusCode,
      200,
    );
    assert.equal((await subscriberRow('changed-mind@example.com'))?.status, 'confirmed');
  });

  it('answers missing, forged and expired confirmation tokens with a clear 4xx page', async () => {
    assert.equal((await site.app.inject({ url: '/newsletter/confirm' })).statusCode, 400);
    const forged = await site.app.inject({
      url: `/newsletter/confirm?token=1.${'A'.repeat(22)}.9999999999.${'B'.repeat(43)}`,
    });
    assert.equal(forged.statusCode, 400);
    assert.match(forged.body, /This link is not valid/);
    assert.equal(
      (
        await site.app.inject({
          method: 'POST',
          url: '/newsletter/confirm',
          headers: formType,
          payload: 'token=%3Cscript%3E',
        })
      ).statusCode,
      400,
    );

    await signup({ source: '/', email: 'late@example.com', consent: 'yes' });
    const [mail] = await mailsTo('late@example.com', 1);
    clock += 49 * 3600_000;
    try {
      const expired = await site.app.inject({ url: confirmLink(mail) });
      assert.equal(expired.statusCode, 410);
      assert.match(expired.body, /expired/);
    } finally {
      clock -= 49 * 3600_000;
    }
  });

  it('one-click unsubscribe: a cookie-less RFC 8058 POST answers 200 and takes effect at once', async () => {
    await signup({ source: '/', email: 'leaver@example.com', consent: 'yes' });
    const row = await subscriberRow('leaver@example.com');
    assert.ok(row);
    const token = createSubscriberToken(await secretOf(site), 'unsubscribe', row.id);
    const page = await site.app.inject({ url: `/newsletter/unsubscribe?token=${token}` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /method="post" action="\/newsletter\/unsubscribe\?token=/);
    const res = await site.app.inject({
      method: 'POST',
      url: `/newsletter/unsubscribe?token=${token}`,
      headers: formType,
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['set-cookie'], undefined);
    assert.equal((await subscriberRow('leaver@example.com'))?.status, 'unsubscribed');
    // Also as multipart/form-data (RFC 8058 §3.1 allows it), and idempotent: one withdrawn event.
    const multipart = await site.app.inject({
      method: 'POST',
      url: `/newsletter/unsubscribe?token=${token}`,
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      payload: '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n',
    });
    assert.equal(multipart.statusCode, 200);
    const withdrawn = await site.db
      .selectFrom('consent_events')
      .select('kind')
      .where('subscriber_id', '=', row.id)
      .where('kind', '=', 'withdrawn')
      .execute();
    assert.equal(withdrawn.length, 1);
    const forged = await site.app.inject({
      method: 'POST',
      url: `/newsletter/unsubscribe?token=${row.id}.${'x'.repeat(43)}`,
      headers: formType,
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(forged.statusCode, 400);
  });

  it('self-service: exports my data as JSON, and erasure keeps only a hash and blocks any further mail', async () => {
    await signup({ source: '/', email: 'forget-me@example.com', consent: 'yes' });
    await mailsTo('forget-me@example.com', 1);
    const row = await subscriberRow('forget-me@example.com');
    assert.ok(row);
    const token = createSubscriberToken(await secretOf(site), 'manage', row.id);
    const me = await site.app.inject({ url: `/newsletter/me?token=${token}` });
    assert.equal(me.statusCode, 200);
    assert.match(me.body, /forget-me@example.com/);
    const data = await site.app.inject({ url: `/newsletter/me/data?token=${token}` });
    assert.equal(data.statusCode, 200);
    assert.match(String(data.headers['content-type']), /application\/json/);
    const json = data.json<{
      subscriber: { email: string; confirm_nonce?: string };
      consentEvents: { kind: string }[];
    }>();
    assert.equal(json.subscriber.email, 'forget-me@example.com');
    assert.equal(json.subscriber.confirm_nonce, undefined);
    assert.deepEqual(
      json.consentEvents.map((e) => e.kind),
      ['signup'],
    );

    const erased = await site.app.inject({ method: 'POST', url: `/newsletter/me/delete?token=${token}` });
    assert.equal(erased.statusCode, 200);
    assert.equal(await subscriberRow('forget-me@example.com'), undefined);
    const events = await site.db
      .selectFrom('consent_events')
      .selectAll()
      .where(
        'email_hash',
        '=',
        (await site.db.selectFrom('suppressions').select('email_hash').executeTakeFirstOrThrow()).email_hash,
      )
      .execute();
    assert.deepEqual(
      events.map((e) => [e.kind, e.subscriber_id]),
      [
        ['signup', null],
        ['erased', null],
      ],
    );
    const dump =
      JSON.stringify(await site.db.selectFrom('consent_events').selectAll().execute()) +
      JSON.stringify(await site.db.selectFrom('suppressions').selectAll().execute());
    assert.doesNotMatch(dump, /forget-me/);

    // Signing up again: the same page, no row, no mail.
    const mailsBefore = await count('subscriber_mails');
    const again = await signup({ source: '/', email: 'forget-me@example.com', consent: 'yes' });
    assert.equal(again.statusCode, 200);
    assert.match(again.body, /Check your inbox/);
    assert.equal(await count('subscriber_mails'), mailsBefore);
    assert.equal(await subscriberRow('forget-me@example.com'), undefined);
    assert.equal((await site.app.inject({ url: `/newsletter/me?token=${token}` })).statusCode, 404);
  });

  it('survives hostile input: 1 MB body → 413, invalid UTF-8 → 4xx, bad tokens → 400', async () => {
    const big = await signup({ source: '/', email: 'a@example.com', consent: 'yes', website: 'x'.repeat(1024 * 1024) });
    assert.equal(big.statusCode, 413);
    const invalidUtf8 = await site.app.inject({
      method: 'POST',
      url: '/newsletter/subscribe',
      headers: formType,
      payload: Buffer.concat([
        Buffer.from('consent=yes&email='),
        Buffer.from([0xff, 0xfe, 0x40]),
        Buffer.from('example.com'),
      ]),
      remoteAddress: ip,
    });
    assert.ok(invalidUtf8.statusCode >= 400 && invalidUtf8.statusCode < 500, String(invalidUtf8.statusCode));
    const percentInvalid = await site.app.inject({
      method: 'POST',
      url: '/newsletter/subscribe',
      headers: formType,
      payload: 'consent=yes&email=%FF%FE%40example.com',
      remoteAddress: ip,
    });
    assert.equal(percentInvalid.statusCode, 400);
    const arrayField = await site.app.inject({
      method: 'POST',
      url: '/newsletter/subscribe',
      headers: formType,
      payload: 'consent=yes&email=a@example.com&email=b@example.com',
      remoteAddress: ip,
    });
    assert.equal(arrayField.statusCode, 400);
    const markupSource = await signup({ source: '/"><script>x</script>', email: '"><b>hi</b>', consent: 'yes' });
    assert.equal(markupSource.statusCode, 400);
    assert.doesNotMatch(markupSource.body, /<b>hi<\/b>|<script>x/);
    for (const url of [
      '/newsletter/me',
      '/newsletter/me?token=',
      '/newsletter/me?token=1.abc',
      '/newsletter/unsubscribe?token=%0d%0a',
      '/newsletter/me/data?token=a',
    ]) {
      const res = await site.app.inject({ url });
      assert.equal(res.statusCode, 400, url);
    }
  });

  it('honeypot: a filled field pretends success and stores and sends nothing', async () => {
    const before = [await count('subscribers'), await count('subscriber_mails')];
    const res = await signup({
      source: '/',
      email: 'robot@example.com',
      consent: 'yes',
      website: 'http://spam.example',
    });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Check your inbox/);
    assert.deepEqual([await count('subscribers'), await count('subscriber_mails')], before);
  });

  it('rate limits per IP and per address with a clear 429 page', async () => {
    for (let i = 0; i < 20; i++)
      assert.equal((await signup({ source: '/', email: 'x', consent: 'yes' })).statusCode, 400);
    const limited = await signup({ source: '/', email: 'x', consent: 'yes' });
    assert.equal(limited.statusCode, 429);
    assert.match(limited.body, /Too many sign-ups/);
    assert.ok(limited.headers['retry-after']);

    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      ip = `192.0.2.${i + 1}`;
      statuses.push((await signup({ source: '/', email: 'popular@example.com', consent: 'yes' })).statusCode);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
  });
});

async function secretOf(site: TestSite): Promise<string> {
  const row = await site.db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', 'secret_key')
    .executeTakeFirstOrThrow();
  return JSON.parse(row.value) as string;
}
