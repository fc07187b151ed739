/**
 * External services for tests. A test that needs PostgreSQL, Redis or Mosquitto asks here:
 * unset URL -> the test is skipped with a visible reason; with CITYFLOW_REQUIRE_SERVICES=1 (CI)
 * an unset URL fails the suite instead, so a missing service can never pass silently.
 */
import { describe } from 'vitest';

export type ServiceName = 'PG' | 'REDIS' | 'MQTT';

export function serviceUrl(name: ServiceName): string | undefined {
  const url = process.env[`CITYFLOW_TEST_${name}_URL`];
  if (url) return url;
  if (process.env.CITYFLOW_REQUIRE_SERVICES === '1')
    throw new Error(
      `CITYFLOW_TEST_${name}_URL is not set but CITYFLOW_REQUIRE_SERVICES=1: this service is required`,
    );
  console.warn(`[skip] CITYFLOW_TEST_${name}_URL is not set: tests needing it are skipped`);
  return undefined;
}

/** `describe` that runs only when the service URL is known (skip is visible in the report). */
export function describeWithService(name: ServiceName, title: string, fn: (url: string) => void): void {
  const url = serviceUrl(name);
  if (url) describe(title, () => fn(url));
  else describe.skip(`${title} (needs CITYFLOW_TEST_${name}_URL)`, () => fn(''));
}

/**
 * A tool the tests need from Debian (sumo, chromium…): true when present; absent, the tests skip
 * visibly, except under CITYFLOW_REQUIRE_SERVICES=1 (CI), where a missing tool fails the suite.
 */
export function requireToolOrSkip(tool: string, present: boolean): boolean {
  if (present) return true;
  if (process.env.CITYFLOW_REQUIRE_SERVICES === '1')
    throw new Error(`${tool} is not installed but CITYFLOW_REQUIRE_SERVICES=1: .ci/run must install it`);
  console.warn(`[skip] ${tool} is not installed: tests needing it are skipped`);
  return false;
}
