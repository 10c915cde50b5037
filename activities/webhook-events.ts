import type { DbOrTx } from '../db/database';
import { recordWebhookEvent, type UndispatchedDelivery } from '../db/repositories/webhooks';
import { webhookEventId } from '../lib/webhook-signing';
import type { RunEventData, WebhookEventData, WebhookEventType } from '../schemas/webhooks';
import type { ActivityDeps } from './deps';

/** One fact to tell customers about, its data typed (and documented) per event type in schemas/webhooks.ts. */
export type WebhookFact = {
  [T in WebhookEventType]: {
    type: T;
    userId: string;
    /** What makes the fact unique within its type (e.g. `<workflowId>:<startedAt>`): the event id derives from it. */
    factKey: string;
    data: WebhookEventData<T>;
  };
}[WebhookEventType];

/** Timestamps in event data are ISO 8601 strings. */
export const isoOrNull = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

/**
 * The one line an activity adds to tell customers about a fact: call it in the transaction that
 * records the fact (the outbox row commits or rolls back with it), then hand the result to
 * dispatchWebhooks once committed.
 */
export function emitWebhookEvent(tx: DbOrTx, fact: WebhookFact): Promise<UndispatchedDelivery[]> {
  return recordWebhookEvent(tx, { id: webhookEventId(fact.type, fact.factKey), userId: fact.userId, type: fact.type, data: fact.data });
}

/**
 * Starts the delivery runs of freshly committed events. Best effort: what fails here (Temporal
 * unreachable, the worker dying) is started by the relay sweep, so the fact's activity never fails for it.
 */
export async function dispatchWebhooks(
  deps: Partial<Pick<ActivityDeps, 'webhookDispatch' | 'logger'>>,
  deliveries: UndispatchedDelivery[],
): Promise<void> {
  if (deliveries.length === 0 || !deps.webhookDispatch) return;
  try {
    await deps.webhookDispatch.dispatch(deliveries);
  } catch (err) {
    deps.logger?.warn({ err, deliveries: deliveries.length }, 'webhook deliveries left to the relay sweep');
  }
}

export interface ClosedRun {
  id: string;
  type: string;
  userId: string | null;
  domainId: string | null;
  startedAt: Date;
}

/** run.completed / run.failed of a closed run (none for canceled runs or runs without an owner). */
export function runClosedFact(
  run: ClosedRun,
  closure: { status: string; result?: unknown; error?: { type: string; message: string } },
): WebhookFact | undefined {
  if (!run.userId || (closure.status !== 'completed' && closure.status !== 'failed')) return undefined;
  const data: RunEventData = {
    runId: run.id,
    runType: run.type,
    status: closure.status,
    domainId: run.domainId,
    ...(closure.status === 'completed' ? { result: closure.result ?? null } : { error: closure.error }),
  };
  return {
    type: closure.status === 'completed' ? 'run.completed' : 'run.failed',
    userId: run.userId,
    // A reopened row (same workflow id run again) has a new started_at: a new fact.
    factKey: `${run.id}:${run.startedAt.toISOString()}`,
    data,
  };
}
