import assert from 'node:assert/strict';
import { it } from 'node:test';
import { simpleParser } from 'mailparser';
import { confirmationMail } from '../subscribers/subscribers.pages.ts';
import { prepareLinkMail, renderLinkMail } from './mail.message.ts';

it('a mail encoded once with a gap for the link reads, once parsed, exactly as the mail written for that link', async () => {
  const names = { publicationName: 'The Judean', newsletterName: 'The Judean — Morning Brief “Grüße”' };
  const slot = 'gazette-link-slot';
  const template = confirmationMail(names, { confirmUrl: slot });
  const prepared = prepareLinkMail({ subject: template.subject, text: template.text.split(slot), html: template.html.split(slot) });
  // A long link with characters HTML must escape, and a dot that could land at a line start.
  const link = `https://news.example.test/newsletter/confirm?token=12.${'a'.repeat(60)}.${'.b'.repeat(40)}&x=<1>`;
  const raw = renderLinkMail(prepared, { from: 'Zeitung Ü <news@example.test>', to: 'reader@example.test', messageId: '<signup.7@example.test>', date: new Date('2026-12-02T12:00:00Z'), link });
  const [head = '', body = ''] = raw.toString('latin1').split('\r\n\r\n', 2);
  for (const line of head.split('\r\n')) assert.ok(line.length <= 998, `header line of ${line.length}`);
  for (const line of body.split('\r\n')) {
    assert.ok(line.length <= 76, `body line of ${line.length}: ${line}`);
    assert.ok(!line.startsWith('.'), line);
  }
  const parsed = await simpleParser(raw);
  const expected = confirmationMail(names, { confirmUrl: link });
  assert.equal(parsed.subject, expected.subject);
  assert.equal(parsed.text, expected.text);
  assert.equal(parsed.html, expected.html);
  assert.ok(expected.html.includes('&amp;x=&lt;1&gt;'), 'the link is escaped in the HTML part');
  assert.equal(parsed.from?.value[0]?.name, 'Zeitung Ü');
  assert.equal(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value[0]?.address : '', 'reader@example.test');
  assert.equal(parsed.messageId, '<signup.7@example.test>');
});
