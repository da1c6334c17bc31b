/**
 * The registry of error codes. Services throw `new AppError('article.not_found')`; the one error handler in
 * app.ts maps the code to its HTTP status and to a page or JSON. Nothing branches on message text, and no
 * stack trace ever reaches a visitor. The table is mirrored in docs/ARCHITECTURE.md.
 */
export const errorCodes = {
  'request.bad_path': { status: 400, message: 'The address is not valid.' },
  'request.bad_query': { status: 400, message: 'The query string is not valid.' },
  'request.uri_too_long': { status: 414, message: 'The address is too long.' },
  'request.method_not_allowed': { status: 405, message: 'That method is not allowed here.' },
  'page.not_found': { status: 404, message: 'There is no page at this address.' },
  'article.not_found': { status: 404, message: 'There is no article at this address.' },
  'tag.not_found': { status: 404, message: 'There is no tag at this address.' },
  'author.not_found': { status: 404, message: 'There is no author at this address.' },
  'legal.not_found': { status: 404, message: 'That document has not been published yet.' },
  'media.not_found': { status: 404, message: 'There is no file at this address.' },
  'newsletter.issue_not_found': { status: 404, message: 'There is no newsletter issue with that number.' },
  'media.range_not_satisfiable': { status: 416, message: 'The requested range cannot be served.' },
  'subscriber.invalid_email': { status: 400, message: 'Please enter a valid email address, like name@example.com.' },
  'subscriber.consent_required': {
    status: 400,
    message: 'Please tick the box to agree, so that we may send you the newsletter.',
  },
  'subscriber.rate_limited': {
    status: 429,
    message: 'Too many sign-ups from here in a short time. Please wait a few minutes and try again.',
  },
  'subscriber.bad_token': {
    status: 400,
    message: 'This link is not valid. Please use the link from your most recent mail, complete and unchanged.',
  },
  'subscriber.token_expired': {
    status: 410,
    message: 'This confirmation link has expired. Please sign up again to receive a new one.',
  },
  'subscriber.token_used': {
    status: 410,
    message:
      'This confirmation link no longer works: it was sent before this address was unsubscribed. Please sign up again to receive a new one.',
  },
  'subscriber.unsubscribe_only_link': {
    status: 403,
    message:
      'This link can only unsubscribe. To see, download or delete your data, use the "Manage your subscription" link at the foot of a recent newsletter.',
  },
  'subscriber.not_found': { status: 404, message: 'This address is no longer on our list.' },
  'auth.required': { status: 401, message: 'Please sign in to the newsroom first.' },
  'auth.failed': { status: 401, message: 'The email or password is not right.' },
  'auth.forbidden': { status: 403, message: 'Your role does not allow this. Ask an admin if you need it.' },
  'auth.csrf': {
    status: 403,
    message: 'This form has expired or did not come from this site. Please go back, reload the page and try again.',
  },
  'auth.throttled': { status: 429, message: 'Too many sign-in attempts. Please wait 15 minutes and try again.' },
  'auth.busy': { status: 503, message: 'Too many people are signing in right now. Please try again in a moment.' },
  'auth.bad_link': {
    status: 400,
    message: 'This sign-in link is not valid. Please use the link you were given, complete and unchanged.',
  },
  'auth.link_expired': { status: 410, message: 'This sign-in link has expired. Ask an admin for a new one.' },
  'auth.link_used': { status: 410, message: 'This sign-in link has already been used. Ask an admin for a new one.' },
  'user.exists': { status: 409, message: 'There is already a user with that email address.' },
  'user.invalid_email': { status: 400, message: 'Please enter a valid email address, like name@example.com.' },
  'user.invalid_name': { status: 400, message: 'The name must be one line of at most 200 characters.' },
  'user.wrong_password': { status: 400, message: 'Your current password is not right.' },
  'user.password_mismatch': { status: 400, message: 'The two passwords are not the same.' },
  'user.weak_password': { status: 400, message: 'The password must be at least 12 characters long.' },
  // The article editor (modules/articles, articles.editor.service.ts).
  'article.invalid': { status: 400, message: 'Some fields need attention; see the messages next to them.' },
  'article.slug_taken': {
    status: 409,
    message: 'Another article already uses this slug (or used it before). Please choose another.',
  },
  'article.card_invalid': {
    status: 400,
    message: 'A card in the body needs attention; see the message next to the body.',
  },
  'article.html_card_forbidden': { status: 403, message: 'Only editors may add or change HTML cards.' },
  'article.conflict': {
    status: 409,
    message:
      'Someone saved this article after you opened it. Your text is still here: compare with the latest revision, then save again.',
  },
  'article.not_yours': {
    status: 403,
    message: 'You can only edit your own articles. Ask an editor to change this one.',
  },
  'article.publish_forbidden': {
    status: 403,
    message: 'Your role can write and save drafts, not publish, schedule or unpublish them. Ask an editor.',
  },
  'article.contributor_locked': {
    status: 403,
    message: 'This article is no longer a draft, so only its author or an editor can change it.',
  },
  'article.tag_forbidden': {
    status: 403,
    message: 'Only editors can create new tags. Pick from the existing tags, or ask an editor.',
  },
  'article.unknown_reference': {
    status: 400,
    message: 'A chosen tag, author, image or video does not exist (any more). Please choose again.',
  },
  'article.bad_schedule': { status: 400, message: 'Please give a publication time in the future.' },
  'article.autosave_published': {
    status: 409,
    message: 'Published articles are not autosaved. Press “Update” to publish your changes.',
  },
  'article.revision_not_found': { status: 404, message: 'There is no such revision of this article.' },
  // The newsroom's newsletter, subscriber, legal and user screens.
  'newsletter.subject_required': { status: 400, message: 'Please give the issue a subject.' },
  'newsletter.subject_too_long': { status: 400, message: 'The subject must be at most 200 characters.' },
  'newsletter.no_articles': { status: 400, message: 'Please pick at least one published article.' },
  'newsletter.too_many_articles': { status: 400, message: 'An issue can hold at most ten articles.' },
  'newsletter.unknown_article': {
    status: 400,
    message: 'One of the picked articles is not published (or does not exist). Please pick again.',
  },
  'newsletter.already_sent': { status: 409, message: 'This issue has already been sent. Compose a new issue instead.' },
  'newsletter.invalid_test_address': {
    status: 400,
    message: 'Please enter a valid address for the test copy, like name@example.com.',
  },
  'subscriber.import_source_required': {
    status: 400,
    message: 'Please say where the list came from and how its readers consented (the provenance).',
  },
  'subscriber.import_file_required': { status: 400, message: 'Please choose a CSV file to import.' },
  'subscriber.import_too_large': {
    status: 413,
    message: 'That file is larger than an import may be (32 MB). Split the list and import it in parts.',
  },
  'subscriber.import_bad_upload': {
    status: 400,
    message: 'The upload could not be read. Please choose the file and send the form again.',
  },
  'subscriber.import_not_csv': {
    status: 415,
    message: 'That file is not a CSV file with an "email" column in its header row.',
  },
  'subscriber.import_not_found': { status: 404, message: 'There is no import with that number.' },
  'legal.invalid': {
    status: 400,
    message: 'The document needs a title (one line, up to 200 characters) and a text (up to 200,000 characters).',
  },
  'user.not_found': { status: 404, message: 'There is no user with that number.' },
  'user.last_admin': { status: 409, message: 'This is the last active admin: make someone else an admin first.' },
  'user.invalid_role': { status: 400, message: 'Please choose a role: contributor, author, editor or admin.' },
  // Media in the newsroom (modules/media).
  'media.too_large': { status: 413, message: 'This file is too large.' },
  'media.unsupported_type': {
    status: 415,
    message:
      'This file is not an image, video or caption file we accept. Images: JPEG, PNG, WebP, AVIF or GIF; videos: MP4, WebM or QuickTime; captions: WebVTT. The type is read from the file itself, not its name.',
  },
  'media.svg_refused': {
    status: 415,
    message:
      'SVG files are not accepted: they can carry scripts that would run on this site. Please upload a PNG or WebP instead.',
  },
  'media.too_many_pixels': { status: 413, message: 'This image has more pixels than the library takes.' },
  'media.busy': {
    status: 429,
    message: 'Your earlier images are still being processed. Please wait a moment and upload this one again.',
  },
  'media.video_too_large': {
    status: 413,
    message: 'This video is longer, or its frames larger, than the library takes.',
  },
  'media.corrupt': {
    status: 415,
    message:
      'This file could not be read: it looks damaged, or is not what its first bytes say. Please export it again and retry.',
  },
  'media.bad_upload': {
    status: 400,
    message: 'The upload could not be understood. Please choose the file again and retry.',
  },
  'media.no_file': { status: 400, message: 'Please choose a file to upload.' },
  'media.empty_file': { status: 400, message: 'The file is empty.' },
  'media.alt_required': {
    status: 400,
    message:
      'Please describe the image in the alt text (what a reader who cannot see it should know), or tick "Decorative image".',
  },
  'media.invalid_alt': { status: 400, message: 'The alt text must be one line of at most 500 characters.' },
  'media.wrong_kind': { status: 400, message: 'That file is not of the kind this form takes.' },
  'media.invalid_captions': {
    status: 400,
    message:
      'The caption file is not valid WebVTT: it must be UTF-8 text starting with "WEBVTT", with cue times like 00:00:01.000 --> 00:00:04.000.',
  },
  'media.bad_clip_times': {
    status: 400,
    message:
      'Please give a start and an end time within the video (seconds, or minutes:seconds), the end after the start, at most 10 minutes apart.',
  },
  'media.clip_not_found': { status: 404, message: 'There is no such snippet job.' },
  'media.in_use': { status: 409, message: 'This file is used by an article. Remove it from the article first.' },
  'media.article_locked': {
    status: 403,
    message: 'A published article shows this file, and you may not edit that article. Ask an editor.',
  },
  'webhook.invalid_url': {
    status: 400,
    message:
      'Please give the endpoint as a full http:// or https:// address (at most 2,000 characters, without a user name or password).',
  },
  'webhook.no_events': { status: 400, message: 'Please choose at least one event for the endpoint.' },
  'webhook.unknown_event': { status: 400, message: 'That is not an event Gazette sends.' },
  'webhook.private_address': {
    status: 400,
    message:
      'That address is private, loopback or link-local. Tick "Allow private addresses" (or pass --allow-private) if this endpoint is meant to be on your own network.',
  },
  'webhook.not_found': { status: 404, message: 'There is no webhook endpoint with that number.' },
  'integration.invalid_name': {
    status: 400,
    message: 'Please give the integration a name: one line of at most 100 characters.',
  },
  'integration.not_found': { status: 404, message: 'There is no integration with that number.' },
  'storage.full': {
    status: 507,
    message:
      'The server has run out of disk space, so nothing could be saved. Please try again later; the site’s operator has been told.',
  },
  internal: { status: 500, message: 'Something went wrong on our side. Please try again in a moment.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCodes;

/** An expected failure with a stable code; its message is safe to show to the visitor. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message?: string, options?: ErrorOptions) {
    super(message ?? errorCodes[code].message, options);
    this.code = code;
    this.status = errorCodes[code].status;
  }
}

/**
 * A full disk or quota, wherever it was met: a file write (ENOSPC, EDQUOT), SQLite (SQLITE_FULL, result code
 * 13, also when extended) or PostgreSQL (SQLSTATE 53100 disk_full). Not the visitor's mistake, and it passes.
 */
export function isDiskFull(error: unknown): boolean {
  const e = error as { code?: unknown; errcode?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (
    e.code === 'ENOSPC' ||
    e.code === 'EDQUOT' ||
    e.code === '53100' ||
    (typeof e.errcode === 'number' && (e.errcode & 0xff) === 13)
  )
    return true;
  // sharp (libvips) reports a failed write with the system's text only, no code.
  return error instanceof Error && /No space left on device|Disk quota exceeded/.test(error.message);
}
