import type { ErrorCode } from '@cityflow/protocol';

/** A whole message the hub refuses (not acked: it has no seq), quarantined with its reason. */
export interface Refusal {
  code: ErrorCode;
  errors: string[];
  /** what is kept in the quarantine: the parsed value, or the raw bytes when it did not parse */
  payload: unknown;
}

/** One sequenced item the hub refuses for good: acked (listed in `rejected`) and quarantined. */
export interface Rejection {
  seq: number;
  code: ErrorCode;
  message: string;
}

export const refuse = (code: ErrorCode, errors: string[], payload: unknown): Refusal => ({
  code,
  errors,
  payload,
});
