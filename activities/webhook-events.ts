import type { DbOrTx, Tx } from '../db/database';
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

/** Records one event in the transaction of the fact it tells about (see inTransactionWithEvents). */
export type EmitWebhookEvent = (fact: WebhookFact) => Promise<void>;

/**
 * The outbox write alone: the event and its deliveries, not started. Activities use
 * inTransactionWithEvents, which also starts them once committed.
 */
export function emitWebhookEvent(tx: DbOrTx, fact: WebhookFact): Promise<UndispatchedDelivery[]> {
  return recordWebhookEvent(tx, { id: webhookEventId(fact.type, fact.factKey), userId: fact.userId, type: fact.type, data: fact.data });
}

/**
 * How an activity tells customers about the facts it records: `body` runs in one transaction and
 * calls `emit` for each event (none, one or several), whose outbox rows commit or roll back with the
 * facts. Once committed, their delivery runs are started, best effort: what fails then (Temporal
 * unreachable, the worker dying) is started by the relay sweep, so the activity never fails for it.
 * Returns what `body` returns.
 */
export async function inTransactionWithEvents<T>(
  deps: Pick<ActivityDeps, 'db'> & Partial<Pick<ActivityDeps, 'webhookDispatch' | 'logger'>>,
  body: (tx: Tx, emit: EmitWebhookEvent) => Promise<T>,
): Promise<T> {
  const deliveries: UndispatchedDelivery[] = [];
  const result = await deps.db.transaction().execute((tx) =>
    body(tx, async (fact) => {
      deliveries.push(...(await emitWebhookEvent(tx, fact)));
    }),
  );
  if (deliveries.length > 0 && deps.webhookDispatch) {
    try {
      await deps.webhookDispatch.dispatch(deliveries);
    } catch (err) {
      deps.logger?.warn({ err, deliveries: deliveries.length }, 'webhook deliveries left to the relay sweep');
    }
  }
  return result;
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
