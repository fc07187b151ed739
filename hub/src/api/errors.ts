/** Codes of API errors beyond protocol's ErrorCodes (HTTP-level problems). */
export type ApiErrorCode =
  | 'CF_BAD_REQUEST'
  | 'CF_UNAUTHORIZED'
  | 'CF_FORBIDDEN'
  | 'CF_CONFLICT'
  | 'CF_NOT_FOUND'
  | 'CF_RATE_LIMITED'
  | 'CF_PAYLOAD_TOO_LARGE'
  | 'CF_INTERNAL'
  | 'CF_AGENT_TIMEOUT'
  | 'CF_DB_ERROR'
  /** a history range wider than its bucket allows (HISTORY_MAX_RANGE_S of @cityflow/protocol) */
  | 'CF_RANGE_TOO_LARGE';

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
