import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';

const errorsOf = (overrides: Record<string, unknown>): string[] => {
  try {
    resolveConfig({}, { agentId: 'A-1', ...overrides });
    return [];
  } catch (e) {
    return (e as { details?: string[] }).details ?? [String(e)];
  }
};

describe('agent TLS settings (--hub-ca, --hub-cert, --hub-key)', () => {
  it('need an mqtts:// or wss:// hub, and a certificate needs its key: every problem at once', () => {
    expect(errorsOf({ hubUrl: 'mqtt://hub:1884', hubCa: 'ca.pem', hubCert: 'c.pem' })).toEqual([
      'hubCa: needs an mqtts:// or wss:// hubUrl',
      'hubCert: needs an mqtts:// or wss:// hubUrl',
      'hubCert, hubKey: set both (mutual TLS) or neither',
    ]);
    expect(
      errorsOf({ hubUrl: 'mqtts://hub:8883', hubCa: 'ca.pem', hubCert: 'c.pem', hubKey: 'k.pem' }),
    ).toEqual([]);
  });
});
