import { InvalidArgumentError } from 'commander';
import { CityFlowError } from '@cityflow/protocol';
import type { ClockMode } from './clock.js';
import { SCENARIOS, type ScenarioName } from './simulation.js';

/** Flag parsers for commander: each rejects bad input with `--flag: message` (validated at the boundary). */
export function positiveNumber(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new CityFlowError('CF_INVALID_CONFIG', `${flag}: must be a positive number, got ${v}`);
    return n;
  };
}

/** A whole number 1..2^31 − 1 (SUMO's seed is a C int). */
export function positiveInteger(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1)
      throw new CityFlowError('CF_INVALID_CONFIG', `${flag}: must be a whole number 1..2147483647, got ${v}`);
    return n;
  };
}

export function port(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new CityFlowError('CF_INVALID_CONFIG', `${flag}: must be a TCP port 1..65535, got ${v}`);
    return n;
  };
}

export function oneOf<T extends string>(flag: string, values: readonly T[]) {
  return (v: string): T => {
    if (!(values as readonly string[]).includes(v))
      throw new CityFlowError('CF_INVALID_CONFIG', `${flag}: must be one of ${values.join('|')}, got ${v}`);
    return v as T;
  };
}

export const clockMode = oneOf<ClockMode>('--clock', ['wall', 'data']);
export const scenarioName = oneOf<ScenarioName>('--scenario', SCENARIOS);

export function qos(v: string): 0 | 1 {
  if (v !== '0' && v !== '1') throw new CityFlowError('CF_INVALID_CONFIG', `--qos: must be 0 or 1, got ${v}`);
  return Number(v) as 0 | 1;
}

export function time(flag: string) {
  return (v: string): number => {
    const ms = Date.parse(v);
    if (!Number.isFinite(ms))
      throw new CityFlowError('CF_INVALID_CONFIG', `${flag}: not an RFC 3339 time: ${v}`);
    return ms;
  };
}

export function utcOffset(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < -14 || n > 14)
    throw new CityFlowError('CF_INVALID_CONFIG', `--utc-offset: hours in -14..14, got ${v}`);
  return n;
}

export function share(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new CityFlowError('CF_INVALID_CONFIG', `--faults: a share in 0..1, got ${v}`);
  return n;
}

/** commander reports a parser's throw as an invalid argument; keep our `--flag: message` text. */
export const arg =
  <T>(f: (v: string) => T) =>
  (v: string): T => {
    try {
      return f(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
