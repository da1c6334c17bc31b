import { type Attachment, type ParsedMail, simpleParser } from 'mailparser';

/**
 * Reading what comes back after a message left: delivery status notifications (RFC 3464, inside an RFC 6522
 * multipart/report), feedback reports (RFC 5965 ARF, and Hotmail's older JMRP form), auto-replies (RFC 3834),
 * and the bounces mail servers write in their own words (qmail, Exim, Exchange, Gmail…). mailparser does the
 * MIME; what it cannot structure (a multipart/report with no boundaries, a message/rfc822 part shown inline)
 * is read from the raw text, as sisimai does.
 *
 * The one distinction that matters downstream is hard (the address is gone: suppress at once) against soft
 * (the mailbox exists or may: count it). Only the recipient's own failure is hard; a permanent refusal of
 * OUR message (spam, policy, DMARC, size, reputation) is soft, because suppressing the reader for it would
 * punish them for the sender's problem — the error listmonk made (listmonk#1334). Hard therefore needs
 * evidence: wording that names a missing mailbox or domain, or an RFC 3463 status that does (5.1.1, 5.1.2,
 * 5.1.3, 5.1.6, 5.1.10) with no wording against it.
 */
export type BounceClass = 'hard' | 'soft' | 'complaint' | 'auto-reply' | 'ignored';

/** How the message was read. */
export type BounceFormat = 'dsn' | 'arf' | 'hotmail-jmrp' | 'opt-out' | 'text' | 'auto-reply' | 'none';

export interface RecipientReport {
  address: string | null;
  /** RFC 3464 Action: failed, delayed, delivered, relayed, expanded (or what the wording implies). */
  action: string;
  /** RFC 3463 status, e.g. `5.1.1`. */
  status: string | null;
  diagnostic: string;
  class: 'hard' | 'soft' | 'delivered';
}

export interface BounceReport {
  class: BounceClass;
  format: BounceFormat;
  recipients: RecipientReport[];
  /** RFC 5965 Feedback-Type of a complaint (`abuse`, `opt-out`, `auth-failure`…). */
  feedbackType: string | null;
  /** One line for the operator, e.g. `5.1.1 user unknown`. */
  summary: string;
  /** The status of the recipient the class comes from. */
  status: string | null;
  /** Texts where a signed tag may be found: the raw message, decoded parts. Searched by the service only. */
  searchable: string[];
  /** Subject and sender, for the quarantine list. */
  subject: string;
  from: string;
}

/** The largest message read; a bounce or report is a few kilobytes with the original's headers. */
export const maxBounceBytes = 10 * 1024 * 1024;

/** Reads one message (RFC 5322 bytes). Never throws on malformed input: what cannot be read is `ignored`. */
export async function readBounce(raw: Buffer): Promise<BounceReport> {
  const text = raw.toString('latin1');
  let mail: ParsedMail | undefined;
  try {
    mail = await simpleParser(raw, {
      keepDeliveryStatus: true,
      skipImageLinks: true,
      skipTextLinks: true,
      maxHtmlLengthToParse: 1024 * 1024,
    });
  } catch {
    mail = undefined;
  }
  const attachments = mail?.attachments ?? [];
  const header = (name: string): string => headerValue(mail, name) ?? rawHeader(text, name) ?? '';
  const subject = (mail?.subject ?? header('subject')).slice(0, 200);
  const from = (mail?.from?.text ?? header('from')).slice(0, 200);
  const human = humanText(mail, text);
  const searchable = [
    text,
    mail?.text ?? '',
    ...attachments.filter((a) => isTextual(a)).map((a) => a.content.toString('utf8')),
  ];
  const base = { searchable, subject, from };

  // 1. Complaints (RFC 5965), before anything else: an ARF report also carries Auto-Submitted.
  const feedback =
    attachments.find((a) => a.contentType === 'message/feedback-report')?.content.toString('utf8') ??
    (/report-type="?feedback-report/i.test(header('content-type')) ? text : undefined);
  const feedbackType = feedback ? (/^Feedback-Type:[ \t]*([\w-]+)/im.exec(feedback)?.[1]?.toLowerCase() ?? null) : null;
  if (feedbackType) return { ...base, ...complaint(feedbackType, 'arf') };
  // Hotmail/Outlook.com's JMRP report: the complained-of message attached, marked with the reader's address.
  if (/^X-HmXmrOriginalRecipient:/im.test(text)) return { ...base, ...complaint('abuse', 'hotmail-jmrp') };
  // Apple Mail's unsubscribe button mails the list's address with this header.
  if (/^true$/i.test(header('x-apple-unsubscribe').trim())) return { ...base, ...complaint('opt-out', 'opt-out') };

  // 2. Delivery status notifications (RFC 3464), in a message/delivery-status part or, when the MIME is
  // broken, in the raw text.
  const dsnPart = attachments
    .find((a) => a.contentType === 'message/delivery-status' || a.contentType === 'message/global-delivery-status')
    ?.content.toString('utf8');
  const dsnText = dsnPart ?? (/^Final-Recipient:/im.test(text) && /^Action:/im.test(text) ? text : undefined);
  if (dsnText) {
    const recipients = readDsn(dsnText, human);
    if (recipients.length > 0) return { ...base, ...outcome(recipients, 'dsn') };
  }

  // 3. A bounce in a mail server's own words.
  if (looksLikeBounce(mail, header, subject, from)) {
    const recipient = readWordedBounce(human, header('x-failed-recipients'));
    return { ...base, ...outcome([recipient], 'text') };
  }

  // 4. Auto-replies (RFC 3834 and the de-facto headers): change nothing.
  if (isAutoReply(header, subject))
    return {
      ...base,
      class: 'auto-reply',
      format: 'auto-reply',
      recipients: [],
      feedbackType: null,
      summary: 'auto-reply',
      status: null,
    };

  return {
    ...base,
    class: 'ignored',
    format: 'none',
    recipients: [],
    feedbackType: null,
    summary: 'not a bounce, complaint or auto-reply',
    status: null,
  };
}

function complaint(
  feedbackType: string,
  format: BounceFormat,
): Pick<BounceReport, 'class' | 'format' | 'recipients' | 'feedbackType' | 'summary' | 'status'> {
  // An authentication-failure report (DMARC forensic) is about our DNS or signing, not the reader's wish.
  const cls: BounceClass = feedbackType === 'auth-failure' ? 'ignored' : 'complaint';
  return {
    class: cls,
    format,
    recipients: [],
    feedbackType,
    summary: `feedback report: ${feedbackType}`,
    status: null,
  };
}

/** The message's class from its recipients: hard if any is, else soft if any is, else a delivery report. */
function outcome(
  recipients: RecipientReport[],
  format: BounceFormat,
): Pick<BounceReport, 'class' | 'format' | 'recipients' | 'feedbackType' | 'summary' | 'status'> {
  const worst = recipients.find((r) => r.class === 'hard') ?? recipients.find((r) => r.class === 'soft');
  if (!worst)
    return {
      class: 'ignored',
      format,
      recipients,
      feedbackType: null,
      summary: `delivery report (${recipients[0]?.action ?? 'delivered'})`,
      status: recipients[0]?.status ?? null,
    };
  const diagnostic = worst.diagnostic.replace(/\s+/g, ' ').trim().slice(0, 160);
  return {
    class: worst.class === 'hard' ? 'hard' : 'soft',
    format,
    recipients,
    feedbackType: null,
    summary: [worst.status, worst.action === 'failed' ? '' : worst.action, diagnostic].filter(Boolean).join(' '),
    status: worst.status,
  };
}

/**
 * The per-recipient fields of a DSN (RFC 3464 §2.3): blocks separated by blank lines, each with
 * Final-Recipient, Action, Status and an optional Diagnostic-Code; continuation lines unfolded.
 */
function readDsn(dsn: string, human: string): RecipientReport[] {
  const blocks = dsn.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/);
  const recipients: RecipientReport[] = [];
  for (const block of blocks) {
    const fields = new Map<string, string>();
    for (const line of block.replace(/\n[ \t]+/g, ' ').split('\n')) {
      const match = /^([A-Za-z-]+):[ \t]*(.*)$/.exec(line);
      if (match && !fields.has(match[1]!.toLowerCase())) fields.set(match[1]!.toLowerCase(), match[2]!.trim());
    }
    if (!fields.has('action') || !(fields.has('final-recipient') || fields.has('original-recipient'))) continue;
    const action = (fields.get('action') ?? '').toLowerCase().split(/[\s(]/)[0] ?? '';
    const diagnostic = (fields.get('diagnostic-code') ?? '').replace(/^[\w-]+;\s*/, '');
    const evidence = diagnostic || human;
    const status = specificStatus(/^([245]\.\d{1,3}\.\d{1,3})/.exec(fields.get('status') ?? '')?.[1] ?? null, evidence);
    const address = addressIn(fields.get('final-recipient') ?? fields.get('original-recipient') ?? '');
    if (action === 'delivered' || action === 'relayed' || action === 'expanded') {
      recipients.push({ address, action, status, diagnostic, class: 'delivered' });
      continue;
    }
    // `delayed`, and any 4.x.x, is transient (RFC 3464 §2.3.3, RFC 3463 §3.1).
    const permanent = action === 'failed' && (status ? status.startsWith('5') : /\b5\d\d\b/.test(diagnostic));
    recipients.push({
      address,
      action: action || 'failed',
      status,
      diagnostic: evidence.slice(0, 1000),
      class: permanent ? failureClass(status, evidence) : 'soft',
    });
  }
  return recipients;
}

/** A bounce with no DSN part: its wording says what failed and whether for good. */
function readWordedBounce(human: string, failedRecipients: string): RecipientReport {
  const status = specificStatus(null, human);
  // A warning ("delayed", "will be retried") is transient whatever codes it quotes.
  const temporary =
    /\b(?:delayed|delay|warning message only|will (?:be )?retr(?:y|ied)|temporar(?:y|ily) (?:failure|error|unavailable)|has not yet been delivered|will continue (?:to try|trying))\b/i.test(
      human,
    );
  const permanent =
    !temporary &&
    (status?.startsWith('5') ||
      /\bpermanent(?:ly)?\b|\bfatal\b|could ?n[o']t be delivered|did not reach|undeliverable|delivery (?:has )?failed|wasn't delivered|not delivered|returned to sender|\b5\d\d[ -]/i.test(
        human,
      ));
  const address = addressIn(failedRecipients) ?? addressIn(/<([^<>\s]+@[^<>\s]+)>:/.exec(human)?.[1] ?? '');
  return {
    address,
    action: permanent ? 'failed' : 'delayed',
    status,
    diagnostic: diagnosticOf(human),
    class: permanent ? failureClass(status, human) : 'soft',
  };
}

/**
 * Why a permanent failure failed: wording about our message (spam, policy, size, authentication, a block,
 * a full mailbox) makes it soft even with a 5.1.x code (real servers send "5.1.1 mailbox full"); then
 * wording or a status naming a missing mailbox or domain makes it hard; anything else is soft.
 */
export function failureClass(status: string | null, text: string): 'hard' | 'soft' {
  if (softWording.test(text)) return 'soft';
  if (hardWording.test(text)) return 'hard';
  return status !== null && hardStatus.test(status) ? 'hard' : 'soft';
}

const softWording =
  /mailbox (?:is )?full|\bover ?quota\b|quota (?:exceeded|full)|exceeded (?:the )?(?:storage|quota)|insufficient (?:system )?storage|too (?:large|big)|size limit|exceeds the maximum|\bspam\b|\bube\b|\bjunk\b|\bvirus\b|\bblock(?:ed|list)?\b|black ?list|\blisted (?:at|on|in)\b|reputation|\bpolicy\b|policies|\bdmarc\b|\bspf\b|\bdkim\b|authenticat|\brate limit|too many|try (?:again|later)|greylist|gr[ae]y ?list|sender (?:address )?(?:was )?rejected|sender was rejected|relay(?:ing)? (?:denied|not permitted|access denied)|please use the smtp server|header error|content rejected|message content|\b(?:start)?tls\b/i;

const hardWording =
  /user unknown|unknown user|no such (?:user|mailbox|recipient|address|account)|unknown (?:recipient|address|mailbox|local[- ]part|email address)|recipient (?:unknown|not found|does not exist)|does ?n[o']t exist|recipient name is not recognized|recipnotfound|address couldn'?t be found|invalid (?:recipient|mailbox)|mailbox (?:not found|unavailable|disabled|inactive|does not exist)|account (?:is )?(?:disabled|inactive|closed)|recipient address rejected: (?:access denied|user unknown|undeliverable address)|no mailbox|host (?:or domain name )?not found|host unknown|domain (?:not found|does not exist|name not found)|no such domain|has moved|\bno longer (?:available|valid|active)\b/i;

/** RFC 3463: bad destination mailbox (5.1.1), system (5.1.2), address syntax (5.1.3), moved (5.1.6), null MX (5.1.10). */
const hardStatus = /^5\.1\.(?:1|2|3|6|10)$/;

/** A status, made more specific by one in the diagnostic when the field says only x.0.0 (or nothing). */
function specificStatus(status: string | null, text: string): string | null {
  if (status && !/^\d\.0\.0$/.test(status)) return status;
  const quoted = /(?:^|[\s#(<'"-])([245]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/.exec(text)?.[1];
  return quoted && (!status || quoted[0] === status[0]) ? quoted : status;
}

/** The lines of a worded bounce that explain the failure (blank lines and boilerplate dropped). */
function diagnosticOf(human: string): string {
  const lines = human
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /\b[245]\d\d\b|[245]\.\d\.\d|unknown|not|fail|reject|denied|full|exist|invalid/i.test(l));
  return lines.join(' ').slice(0, 1000);
}

function addressIn(value: string): string | null {
  const match = /([^\s<>;:"'()]+@[^\s<>;:"'(),]+)/.exec(value.replace(/^rfc822;/i, ''));
  return match?.[1]?.replace(/[.,]+$/, '') ?? null;
}

/** The human-readable part, cut where the returned original begins (its words are not the server's). */
function humanText(mail: ParsedMail | undefined, raw: string): string {
  let body = mail?.text?.trim() ? mail.text : mail?.html ? htmlToText(mail.html) : '';
  if (!body.trim()) body = raw.replace(/\r\n?/g, '\n').split(/\n\n/).slice(1).join('\n\n');
  const cut = originalStarts.exec(body);
  return (cut ? body.slice(0, cut.index) : body).slice(0, 16_000);
}

const originalStarts =
  /^[ \t]*(?:-+ ?(?:Below this line is a copy of the message|This is a copy of the message|Original message|The header of the original message|The following is a copy)|Original message headers:|-+ ?Original Message ?-+|-+ ?Undelivered message)/im;

function htmlToText(html: string | false): string {
  return typeof html === 'string'
    ? html
        .replace(/<[^>]*>/g, ' ')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&')
    : '';
}

function looksLikeBounce(
  mail: ParsedMail | undefined,
  header: (name: string) => string,
  subject: string,
  from: string,
): boolean {
  if (header('x-failed-recipients')) return true;
  if (/report-type="?delivery-status/i.test(header('content-type'))) return true;
  const fromDaemon = /mailer-daemon|postmaster|mail delivery/i.test(from);
  const bounceSubject =
    /undeliver|delivery status notification|delivery (?:failure|has failed|notification)|failure notice|returned mail|mail delivery failed|undelivered mail|non[- ]?delivery|delivery report|warning: (?:delayed|could not send)/i.test(
      subject,
    );
  return (fromDaemon && (bounceSubject || Boolean(mail?.text))) || bounceSubject;
}

function isAutoReply(header: (name: string) => string, subject: string): boolean {
  const autoSubmitted = header('auto-submitted').trim().toLowerCase();
  if (autoSubmitted && !autoSubmitted.startsWith('no')) return true;
  if (header('x-autoreply') || header('x-autorespond') || header('x-autoresponder')) return true;
  if (/auto[_-]?reply/i.test(header('precedence')) || /auto[_-]?reply/i.test(header('x-precedence'))) return true;
  return /^(?:auto(?:matic)? ?(?:reply|response|antwort)|auto:|out of (?:the )?office|abwesenheit|away from)|\((?:automatic|auto) (?:response|reply)\)|is out of the office|on vacation/i.test(
    subject.trim(),
  );
}

function isTextual(attachment: Attachment): boolean {
  return /^(?:message\/|text\/)/i.test(attachment.contentType) && attachment.content.length <= 1024 * 1024;
}

function headerValue(mail: ParsedMail | undefined, name: string): string | undefined {
  const value = mail?.headers.get(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(String).join(', ');
  if (typeof value === 'object' && 'value' in value && typeof value.value === 'string') {
    const params =
      'params' in value && value.params
        ? Object.entries(value.params as Record<string, string>)
            .map(([k, v]) => `; ${k}=${v}`)
            .join('')
        : '';
    return value.value + params;
  }
  if (typeof value === 'object' && 'text' in value && typeof value.text === 'string') return value.text;
  return undefined;
}

/** A top-level header read from the raw bytes (unfolded), for when mailparser could not parse the message. */
function rawHeader(raw: string, name: string): string | undefined {
  const head = raw.replace(/\r\n?/g, '\n').split(/\n\n/)[0] ?? '';
  const match = new RegExp(`^${name}:[ \\t]*(.*(?:\\n[ \\t].*)*)`, 'im').exec(head);
  return match?.[1]?.replace(/\n[ \t]+/g, ' ');
}
