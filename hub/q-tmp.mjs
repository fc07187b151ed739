import { PGlite } from '@electric-sql/pglite';
const db = await PGlite.create(process.argv[2]);
const q = async (s) => (await db.query(s)).rows;
console.log(
  await q('select road_id, detected_at, cleared_at, confidence, reason from incidents order by detected_at'),
);
