import type { DbOrTx } from '../database';
import type { ProviderJobRowStatus } from '../types';

export interface ProviderJobClaim {
  provider: string;
  /** Derived from our ids (e.g. `training:<modelId>`): the same work always claims the same row. */
  idempotencyKey: string;
  workflowId: string;
  kind: string;
}

/**
 * The row of one provider job, claimed before the provider is called: a new `submitting` row, or
 * the row an earlier attempt claimed (with the provider's job id once that attempt got it).
 */
export async function claimProviderJob(db: DbOrTx, claim: ProviderJobClaim) {
  const inserted = await db
    .insertInto('provider_jobs')
    .values({ provider: claim.provider, idempotency_key: claim.idempotencyKey, workflow_id: claim.workflowId, kind: claim.kind })
    .onConflict((oc) => oc.columns(['provider', 'idempotency_key']).doNothing())
    .returningAll()
    .executeTakeFirst();
  return (
    inserted ??
    db
      .selectFrom('provider_jobs')
      .selectAll()
      .where('provider', '=', claim.provider)
      .where('idempotency_key', '=', claim.idempotencyKey)
      .executeTakeFirstOrThrow()
  );
}

/** Stores the provider's job id on the claimed row (the webhook route routes by it). */
export async function recordProviderJobCreated(
  db: DbOrTx,
  input: { provider: string; idempotencyKey: string; providerJobId: string; status: ProviderJobRowStatus },
): Promise<void> {
  await db
    .updateTable('provider_jobs')
    .set({ provider_job_id: input.providerJobId, status: input.status })
    .where('provider', '=', input.provider)
    .where('idempotency_key', '=', input.idempotencyKey)
    .execute();
}

export async function findProviderJob(db: DbOrTx, provider: string, providerJobId: string) {
  return db
    .selectFrom('provider_jobs')
    .selectAll()
    .where('provider', '=', provider)
    .where('provider_job_id', '=', providerJobId)
    .executeTakeFirst();
}

const TERMINAL: ProviderJobRowStatus[] = ['succeeded', 'failed', 'canceled'];

/** The job's latest known status; a terminal status is never overwritten (late or reordered updates). */
export async function recordProviderJobStatus(
  db: DbOrTx,
  provider: string,
  providerJobId: string,
  update: { status: ProviderJobRowStatus; progress?: number; etaSeconds?: number; error?: string },
): Promise<void> {
  await db
    .updateTable('provider_jobs')
    .set({
      status: update.status,
      progress: update.progress === undefined ? null : Math.round(update.progress),
      eta: update.etaSeconds === undefined ? null : new Date(Date.now() + update.etaSeconds * 1000),
      error: update.error ?? null,
    })
    .where('provider', '=', provider)
    .where('provider_job_id', '=', providerJobId)
    .where('status', 'not in', TERMINAL)
    .execute();
}

/**
 * Records one webhook delivery; false when this delivery id was already recorded (a redelivery).
 * In the route's transaction, so a delivery whose signal failed is not remembered and its retry works.
 */
export async function recordWebhookDelivery(
  db: DbOrTx,
  delivery: { provider: string; deliveryId: string; providerJobId: string | null; status: string | null },
): Promise<boolean> {
  const inserted = await db
    .insertInto('provider_webhook_deliveries')
    .values({
      provider: delivery.provider,
      delivery_id: delivery.deliveryId,
      provider_job_id: delivery.providerJobId,
      status: delivery.status,
    })
    .onConflict((oc) => oc.columns(['provider', 'delivery_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}
