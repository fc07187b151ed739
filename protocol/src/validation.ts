import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { CityFlowError } from './errors.js';

/** Outcome of validating untrusted input: the typed value, or every problem as `path: message`. */
export type Validated<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** One problem of a value: where (`items.0.seq`), TypeBox's message, and its kind (`IntegerMaximum`, ...). */
export interface SchemaIssue {
  path: string;
  message: string;
  kind: string;
}

/** TypeBox error paths are JSON pointers (`/items/0/seq`); people read `items.0.seq` better. */
export function formatPath(pointer: string): string {
  return pointer === '' ? '(root)' : pointer.slice(1).replaceAll('/', '.');
}

/**
 * Compiles a schema once: a fast check, and every problem of an invalid value, the first per path
 * (union members each report the same path).
 */
export function compileChecker<S extends TSchema>(
  schema: S,
): { check(value: unknown): value is Static<S>; issues(value: unknown): SchemaIssue[] } {
  const checker = TypeCompiler.Compile(schema);
  return {
    check: (value: unknown): value is Static<S> => checker.Check(value),
    issues(value: unknown) {
      const out = new Map<string, SchemaIssue>();
      for (const e of checker.Errors(value)) {
        const path = formatPath(e.path);
        if (!out.has(path)) out.set(path, { path, message: e.message, kind: ValueErrorType[e.type] });
      }
      return [...out.values()];
    },
  };
}

/**
 * Compiles a schema once and returns a validator that reports *every* problem.
 * The compiled check is the fast path (agent ingest runs it tens of thousands of times a second);
 * error collection only runs for invalid input.
 */
export function compileValidator<S extends TSchema>(schema: S): (value: unknown) => Validated<Static<S>> {
  const c = compileChecker(schema);
  return (value: unknown) => {
    if (c.check(value)) return { ok: true, value };
    const errors = c.issues(value).map((i) => `${i.path}: ${i.message}`);
    return { ok: false, errors: errors.length ? errors : ['(root): invalid'] };
  };
}

/** A TCP port as a setting (0 = a free one), for every configuration that names one. */
export const PortSchema = Type.Integer({ minimum: 0, maximum: 65535 });

/** A commander argument parser for a port flag (`--mqtt-port 1883`), by PortSchema. */
export function portArg(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < PortSchema.minimum! || n > PortSchema.maximum!)
      throw new CityFlowError(
        'CF_INVALID_CONFIG',
        `${flag}: expected a port 0..65535, got ${JSON.stringify(v)}`,
      );
    return n;
  };
}
