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
  'media.range_not_satisfiable': { status: 416, message: 'The requested range cannot be served.' },
  'internal': { status: 500, message: 'Something went wrong on our side. Please try again in a moment.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCodes;

/** An expected failure with a stable code; its message is safe to show to the visitor. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message?: string) {
    super(message ?? errorCodes[code].message);
    this.code = code;
    this.status = errorCodes[code].status;
  }
}
