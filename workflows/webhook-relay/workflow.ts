import { proxyActivities } from '@temporalio/workflow';
import type { WebhookActivities } from '../../activities/webhooks';
import { databaseWrites } from '../common/activity-options';
import { WEBHOOK_RELAY_GRACE_SECONDS, WEBHOOK_RELAY_PAGE_SIZE, WEBHOOK_RELAY_PAGES_PER_RUN } from './contract';

const relay = proxyActivities<WebhookActivities>({ ...databaseWrites(), startToCloseTimeout: '2 minutes' });

/**
 * The outbox relay's safety net: emitters start their deliveries right after committing, and
 * this sweep starts any they left behind (a worker killed between the commit and the start).
 * Returns how many it started.
 */
export async function webhookRelayWorkflow(): Promise<number> {
  let started = 0;
  for (let page = 0; page < WEBHOOK_RELAY_PAGES_PER_RUN; page++) {
    const result = await relay.relayUndispatchedWebhookDeliveries({
      graceSeconds: WEBHOOK_RELAY_GRACE_SECONDS,
      limit: WEBHOOK_RELAY_PAGE_SIZE,
    });
    started += result.started;
    if (result.started < WEBHOOK_RELAY_PAGE_SIZE) break;
  }
  return started;
}
