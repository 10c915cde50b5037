import type { WebhookDeliveryPolicy } from '../../schemas/webhooks';
import { defineRun, OPS_RUN } from '../common/run-definition';
import type { webhookDeliveryWorkflow } from './workflow';

export const WEBHOOK_DELIVERY_WORKFLOW_TYPE = 'webhookDeliveryWorkflow';
export const WEBHOOK_DELIVERY_JOB_TYPE = 'webhook-delivery';

/**
 * One run per event and endpoint (`webhook-delivery:<eventId>:<endpointId>`), so one slow or dead
 * receiver only ever holds its own runs; a redelivery is a run of its own (`…:redelivery-<n>`).
 */
export const webhookDeliveryWorkflowId = (eventId: string, webhookId: string, redelivery = 0): string =>
  `webhook-delivery:${eventId}:${webhookId}${redelivery > 0 ? `:redelivery-${redelivery}` : ''}`;

export interface WebhookDeliveryInput {
  deliveryId: string;
  policy: WebhookDeliveryPolicy;
}

/**
 * No job_runs row (a delivery run must not emit run.* events itself). A closed run's id is never
 * reused, so a relay sweep racing the emitter cannot deliver the same delivery twice.
 */
export const webhookDeliveryRun = defineRun<typeof webhookDeliveryWorkflow>({
  workflowType: WEBHOOK_DELIVERY_WORKFLOW_TYPE,
  jobType: WEBHOOK_DELIVERY_JOB_TYPE,
  keysOf: (input) => ({ domainId: input.deliveryId }),
  ...OPS_RUN,
  idReusePolicy: 'REJECT_DUPLICATE',
});
