import type { Logger } from 'pino';
import type { Queryable } from './db.js';

/**
 * PGlite runs no background workers, so TimescaleDB's policies (continuous-aggregate refresh,
 * compression, retention) never fire by themselves there. On pglite+timescaledb the hub's cycle calls
 * `runDue()`, which runs each scheduled job (`CALL run_job`) once its `schedule_interval` has passed since
 * this process last ran it — all of them on the first call. `run_job` does not update the job's
 * statistics, hence the in-process bookkeeping. A paused job (`scheduled = false`, e.g. retention on the
 * data clock) is not run. On a PostgreSQL server the background workers do this and no runner is made.
 */
export class TimescaleJobRunner {
  private readonly lastRunMs = new Map<number, number>();

  constructor(
    private readonly db: Queryable,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs the due jobs in a safe order (refresh the aggregate before retention drops its source); returns their ids. */
  async runDue(): Promise<number[]> {
    const jobs = await this.db.query<{ job_id: number; proc_name: string; interval_s: number }>(
      `SELECT job_id, proc_name, extract(epoch FROM schedule_interval)::float8 AS interval_s
       FROM timescaledb_information.jobs WHERE scheduled
       ORDER BY CASE proc_name WHEN 'policy_refresh_continuous_aggregate' THEN 0 WHEN 'policy_compression' THEN 1
         WHEN 'policy_retention' THEN 2 ELSE 3 END, job_id`,
    );
    const ran: number[] = [];
    for (const j of jobs.rows) {
      const last = this.lastRunMs.get(j.job_id);
      if (last !== undefined && this.now() - last < j.interval_s * 1000) continue;
      this.lastRunMs.set(j.job_id, this.now());
      const started = this.now();
      try {
        await this.db.query(`CALL run_job(${Number(j.job_id)})`);
        ran.push(j.job_id);
        this.log.debug(
          { job_id: j.job_id, proc: j.proc_name, ms: this.now() - started },
          'TimescaleDB job ran',
        );
      } catch (e) {
        // One failing job must not stop the others (nor the cycle); it is retried at its next interval.
        this.log.warn(
          { job_id: j.job_id, proc: j.proc_name, err: (e as Error).message },
          'TimescaleDB job failed',
        );
      }
    }
    return ran;
  }
}
