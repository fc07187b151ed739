/**
 * Stable error codes, one table for every package. Logs, metrics labels, quarantine rows and API
 * errors use these so an operator can grep one code across the whole system.
 */
export const ErrorCodes = {
  CF_INVALID_JSON: 'payload is not valid JSON',
  CF_INVALID_READING: 'reading does not match the sensor reading schema',
  CF_OVERSIZE: 'payload is larger than the allowed size',
  CF_TOPIC_MISMATCH: 'sensor_id in the payload differs from the topic',
  CF_UNKNOWN_SENSOR: 'sensor is not in the network slice of this agent',
  CF_TS_FUTURE: 'timestamp is too far in the future',
  CF_TS_PAST: 'timestamp is too far in the past',
  CF_INVALID_MESSAGE: 'agent/hub message does not match its schema',
  CF_INVALID_NETWORK: 'network file is invalid',
  CF_INVALID_CONFIG: 'configuration is invalid',
  CF_BUFFER_FULL: 'outbox is full; data dropped under the outbox policy',
  CF_NOT_AUTHORIZED: 'client is not allowed to do this',
  CF_PORT_IN_USE: 'a port is already in use',
  CF_DB_ERROR: 'database error',
  CF_REJECTED_BY_HUB: 'the hub rejected this record',
  CF_DISK_FULL: 'the disk is full: readings are not acknowledged until space returns',
  CF_DB_CORRUPT: 'the database file was corrupt: moved aside, salvaged, started on a fresh one',
  CF_CLOCK_UNSYNCED: 'the clock has no recent reference (hub time or NTP)',
  CF_PARKED_ROWS: 'outbox rows were parked after too many tries',
  CF_SENSOR_UNCOVERED: 'sensor is in the network file but no agent covers it; its readings are ignored',
  // HTTP API (hub) and local HTTP/CLI (agent)
  CF_BAD_REQUEST: 'the request is invalid (400)',
  CF_UNAUTHORIZED: 'no valid token (401)',
  CF_FORBIDDEN: 'the role does not allow this, or registration is closed (403)',
  CF_NOT_FOUND: 'no such route or resource (404)',
  CF_CONFLICT: 'the resource exists already (409)',
  CF_PAYLOAD_TOO_LARGE: 'the request body is too large (413)',
  CF_RATE_LIMITED: 'too many requests (429)',
  CF_INTERNAL: 'internal error; details are in the server log, never in the answer (500)',
  CF_AGENT_TIMEOUT: 'the agent did not answer in time',
  CF_RANGE_TOO_LARGE: 'a history range wider than its bucket allows (HISTORY_MAX_RANGE_S)',
  CF_METHOD: 'HTTP method not allowed',
  CF_CLI: 'a command-line verb failed',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** An error that carries a stable code; entry points print `code: message`. */
export class CityFlowError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ErrorCodes[code],
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CityFlowError';
  }
}
