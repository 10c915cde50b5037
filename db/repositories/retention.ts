import { sql, type RawBuilder } from 'kysely';
import type { RetentionTable } from '../../schemas/operations';
import type { DbOrTx } from '../database';

/**
 * One DELETE of at most `limit` rows older than the cutoff, per table, never touching what a
 * running workflow needs: open runs (status running), idempotency keys whose request has not
 * answered yet, and the logs of webhook deliveries still pending (their attempts are numbered after them).
 */
const PRUNE: Record<RetentionTable, (cutoff: RawBuilder<Date>, limit: number) => RawBuilder<unknown>> = {
  job_runs: (cutoff, limit) => sql`
    delete from job_runs where id in (
      select id from job_runs where status <> 'running' and closed_at < ${cutoff} order by closed_at limit ${limit})`,
  idempotency_keys: (cutoff, limit) => sql`
    delete from idempotency_keys where (user_id, key) in (
      select user_id, key from idempotency_keys where response_status is not null and created_at < ${cutoff} order by created_at limit ${limit})`,
  webhook_logs: (cutoff, limit) => sql`
    delete from webhook_logs where id in (
      select l.id from webhook_logs l
      where l.created_at < ${cutoff}
        and not exists (select 1 from webhook_deliveries d
                        where d.webhook_id = l.webhook_id and d.event_id = l.event_id and d.status = 'pending')
      order by l.created_at limit ${limit})`,
  ai_usage_logs: (cutoff, limit) => sql`
    delete from ai_usage_logs where id in (select id from ai_usage_logs where created_at < ${cutoff} order by created_at limit ${limit})`,
  usage_events: (cutoff, limit) => sql`
    delete from usage_events where id in (select id from usage_events where created_at < ${cutoff} order by created_at limit ${limit})`,
  audit_log: (cutoff, limit) => sql`
    delete from audit_log where id in (select id from audit_log where created_at < ${cutoff} order by created_at limit ${limit})`,
};

/** Deletes one batch of `table`'s rows older than `maxAgeSeconds`; the number deleted. */
export async function pruneExpiredBatch(db: DbOrTx, table: RetentionTable, maxAgeSeconds: number, limit: number): Promise<number> {
  const cutoff = sql<Date>`now() - make_interval(secs => ${maxAgeSeconds})`;
  const result = await PRUNE[table](cutoff, limit).execute(db);
  return Number(result.numAffectedRows ?? 0);
}
