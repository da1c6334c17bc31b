import { randomBytes } from 'node:crypto';
import { escapeHtml } from '../../web/html.ts';
import { encodeHeaderValue, encodeQuotedPrintable, formatMailbox } from './mail.mime.ts';

/**
 * One-off mails to many people that differ only in one link (a sign-up's confirmation mail, say), for the
 * lean SMTP pool: the body is encoded once per wording into a multipart/alternative message, text then HTML,
 * both quoted-printable (RFC 2045 §6.7), with a gap where each recipient's link goes, as mail.mime.ts does
 * for newsletter issues. At a thousand sign-ups a second, composing each mail with nodemailer (about a
 * millisecond of CPU here) or even quoted-printable encoding its 2 KB body would cost a good part of a core
 * (docs/decisions/0005).
 *
 * The gap starts and ends on a soft line break (`=` CRLF), so a link of any length keeps every line within
 * 76 characters, and a line that would start with `.` is written `=2E`, so no dot-stuffing is needed
 * (RFC 5321 §4.5.2). For recipients whose address is plain ASCII; anything else takes nodemailer.
 */
export interface PreparedLinkMail {
  subjectHeader: string;
  boundary: string;
  /** Encoded body runs, and the link's places between them (in the text part, then in the HTML part). */
  body: (string | { html: boolean })[];
}

export interface LinkMailContent {
  subject: string;
  /** The text part, split where the link goes: [before, after] or [before, between, …, after]. */
  text: string[];
  html: string[];
}

/** Encodes the mail once; `renderLinkMail` then writes each recipient's copy. */
export function prepareLinkMail(content: LinkMailContent): PreparedLinkMail {
  const boundary = `----=_gazette_${randomBytes(12).toString('hex')}`;
  const body: PreparedLinkMail['body'] = [];
  let pending = '';
  const part = (type: string, pieces: string[], html: boolean) => {
    pending += `--${boundary}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`;
    pieces.forEach((piece, index) => {
      const last = index === pieces.length - 1;
      pending += encodeQuotedPrintable(piece) + (last ? '\r\n' : '=\r\n');
      if (!last) {
        body.push(pending, { html });
        pending = '';
      }
    });
  };
  part('text/plain', content.text, false);
  part('text/html', content.html, true);
  body.push(`${pending}--${boundary}--\r\n`);
  return { subjectHeader: encodeHeaderValue(content.subject), boundary, body };
}

export interface LinkMailRecipient {
  from: string;
  to: string;
  messageId: string;
  date: Date;
  /** The recipient's link, as plain text (it is HTML-escaped for the HTML part here). */
  link: string;
}

/** One recipient's message, ready for SMTP DATA (CRLF line ends, no line starting with a dot). */
export function renderLinkMail(prepared: PreparedLinkMail, r: LinkMailRecipient): Buffer {
  const text = `${encodeQuotedPrintable(r.link)}=\r\n`;
  const html = `${encodeQuotedPrintable(escapeHtml(r.link))}=\r\n`;
  let out =
    `From: ${formatMailbox(r.from)}\r\n` +
    `To: <${r.to}>\r\n` +
    `Subject: ${prepared.subjectHeader}\r\n` +
    `Date: ${r.date.toUTCString().replace('GMT', '+0000')}\r\n` +
    `Message-ID: ${r.messageId}\r\n` +
    `MIME-Version: 1.0\r\n` +
    `Content-Type: multipart/alternative; boundary="${prepared.boundary}"\r\n\r\n`;
  for (const piece of prepared.body) out += typeof piece === 'string' ? piece : piece.html ? html : text;
  return Buffer.from(out, 'latin1');
}
