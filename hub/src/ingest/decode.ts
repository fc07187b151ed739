import { type Refusal, refuse } from './refusal.js';

/** Stage 2: bytes to a JSON value. A payload that does not parse is kept as its raw bytes. */
export function decode(payload: Buffer): { ok: true; value: unknown } | { ok: false; refusal: Refusal } {
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (e) {
    return { ok: false, refusal: refuse('CF_INVALID_JSON', [`(root): ${(e as Error).message}`], payload) };
  }
}
