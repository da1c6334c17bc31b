import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { createMailTransport } from './mail.transport.ts';

describe('a refused SMTP login is the configuration, not the recipient', () => {
  let smtp: TestSmtpServer;
  let dir: string;
  let keyFile: string;
  before(async () => {
    smtp = await startTestSmtpServer({ auth: { user: 'gazette', pass: 'right' } });
    dir = await mkdtemp(path.join(tmpdir(), 'gazette-transport-'));
    keyFile = path.join(dir, 'dkim.pem');
    await writeFile(
      keyFile,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
  });
  after(async () => {
    await smtp.close();
    await rm(dir, { recursive: true, force: true });
  });

  // The lean pool (unsigned mail) and nodemailer (DKIM-signed mail) must agree: a 5xx to AUTH makes every
  // mail wait, with the server's reply, and marks no recipient failed (nor counts a hard bounce).
  for (const signed of [false, true]) {
    it(`${signed ? 'nodemailer (DKIM)' : 'the bulk pool'}: send waits with the server's reply; verify reports it`, async () => {
      const transport = await createMailTransport({
        mail: {
          smtpUrl: `smtp://gazette:wrong@127.0.0.1:${smtp.port}`,
          from: 'News <news@example.test>',
          dkim: signed ? { domain: 'example.test', selector: 's1', privateKeyFile: keyFile } : null,
          concurrency: 2,
          ratePerSecond: 0,
        },
        dataDir: dir,
      });
      try {
        assert.equal(Boolean(transport.sendRaw), !signed);
        const outcome = await transport.send({
          to: 'reader@example.com',
          subject: 'Hi',
          html: '<p>Hi</p>',
          text: 'Hi',
          messageId: '<t.1@example.test>',
        });
        assert.equal(outcome.kind, 'temporary', JSON.stringify(outcome));
        assert.ok(outcome.kind === 'temporary' && outcome.serverDown);
        assert.match(outcome.sessionRefused ?? '', /^535 Invalid credentials/);
        if (transport.sendRaw) {
          const raw = await transport.sendRaw('reader@example.com', Buffer.from('Subject: hi\r\n\r\nHi\r\n'));
          assert.match(raw.kind === 'temporary' ? (raw.sessionRefused ?? '') : raw.kind, /^535 Invalid credentials/);
        }
        const check = await transport.verify?.();
        assert.match(check?.ok === false ? (check.refused ?? '') : 'ok', /^535 Invalid credentials/);
        assert.equal(smtp.total(), 0);
      } finally {
        transport.close();
      }
    });
  }
});
