import { randomUUID } from 'node:crypto';

/** Ghost's error types and their HTTP status, as its clients read them (`error.type`, `error.name`). */
const statuses = {
  BadRequestError: 400,
  UnauthorizedError: 401,
  NoPermissionError: 403,
  NotFoundError: 404,
  ValidationError: 422,
  InternalServerError: 500,
} as const;

export type GhostErrorType = keyof typeof statuses;

/** An error answered in Ghost's shape: `{ errors: [{ message, context, type, … }] }`. */
export class GhostApiError extends Error {
  readonly type: GhostErrorType;
  readonly context: string | null;
  readonly status: number;
  constructor(type: GhostErrorType, message: string, context: string | null = null) {
    super(message);
    this.type = type;
    this.context = context;
    this.status = statuses[type];
  }
}

export function ghostErrorBody(error: GhostApiError) {
  return {
    errors: [
      {
        message: error.message,
        context: error.context,
        type: error.type,
        details: null,
        property: null,
        help: null,
        code: null,
        id: randomUUID(),
        ghostErrorCode: null,
      },
    ],
  };
}
