import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { SmtpPool } from './smtp.pool.ts';

const run = promisify(execFile);
const message = Buffer.from('From: a@judean.test\r\nTo: b@judean.test\r\nSubject: hi\r\n\r\nHello over TLS.\r\n');

/** An SMTP server with a certificate for `localhost`, on implicit TLS or offering STARTTLS. */
async function tlsServer(
  mode: 'smtps' | 'starttls',
  key: Buffer,
  cert: Buffer,
): Promise<{ server: SMTPServer; port: number; received: { secure: boolean; data: string }[] }> {
  const received: { secure: boolean; data: string }[] = [];
  const server = new SMTPServer({
    secure: mode === 'smtps',
    key,
    cert,
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ secure: session.secure, data: Buffer.concat(chunks).toString() });
        callback();
      });
    },
  });
  // A client that refuses the certificate hangs up mid-handshake; the server reports that, and it is expected.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.server.address() as AddressInfo).port, received };
}

describe('the bulk SMTP pool over TLS', () => {
  let dir = '';
  let key = Buffer.alloc(0);
  let cert = Buffer.alloc(0);
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gazette-tls-'));
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ]);
    key = await readFile(path.join(dir, 'key.pem'));
    cert = await readFile(path.join(dir, 'cert.pem'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const pool = (url: string, ca?: Buffer) =>
    new SmtpPool({
      url,
      maxConnections: 2,
      connectionTimeoutMs: 3000,
      socketTimeoutMs: 3000,
      maxMessagesPerConnection: 100,
      ...(ca ? { ca } : {}),
    });

  for (const mode of ['smtps', 'starttls'] as const) {
    it(`delivers over ${mode === 'smtps' ? 'smtps:// (implicit TLS)' : 'STARTTLS on smtp://'} to a server whose certificate it trusts`, async () => {
      const { server, port, received } = await tlsServer(mode, key, cert);
      const p = pool(`${mode === 'smtps' ? 'smtps' : 'smtp'}://localhost:${port}`, cert);
      try {
        const outcome = await p.send('a@judean.test', 'b@judean.test', message);
        assert.equal(outcome.kind, 'accepted');
        assert.equal(received.length, 1);
        assert.equal(received[0]?.secure, true, 'the session was encrypted');
        assert.match(received[0]?.data ?? '', /Hello over TLS\./);
      } finally {
        p.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it(`refuses to send over ${mode} to a certificate it does not trust, and loses nothing (a temporary outcome)`, async () => {
      const { server, port, received } = await tlsServer(mode, key, cert);
      const p = pool(`${mode === 'smtps' ? 'smtps' : 'smtp'}://localhost:${port}`);
      try {
        const outcome = await p.send('a@judean.test', 'b@judean.test', message);
        assert.equal(outcome.kind, 'temporary');
        assert.equal(received.length, 0);
      } finally {
        p.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  }
});
