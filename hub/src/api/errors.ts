import type { ErrorCode } from '@cityflow/protocol';

/** API error codes come from the one table of @cityflow/protocol (`ErrorCodes`). */
export type ApiErrorCode = ErrorCode;

/** An HTTP error with a stable code; the error handler renders it as `{error:{code,message}}`. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}
