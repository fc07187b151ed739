import {
  ForecastBatchSchema,
  type ForecastRecord,
  SummaryBatchSchema,
  type SummaryRecord,
  UPLINK_LIMITS,
  type Validated,
  compileValidator,
  validateAgentHealth,
  validateAgentStatus,
  validateDiagResponse,
  validateLiveSnapshot,
} from '@cityflow/protocol';
import { type Static, Type } from '@sinclair/typebox';

/**
 * A sequenced batch with its items left unchecked: the envelope is validated first, then each item
 * once (validate.ts), so one bad item does not refuse its whole batch. Derived from the protocol's
 * batch schema, so the two cannot drift apart.
 */
function envelopeOf<S extends typeof SummaryBatchSchema | typeof ForecastBatchSchema>(schema: S) {
  return Type.Object({
    ...schema.properties,
    items: Type.Array(Type.Unknown(), { maxItems: UPLINK_LIMITS.maxBatchItems }),
  });
}
export const SummaryEnvelopeSchema = envelopeOf(SummaryBatchSchema);
export const ForecastEnvelopeSchema = envelopeOf(ForecastBatchSchema);
export type SummaryEnvelope = Static<typeof SummaryEnvelopeSchema>;
export type ForecastEnvelope = Static<typeof ForecastEnvelopeSchema>;
export type SequencedEnvelope = SummaryEnvelope | ForecastEnvelope;

/** The item type of each sequenced stream. */
export interface StreamItems {
  summary: SummaryRecord;
  forecast: ForecastRecord;
}

/** Stage 3 (decode, continued): each stream's message schema. */
export const envelopeValidators = {
  summary: compileValidator(SummaryEnvelopeSchema),
  forecast: compileValidator(ForecastEnvelopeSchema),
  live: validateLiveSnapshot,
  health: validateAgentHealth,
  status: validateAgentStatus,
  diag: validateDiagResponse,
} as const;

export type EnvelopeOf<K extends keyof typeof envelopeValidators> = (typeof envelopeValidators)[K] extends (
  v: unknown,
) => Validated<infer T>
  ? T
  : never;
