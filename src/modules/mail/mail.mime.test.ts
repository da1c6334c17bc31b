import assert from 'node:assert/strict';
import { it } from 'node:test';
import { simpleParser } from 'mailparser';
import { encodeHeaderValue, encodeQuotedPrintable, formatMailbox, prepareMime, renderMime } from './mail.mime.ts';

const url = 'https://news.example.test/newsletter/unsubscribe?token=12.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

it('quoted-printable keeps lines within 76 characters, never starts a line with a dot, and round-trips', async () => {
  const text = `.leading dot\n${'é'.repeat(100)}\n${'x'.repeat(300)}=\ntrailing space \n${'.'.repeat(200)}`;
  const encoded = encodeQuotedPrintable(text);
  for (const line of encoded.split('\r\n')) {
    assert.ok(line.length <= 76, `line of ${line.length}: ${line}`);
    assert.ok(!line.startsWith('.'), line);
  }
  const prepared = prepareMime({ subject: 'Grüße aus Jerusalem — “quoted”', text: [text + '\nUnsubscribe: ', 'unsubscribe', '\nend'], html: ['<a href="', 'unsubscribe', '">Unsubscribe</a> <a href="', 'manage', '">Manage</a>'] });
  const raw = renderMime(prepared, {
    from: 'Zeitung Ü <news@example.test>',
    to: 'reader@example.test',
    messageId: '<gazette.1.2@example.test>',
    date: new Date('2026-11-25T12:00:00Z'),
    listId: 'newsletter.example.test',
    unsubscribeUrl: url,
    unsubscribeMailto: 'mailto:news@example.test?subject=unsubscribe',
    slots: { unsubscribe: { text: url, html: url }, manage: { text: 'https://m.test/me?token=1&x=2', html: 'https://m.test/me?token=1&amp;x=2' } },
  });
  for (const line of raw.toString('latin1').split('\r\n')) {
    assert.ok(line.length <= 998);
    assert.ok(!line.startsWith('.'), line);
  }
  const mail = await simpleParser(raw);
  assert.equal(mail.subject, 'Grüße aus Jerusalem — “quoted”');
  assert.equal(mail.from?.value[0]?.name, 'Zeitung Ü');
  assert.equal(mail.text, `${text}\nUnsubscribe: ${url}\nend`);
  assert.equal(mail.html, `<a href="${url}">Unsubscribe</a> <a href="https://m.test/me?token=1&amp;x=2">Manage</a>`);
  assert.equal(mail.messageId, '<gazette.1.2@example.test>');
});

it('encodes headers only when they need it', () => {
  assert.equal(encodeHeaderValue('Plain subject'), 'Plain subject');
  assert.match(encodeHeaderValue('Ünïcode'), /^=\?UTF-8\?B\?/);
  assert.equal(formatMailbox('The Judean <n@example.test>'), 'The Judean <n@example.test>');
  assert.equal(formatMailbox('J. Doe <n@example.test>'), '"J. Doe" <n@example.test>');
  assert.equal(formatMailbox('n@example.test'), 'n@example.test');
});
