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
  CF_SENSOR_UNCOVERED: 'sensor is in the network file but no agent covers it; its readings are ignored',
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
