import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { uuidFromName } from './stable-uuid';

/**
 * The id of the webhook event recording one fact, e.g. webhookEventId('run.completed',
 * `${workflowId}:${startedAt}`): the same fact always yields the same id, so a retried emit
 * inserts nothing new and receivers see one webhook-id per fact.
 */
export const webhookEventId = (type: string, factKey: string): string => uuidFromName(`${type}:${factKey}`);

/** A new Standard Webhooks signing secret: `whsec_` + base64 of 24 random bytes. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

/**
 * Standard Webhooks request headers for `payload`. Every secret signs (the current one first),
 * so during a rotation a receiver holding either secret verifies: `v1,<sig> v1,<sig>`.
 */
export function webhookHeaders(secrets: readonly string[], messageId: string, sentAt: Date, payload: string): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(messageId, sentAt, payload)).join(' '),
  };
}
