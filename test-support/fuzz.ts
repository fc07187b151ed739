/**
 * Shared fast-check pieces for the trust-boundary fuzz tests (issue 9, "Fuzzing"): hostile values,
 * mutations of a valid sample, and the run budget. Each property must hold for every input: the
 * decoder never throws past its boundary (it returns a structured error), and nothing it accepts
 * fails the rules of what it accepts.
 */
import fc from 'fast-check';

/**
 * Runs per property. Tuned so every fuzz file of the repository together stays under 30 s on the
 * 2-core CI machine; raise it locally (CITYFLOW_FUZZ_RUNS=10000) to search longer.
 */
export const FUZZ_RUNS = Number(process.env.CITYFLOW_FUZZ_RUNS || 300);

/** Values that break naive decoders: extremes, non-finite numbers, odd strings, wrong types. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    true,
    0,
    -0,
    -1,
    1e308,
    1.7e308,
    -1.7e308,
    2 ** 31,
    2 ** 53 + 2,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    '',
    ' ',
    '\u0000',
    '__proto__',
    'constructor',
    '2026-02-31T00:00:00Z',
    '2026-99-99T99:99:99Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2099-01-01T00:00:00Z',
    'x'.repeat(10_000),
    [],
    {},
    { __proto__: { polluted: true } },
  ),
  fc.double(),
  fc.integer(),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.jsonValue({ maxDepth: 2 }),
);

type Json = unknown;

function leafPaths(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(v)) for (const [i, x] of v.entries()) leafPaths(x, [...at, i], out);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v as Record<string, Json>)) leafPaths(x, [...at, k], out);
  return out;
}

function setAt(root: Json, path: (string | number)[], value: unknown): Json {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return copy;
}

/** A valid sample with one to three members (at any depth) replaced by hostile values or removed. */
export function mutated(sample: Json): fc.Arbitrary<unknown> {
  const paths = leafPaths(sample);
  const one = fc.tuple(fc.integer({ min: 0, max: paths.length - 1 }), hostileValue);
  return fc.array(one, { minLength: 1, maxLength: 3 }).map((edits) => {
    let v: Json = sample;
    for (const [i, value] of edits) {
      const p = paths[i]!;
      try {
        v = setAt(v, p, value);
      } catch {
        // the path vanished under an earlier edit: keep what we have
      }
    }
    return v;
  });
}

/** Arbitrary input of a JSON decoder: hostile values, mutations of the valid sample, random JSON. */
export function decoderInput(sample: Json): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: mutated(sample) },
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
}

/** The same as bytes on the wire: JSON text of an input, or arbitrary bytes. */
export function wireInput(sample: Json): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 4, arbitrary: decoderInput(sample).map((v) => Buffer.from(JSON.stringify(v) ?? 'undefined')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)) },
  );
}
