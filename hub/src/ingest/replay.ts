import type { Network, SequencedStream } from '@cityflow/protocol';
import type { HubClock } from '../clock.js';
import type { Db } from '../db/db.js';
import { insertForecasts, insertSummaries } from '../store/ingest-store.js';
import { type QuarantineFilter, markReplayed, quarantinePayloads } from '../store/quarantine-store.js';
import { Authorizer } from './authorize.js';
import type { StreamItems } from './envelope.js';
import { checkItems } from './validate.js';

export interface ReplayOutcome {
  id: number;
  outcome: 'stored' | 'still-refused' | 'not-replayable';
  stored: number;
  reason?: string;
}

const SEQUENCED = new Set<string>(['summary', 'forecast']);

/** The items a dead letter holds: one item (a rejected seq) or a whole batch's items. */
function itemsOf(body: Buffer): unknown[] | null {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    if (v && typeof v === 'object' && Array.isArray((v as { items?: unknown }).items))
      return (v as { items: unknown[] }).items;
    return [v];
  } catch {
    return null;
  }
}

/**
 * Replays dead letters once their cause is fixed (a road added back, a sensor given to its agent, a
 * clock corrected): every item goes through the same checks as live ingest (schema, ownership, time
 * bounds) with today's network and clock, and is stored if it passes. A replayed row is marked in the
 * same transaction, so a second replay never stores it twice. Replays bypass the seq watermark: the
 * seq was resolved (rejected) long ago.
 */
export async function replayQuarantine(
  db: Db,
  net: Network,
  clock: HubClock,
  filter: QuarantineFilter,
): Promise<ReplayOutcome[]> {
  const rows = await quarantinePayloads(db, { ...filter, pending: true });
  const authorizer = new Authorizer(net);
  const out: ReplayOutcome[] = [];
  for (const row of rows) {
    const stream = row.stream as SequencedStream;
    const items =
      SEQUENCED.has(row.stream ?? '') && row.agent_id && !row.truncated ? itemsOf(row.body) : null;
    if (!items || !row.agent_id) {
      out.push({
        id: row.id,
        outcome: 'not-replayable',
        stored: 0,
        reason: 'not a summary or forecast item',
      });
      continue;
    }
    const agentId = row.agent_id;
    const { checked, unackable } = checkItems(stream, agentId, items, { clock, authorizer });
    const refused = [
      ...checked.filter((c) => c.rejection).map((c) => c.rejection!.message),
      ...unackable.flatMap((u) => u.errors),
    ];
    if (refused.length) {
      out.push({ id: row.id, outcome: 'still-refused', stored: 0, reason: refused.slice(0, 3).join('; ') });
      continue;
    }
    const stored = await db.transaction(async (tx) => {
      // A replayed summary is stored now, long after its close: its closed_at would count that wait
      // (hours of quarantine) as ingest latency, so it is stored without one.
      const values = checked.map((c) =>
        stream === 'summary' ? { ...(c.value as StreamItems['summary']), closed_at: undefined } : c.value!,
      );
      const n =
        stream === 'summary'
          ? await insertSummaries(tx, agentId, values as StreamItems['summary'][])
          : await insertForecasts(tx, agentId, values as StreamItems['forecast'][]);
      await markReplayed(tx, [row.id]);
      return n;
    });
    out.push({ id: row.id, outcome: 'stored', stored });
  }
  return out;
}
