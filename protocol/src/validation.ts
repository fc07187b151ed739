import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** Outcome of validating untrusted input: the typed value, or every problem as `path: message`. */
export type Validated<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** TypeBox error paths are JSON pointers (`/items/0/seq`); people read `items.0.seq` better. */
export function formatPath(pointer: string): string {
  return pointer === '' ? '(root)' : pointer.slice(1).replaceAll('/', '.');
}

/**
 * Compiles a schema once and returns a validator that reports *every* problem.
 * The compiled check is the fast path (agent ingest runs it tens of thousands of times a second);
 * error collection only runs for invalid input.
 */
export function compileValidator<S extends TSchema>(schema: S): (value: unknown) => Validated<Static<S>> {
  const checker = TypeCompiler.Compile(schema);
  return (value: unknown) => {
    if (checker.Check(value)) return { ok: true, value: value as Static<S> };
    const errors: string[] = [];
    const seen = new Set<string>();
    for (const e of checker.Errors(value)) {
      const line = `${formatPath(e.path)}: ${e.message}`;
      // Union members each report the same path; keep the first message per path.
      if (seen.has(formatPath(e.path))) continue;
      seen.add(formatPath(e.path));
      errors.push(line);
    }
    return { ok: false, errors: errors.length ? errors : ['(root): invalid'] };
  };
}
