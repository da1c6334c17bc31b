import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createMailTransport } from './mail.transport.ts';
import { createMessageIds } from './mail.mime.ts';
import { createVerpSender, messageIdDeliveriesIn, verpDeliveriesIn } from './mail.verp.ts';

const secret = 'v'.repeat(40);

describe('VERP envelope senders', () => {
  it('are signed per delivery, read back in any case, and a changed id or tag is not genuine', () => {
    const sender = createVerpSender(secret, 'bounces@news.example');
    const address = sender(42);
    assert.match(address, /^bounces\+d42-[0-9a-f]{20}@news\.example$/);
    assert.deepEqual([...verpDeliveriesIn(secret, `Delivered-To: ${address.toUpperCase()}`).deliveries], [42]);
    assert.deepEqual(verpDeliveriesIn(secret, address.replace('+d42-', '+d43-')), { deliveries: new Set(), forged: 1 });
    assert.deepEqual(
      verpDeliveriesIn('another secret at least 32 chars!', address).deliveries.size,
      0,
      'another installation cannot make ours',
    );
    const messageId = createMessageIds(secret, 'news.example')('gazette.7.42');
    assert.deepEqual([...messageIdDeliveriesIn(secret, `In-Reply-To: ${messageId}`).deliveries], [42]);
    assert.equal(messageIdDeliveriesIn(secret, messageId.replace('gazette.7.42', 'gazette.7.41')).deliveries.size, 0);
  });

  it('leave as MAIL FROM through nodemailer too (the DKIM path), From: unchanged', async () => {
    const seen: { from: string; data: string }[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (c: Buffer) => (data += c.toString()));
        stream.on(
          'end',
          () => (
            seen.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', data }),
            callback()
          ),
        );
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = await mkdtemp(path.join(tmpdir(), 'gazette-verp-'));
    try {
      const keyFile = path.join(dir, 'dkim.pem');
      await writeFile(
        keyFile,
        generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
      );
      const port = (server.server.address() as AddressInfo).port;
      const transport = await createMailTransport({
        mail: {
          smtpUrl: `smtp://127.0.0.1:${port}`,
          from: 'News <newsletter@news.example>',
          dkim: { domain: 'news.example', selector: 's1', privateKeyFile: keyFile },
          concurrency: 1,
          ratePerSecond: 0,
        },
        dataDir: dir,
      });
      const envelopeFrom = createVerpSender(secret, 'bounces@news.example')(9);
      const outcome = await transport.send({
        to: 'reader@example.test',
        subject: 'Hi',
        html: '<p>Hi</p>',
        text: 'Hi',
        messageId: '<x@news.example>',
        envelopeFrom,
      });
      transport.close();
      assert.equal(outcome.kind, 'accepted');
      assert.equal(seen[0]?.from, envelopeFrom);
      assert.match(seen[0]?.data ?? '', /^From: News <newsletter@news\.example>/m);
      assert.match(seen[0]?.data ?? '', /^DKIM-Signature:/m);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
