import assert from 'node:assert/strict';
import { it } from 'node:test';
import { simpleParser } from 'mailparser';
import { escapeHtml } from '../../ui/html.ts';
import { confirmationMail } from '../subscribers/subscribers.pages.ts';
import {
  encodeHeaderValue,
  encodeQuotedPrintable,
  formatMailbox,
  prepareMime,
  renderMime,
  renderMimeChunks,
} from './mail.mime.ts';

const url = 'https://news.example.test/newsletter/unsubscribe?token=12.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

it('quoted-printable keeps lines within 76 characters, never starts a line with a dot, and round-trips', async () => {
  const text = `.leading dot\n${'é'.repeat(100)}\n${'x'.repeat(300)}=\ntrailing space \n${'.'.repeat(200)}`;
  const encoded = encodeQuotedPrintable(text);
  for (const line of encoded.split('\r\n')) {
    assert.ok(line.length <= 76, `line of ${line.length}: ${line}`);
    assert.ok(!line.startsWith('.'), line);
  }
  const prepared = prepareMime({
    subject: 'Grüße aus Jerusalem — “quoted”',
    text: [text + '\nUnsubscribe: ', 'unsubscribe', '\nend'],
    html: ['<a href="', 'unsubscribe', '">Unsubscribe</a> <a href="', 'manage', '">Manage</a>'],
  });
  const raw = renderMime(prepared, {
    from: 'Zeitung Ü <news@example.test>',
    to: 'reader@example.test',
    messageId: '<gazette.1.2@example.test>',
    date: new Date('2026-11-25T12:00:00Z'),
    list: {
      id: 'newsletter.example.test',
      unsubscribeUrl: url,
      unsubscribeMailto: 'mailto:news@example.test?subject=unsubscribe',
    },
    slots: {
      unsubscribe: { text: url, html: url },
      manage: { text: 'https://m.test/me?token=1&x=2', html: 'https://m.test/me?token=1&amp;x=2' },
    },
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

/** The encoder as it was before the ASCII fast path (commit 2523ea2): the reference for byte-identical output. */
function referenceQuotedPrintable(text: string): string {
  const encodeLine = (line: string) => {
    const bytes = Buffer.from(line, 'utf8');
    const out: string[] = [];
    let current = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      const last = i === bytes.length - 1;
      let token: string;
      if ((b >= 33 && b <= 126 && b !== 61 && !(b === 46 && current.length === 0)) || ((b === 32 || b === 9) && !last))
        token = String.fromCharCode(b);
      else token = `=${'0123456789ABCDEF'[b >> 4]!}${'0123456789ABCDEF'[b & 15]!}`;
      if (current.length + token.length > 75) {
        out.push(current + '=');
        current = token === '.' ? '=2E' : token;
      } else current += token;
    }
    out.push(current);
    return out.join('\r\n');
  };
  return text.replace(/\r\n?/g, '\n').split('\n').map(encodeLine).join('\r\n');
}

it('quoted-printable gives the same bytes as the reference encoder, ASCII fast path or not', () => {
  // A small deterministic generator: dots, '=', spaces and tabs at every column, URLs, non-ASCII.
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const alphabet = [
    '.',
    '.',
    '=',
    ' ',
    '\t',
    'a',
    'Z',
    '0',
    '/',
    '?',
    '&',
    '-',
    '_',
    '~',
    'é',
    '€',
    '\n',
    '\r\n',
    '\x01',
    '\x7f',
  ];
  const cases = [
    '',
    '.',
    ' ',
    'https://news.example.test/newsletter/unsubscribe?token=12345.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    `https://news.example.test/newsletter/me?token=${'x'.repeat(120)}.${'.'.repeat(90)}`,
    'x'.repeat(74) + '.' + 'y'.repeat(80),
    'x'.repeat(75) + '.',
    'x'.repeat(73) + '=' + '.',
  ];
  for (let n = 0; n < 3000; n++) {
    let text = '';
    const length = random(240);
    for (let i = 0; i < length; i++)
      text += random(3) === 0 ? alphabet[random(alphabet.length)]! : 'abcdefghij.='[random(12)]!;
    cases.push(text);
  }
  for (const text of cases)
    assert.equal(encodeQuotedPrintable(text), referenceQuotedPrintable(text), JSON.stringify(text));
});

it("renders the chunks the pool writes as one recipient's whole mail, the issue body shared between recipients", async () => {
  const prepared = prepareMime({
    subject: 'Subject',
    text: ['Hello\nUnsubscribe: ', 'unsubscribe', '\nManage: ', 'manage', '\n'],
    html: ['<a href="', 'unsubscribe', '">U</a><a href="', 'manage', '">M</a>'],
  });
  const headers = (id: number) => ({
    from: 'The Judean <n@example.test>',
    to: `reader${id}@example.test`,
    messageId: `<gazette.1.${id}@example.test>`,
    date: new Date('2026-11-25T12:00:00Z'),
    list: {
      id: 'newsletter.example.test',
      unsubscribeUrl: `${url}${id}`,
      unsubscribeMailto: `mailto:n@example.test?subject=unsubscribe%20${id}`,
    },
    slots: {
      unsubscribe: { text: `${url}${id}`, html: `${url}${id}` },
      manage: { text: `https://m.test/me?token=${id}`, html: `https://m.test/me?token=${id}` },
    },
  });
  const one = renderMimeChunks(prepared, headers(1));
  const two = renderMimeChunks(prepared, headers(2));
  // Read back as a mail client does: the recipient's own links in the shared body, their own headers.
  const parsed = await simpleParser(Buffer.concat(one));
  assert.equal(parsed.text, `Hello\nUnsubscribe: ${url}1\nManage: https://m.test/me?token=1\n`);
  assert.equal(parsed.html, `<a href="${url}1">U</a><a href="https://m.test/me?token=1">M</a>`);
  assert.equal(parsed.messageId, '<gazette.1.1@example.test>');
  assert.equal(one.length, 10, 'headers, five runs of the issue, four slot values');
  assert.equal(one[1], two[1], 'the encoded issue is the same Buffer for every recipient, not a copy');
  const text = Buffer.concat(one).toString('latin1');
  assert.match(text, /\r\n\r\n------=_gazette_[0-9a-f]{24}\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
  assert.ok(
    text.includes(
      'Unsubscribe:=20=\r\nhttps://news.example.test/newsletter/unsubscribe?token=3D12.abcdefghijklmno=\r\n',
    ),
    text,
  );
  assert.ok(text.includes('Manage:=20=\r\nhttps://m.test/me?token=3D1=\r\n\r\n'), text);
  assert.ok(text.endsWith('--\r\n'));
});

it('a subscriber mail encoded once with a gap for its link reads, once parsed, exactly as the mail written for that link, with no list headers', async () => {
  const names = { publicationName: 'The Judean', newsletterName: 'The Judean — Morning Brief “Grüße”' };
  const gap = 'gazette-link-slot';
  const template = confirmationMail(names, { confirmUrl: gap });
  const slotted = (s: string) => s.split(gap).flatMap((piece, i) => (i === 0 ? [piece] : ['link', piece]));
  const prepared = prepareMime({
    subject: template.subject,
    text: slotted(template.text),
    html: slotted(template.html),
  });
  // A long link with characters HTML must escape, and dots that could land at a line start.
  const link = `https://news.example.test/newsletter/confirm?token=12.${'a'.repeat(60)}.${'.b'.repeat(40)}&x=<1>`;
  const raw = renderMime(prepared, {
    from: 'Zeitung Ü <news@example.test>',
    to: 'reader@example.test',
    messageId: '<signup.7@example.test>',
    date: new Date('2026-12-02T12:00:00Z'),
    slots: { link: { text: link, html: escapeHtml(link) } },
  });
  const [head = '', body = ''] = raw.toString('latin1').split('\r\n\r\n', 2);
  assert.doesNotMatch(head, /^List-/m, 'not list mail');
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
  assert.equal(parsed.messageId, '<signup.7@example.test>');
});
