import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A fresh schema per test run on the shared PostgreSQL, so parallel runs never collide. */
export async function freshSchemaUrl(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `hub_test_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  const u = new URL(baseUrl);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: u.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: baseUrl });
      await d.connect();
      await d.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await d.end();
    },
  };
}
