import { createHmac, createSecretKey, randomBytes } from 'node:crypto';

/**
 * Bulk MIME: a newsletter issue, or a subscriber mail's wording, is encoded ONCE into a multipart/alternative
 * message body (quoted-printable, RFC 2045 §6.7) with gaps where the per-recipient URLs go; each recipient's
 * message is then a join of ready-made ASCII strings. This is what makes thousands of personalised 30 KB
 * messages per second possible, and a thousand sign-up confirmations a second cheap: building each message
 * with a general MIME composer costs about a millisecond of CPU per reader here.
 *
 * Every gap starts and ends on a quoted-printable soft line break (`=` CRLF), so a value of any length keeps
 * every line within 76 characters, and a line that would start with `.` is written `=2E`, so the body
 * needs no SMTP dot-stuffing (RFC 5321 §4.5.2).
 */
/** Newsletter issues have `unsubscribe` and `manage`; a subscriber mail has its one `link`. */
export type Slot = 'unsubscribe' | 'manage' | 'link';

export interface PreparedMime {
  subjectHeader: string;
  boundary: string;
  /**
   * The body, text part then HTML part, boundaries included: runs of encoded bytes (already Buffers, so a
   * recipient's message is written without copying them) and the slots between them.
   */
  body: (Buffer | { slot: Slot; html: boolean })[];
}

/** The parts of an issue, each split at its slots: [segment, slot, segment, slot, …, segment] (text at even places, `Slot` names at odd). */
export interface SlottedParts {
  subject: string;
  text: string[];
  html: string[];
}

export function prepareMime(parts: SlottedParts): PreparedMime {
  const boundary = `----=_gazette_${randomBytes(12).toString('hex')}`;
  const body: PreparedMime['body'] = [];
  // Adjacent encoded pieces (a part's last segment, the next boundary and headers) are one Buffer.
  let pending = '';
  const part = (contentType: string, pieces: string[], html: boolean) => {
    pending += `--${boundary}\r\nContent-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`;
    // Even places hold text, odd places slots.
    pieces.forEach((piece, index) => {
      if (index % 2 === 0) pending += encodeQuotedPrintable(piece) + (index < pieces.length - 1 ? '=\r\n' : '\r\n');
      else {
        body.push(Buffer.from(pending, 'latin1'), { slot: piece as Slot, html });
        pending = '';
      }
    });
  };
  part('text/plain', parts.text, false);
  part('text/html', parts.html, true);
  pending += `--${boundary}--\r\n`;
  body.push(Buffer.from(pending, 'latin1'));
  return { subjectHeader: encodeHeaderValue(parts.subject), boundary, body };
}

/**
 * Message-IDs (RFC 5322 §3.6.4) of the form `<what.tag@domain>`, where the tag is an HMAC of `what` under a key
 * derived from the secret. Unique across installations and database resets (ids start again from 1, and a
 * receiver that has seen `<signup.1@host>` before would drop the mail as a repeat); unpredictable to anyone
 * without the secret; and the same every time one message is sent: a message sent again after a crash (the
 * window between the server's 250 and our record) carries its first Message-ID, so receivers that drop repeats
 * drop it. `what` must name one message (a delivery's or a subscriber mail's id).
 */
export function createMessageIds(secret: string, domain: string): (what: string) => string {
  const key = createSecretKey(createHmac('sha256', secret).update('gazette:message-id').digest());
  // 96 bits of tag: a KeyObject HMAC costs ~2 µs, a small part of a newsletter message's CPU.
  return (what) => `<${what}.${createHmac('sha256', key).update(what).digest('base64url').slice(0, 16)}@${domain}>`;
}

/** The list headers of a newsletter (RFC 2919 List-Id; RFC 2369 and RFC 8058 unsubscribe). */
export interface ListHeaders {
  id: string;
  unsubscribeUrl: string;
  unsubscribeMailto: string;
}

export interface RecipientHeaders {
  from: string;
  to: string;
  messageId: string;
  date: Date;
  /** Newsletters only (they also get `Precedence: bulk`); a subscriber mail is not list mail. */
  list?: ListHeaders;
  /** `Auto-Submitted: auto-generated` (RFC 3834 §5): a program's mail, such as a sign-up's confirmation. */
  autoSubmitted?: boolean;
  /** The value of every slot the prepared body has, already HTML-escaped for `html`. */
  slots: Partial<Record<Slot, { text: string; html: string }>>;
}

/**
 * One recipient's message, ready for SMTP DATA (CRLF line ends, no line starting with a dot), as the list
 * of Buffers to write one after the other: its headers, then the issue's encoded runs (shared by every
 * recipient, never copied) and the encoded slot values between them.
 */
export function renderMimeChunks(prepared: PreparedMime, r: RecipientHeaders): Buffer[] {
  const head =
    `From: ${formatMailbox(r.from)}\r\n` +
    `To: <${r.to}>\r\n` +
    `Subject: ${prepared.subjectHeader}\r\n` +
    `Date: ${r.date.toUTCString().replace('GMT', '+0000')}\r\n` +
    `Message-ID: ${r.messageId}\r\n` +
    (r.list
      ? `List-Id: <${r.list.id}>\r\n` +
        // One field with both URIs (RFC 2369 §3.2), folded; and the RFC 8058 §3.1 one-click marker.
        `List-Unsubscribe: <${r.list.unsubscribeUrl}>,\r\n <${r.list.unsubscribeMailto}>\r\n` +
        `List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n` +
        // Not in an RFC, but what vacation responders and many filters read as "do not answer this".
        `Precedence: bulk\r\n`
      : '') +
    (r.autoSubmitted ? `Auto-Submitted: auto-generated\r\n` : '') +
    `MIME-Version: 1.0\r\n` +
    `Content-Type: multipart/alternative; boundary="${prepared.boundary}"\r\n\r\n`;
  const chunks: Buffer[] = [Buffer.from(head, 'latin1')];
  for (const piece of prepared.body) {
    if (Buffer.isBuffer(piece)) chunks.push(piece);
    else {
      const value = r.slots[piece.slot];
      if (!value) throw new Error(`No value for the ${piece.slot} slot`);
      chunks.push(Buffer.from(encodeQuotedPrintable(piece.html ? value.html : value.text) + '=\r\n', 'latin1'));
    }
  }
  return chunks;
}

/** One recipient's message as one Buffer (the same bytes as `renderMimeChunks`, joined). */
export function renderMime(prepared: PreparedMime, r: RecipientHeaders): Buffer {
  return Buffer.concat(renderMimeChunks(prepared, r));
}

/** `Name <address>` with the name encoded when it is not plain ASCII. */
export function formatMailbox(mailbox: string): string {
  const match = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(mailbox);
  if (!match) return mailbox.trim();
  const [, name = '', address = ''] = match;
  if (!name) return `<${address}>`;
  const plain = /^[\x20-\x7e]*$/.test(name);
  return `${plain ? (/[()<>[\]:;@\\,."]/.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : name) : encodeHeaderValue(name)} <${address}>`;
}

const hex = '0123456789ABCDEF';

/**
 * Quoted-printable (RFC 2045 §6.7): UTF-8 bytes, hard line breaks as CRLF, lines of at most 76 characters,
 * `=`, control and non-ASCII bytes as `=XX`, trailing white space and a leading `.` encoded.
 */
export function encodeQuotedPrintable(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  return lines.map(encodeLine).join('\r\n');
}

/**
 * One line (no line breaks in it). Printable ASCII (URLs: every slot value) is read as it is, without a
 * UTF-8 Buffer, and copied in runs: this runs four times per recipient.
 */
function encodeLine(line: string): string {
  const bytes = printableAscii.test(line) ? undefined : Buffer.from(line, 'utf8');
  const length = bytes ? bytes.length : line.length;
  let out = '';
  let run = 0; // start of the pending run of literal characters (ASCII lines only)
  let width = 0; // characters on the output line so far
  for (let i = 0; i < length; i++) {
    const b = bytes ? bytes[i]! : line.charCodeAt(i);
    const literal =
      (b >= 33 && b <= 126 && b !== 61 && !(b === 46 && width === 0)) || ((b === 32 || b === 9) && i !== length - 1);
    const tokenWidth = literal ? 1 : 3;
    if (width + tokenWidth > 75) {
      // A soft line break (RFC 2045 §6.7 rule 5); a dot that would start the next line is encoded.
      if (!bytes) out += line.slice(run, i);
      out += '=\r\n';
      width = 0;
      run = i;
      if (b === 46) {
        out += '=2E';
        width = 3;
        run = i + 1;
        continue;
      }
    }
    width += tokenWidth;
    if (literal) {
      if (bytes) out += String.fromCharCode(b);
    } else {
      if (!bytes) out += line.slice(run, i);
      out += `=${hex[b >> 4]!}${hex[b & 15]!}`;
      run = i + 1;
    }
  }
  if (!bytes) out += line.slice(run);
  return out;
}

const printableAscii = /^[\x20-\x7e]*$/;

/** A header value: as is when printable ASCII, else RFC 2047 encoded words (base64, UTF-8), folded. */
export function encodeHeaderValue(value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ');
  if (/^[\x20-\x7e]*$/.test(clean)) return clean;
  const words: string[] = [];
  let chunk = '';
  for (const char of clean) {
    if (Buffer.byteLength(chunk + char) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}
