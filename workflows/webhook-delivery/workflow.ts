import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { WebhookActivities } from '../../activities/webhooks';
import { databaseWrites } from '../common/activity-options';
import type { WebhookDeliveryOutcome } from '../../schemas/webhooks';
import type { WebhookDeliveryInput } from './contract';

const writes = proxyActivities<WebhookActivities>(databaseWrites());

/**
 * Delivers one event to one endpoint: each attempt is one activity attempt (signed POST, logged),
 * retried by Temporal with exponential backoff until a 2xx, a 410, a disabled endpoint or the
 * policy's last attempt, after which the delivery is marked failed.
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryOutcome> {
  const { policy } = input;
  const attempts = proxyActivities<WebhookActivities>({
    // The request's own timeout plus room for the log write: a worker dying mid-attempt is noticed by then.
    startToCloseTimeout: policy.timeoutMs + 5_000,
    retry: {
      initialInterval: policy.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: policy.maximumIntervalMs,
      maximumAttempts: policy.maximumAttempts,
    },
  });
  try {
    return await attempts.attemptWebhookDelivery({ deliveryId: input.deliveryId, policy });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    await writes.recordWebhookDeliveryFailed(input.deliveryId);
    return 'failed';
  }
}
