import { defineRun, OPS_RUN } from '../common/run-definition';
import type { webhookRelayWorkflow } from './workflow';

export const WEBHOOK_RELAY_WORKFLOW_TYPE = 'webhookRelayWorkflow';
export const WEBHOOK_RELAY_JOB_TYPE = 'webhook-relay';

/** The Temporal Schedule (per task-queue prefix, so parallel stacks never share one). */
export const webhookRelayScheduleId = (prefix = ''): string => `${prefix}webhook-relay`;
/** How often the outbox is swept for deliveries whose emitter died before starting them. */
export const WEBHOOK_RELAY_INTERVAL = '1 minute';
/** A delivery this young may still be started by its emitter: the sweep leaves it alone. */
export const WEBHOOK_RELAY_GRACE_SECONDS = 30;
export const WEBHOOK_RELAY_PAGE_SIZE = 200;
export const WEBHOOK_RELAY_PAGES_PER_RUN = 20;

export const webhookRelayRun = defineRun<typeof webhookRelayWorkflow>({
  workflowType: WEBHOOK_RELAY_WORKFLOW_TYPE,
  jobType: WEBHOOK_RELAY_JOB_TYPE,
  keysOf: () => ({}),
  ...OPS_RUN,
});
