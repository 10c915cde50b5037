import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../db/database';
import { markDeliveriesDispatched } from '../db/repositories/webhooks';
import type { Config } from '../lib/config';
import type { TaskQueues } from '../lib/task-queues';
import type { WebhookDeliveryPolicy, WebhookDispatch } from '../schemas/webhooks';
import { webhookDeliveryRun, webhookDeliveryWorkflowId } from '../workflows/webhook-delivery/contract';
import { startDefinedWorkflow } from './workflow-starts';

export const webhookDeliveryPolicy = (config: Config): WebhookDeliveryPolicy => ({
  timeoutMs: config.WEBHOOK_TIMEOUT_MS,
  initialIntervalMs: config.WEBHOOK_RETRY_INITIAL_INTERVAL_MS,
  maximumIntervalMs: config.WEBHOOK_RETRY_MAX_INTERVAL_MS,
  maximumAttempts: config.WEBHOOK_RETRY_MAX_ATTEMPTS,
  disableAfterFailures: config.WEBHOOK_DISABLE_AFTER_FAILURES,
});

/**
 * Starts one delivery run per delivery row and marks the row dispatched. Used by emitting
 * activities (after their commit), the relay sweep, and the API's test and redeliver routes. A
 * run that already exists (running or closed) counts as started: its id is never reused.
 */
export function createWebhookDispatch(client: Client, queues: TaskQueues, db: Db, policy: WebhookDeliveryPolicy): WebhookDispatch {
  return {
    async dispatch(deliveries) {
      for (const delivery of deliveries) {
        try {
          await startDefinedWorkflow(client, queues, webhookDeliveryRun, {
            workflowId: webhookDeliveryWorkflowId(delivery.eventId, delivery.webhookId, delivery.redelivery),
            args: [{ deliveryId: delivery.deliveryId, policy }],
          });
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
        await markDeliveriesDispatched(db, [delivery.deliveryId]);
      }
    },
  };
}
