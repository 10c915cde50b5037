import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { findUser } from '../db/repositories/users';
import {
  failDelivery,
  findDeliveryForAttempt,
  findUndispatchedDeliveries,
  recordDeliveryAttempt,
  type AttemptOutcome,
} from '../db/repositories/webhooks';
import { secretAad } from '../lib/secrets';
import { safeFetch } from '../lib/ssrf';
import { webhookHeaders } from '../lib/webhook-signing';
import { FailureType } from '../schemas/failures';
import type { WebhookDeliveryOutcome, WebhookDeliveryPolicy, WebhookEnvelope } from '../schemas/webhooks';
import type { ActivityDeps } from './deps';

/** How much of a receiver's answer is kept in webhook_logs. */
const RESPONSE_BYTES_KEPT = 1024;

async function firstBytes(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_BYTES_KEPT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_BYTES_KEPT).toString('utf8');
}

export function createWebhookActivities(deps: ActivityDeps) {
  const { db, logger } = deps;

  /** The endpoint's current secret, and the rotated-out one while it still signs. */
  function signingSecrets(delivery: NonNullable<Awaited<ReturnType<typeof findDeliveryForAttempt>>>): string[] {
    if (!deps.secrets) throw ApplicationFailure.nonRetryable('webhook signing needs the secret box (ENCRYPTION_KEY)', 'ConfigError');
    const current = deps.secrets.decrypt(delivery.encryptedSecret, secretAad('webhooks', 'encrypted_secret', delivery.webhookId));
    const previous =
      delivery.previousEncryptedSecret && delivery.previousSecretExpiresAt && delivery.previousSecretExpiresAt > new Date()
        ? [deps.secrets.decrypt(delivery.previousEncryptedSecret, secretAad('webhooks', 'previous_encrypted_secret', delivery.webhookId))]
        : [];
    return [current, ...previous];
  }

  async function mailEndpointDisabled(userId: string, webhookId: string, url: string, failures: number): Promise<void> {
    const user = await findUser(db, userId);
    if (!user) return;
    await deps.providers.mailer.send({
      to: user.email,
      subject: 'A webhook endpoint was disabled',
      text: [
        `Your webhook endpoint ${url} failed ${failures} delivery attempts in a row and has been disabled.`,
        'Fix the receiver, then re-enable it with PATCH /v1/webhook-endpoints/' + webhookId + ' {"enabled": true}.',
      ].join('\n'),
      // One disabling, one email, even if this attempt is retried after the send.
      idempotencyKey: `webhook-endpoint-disabled:${webhookId}:${failures}`,
      tags: { kind: 'webhook_endpoint_disabled' },
    });
  }

  return {
    /**
     * One signed POST of the event to the endpoint, logged as one webhook_logs row. 2xx: delivered.
     * 410: the endpoint is disabled and the delivery ends. Anything else throws a retryable failure.
     * The webhook-id is the event id on every attempt, so receivers can drop repeats.
     */
    async attemptWebhookDelivery(input: { deliveryId: string; policy: WebhookDeliveryPolicy }): Promise<WebhookDeliveryOutcome> {
      const delivery = await findDeliveryForAttempt(db, input.deliveryId);
      if (!delivery || delivery.status !== 'pending') return 'skipped';
      if (!delivery.enabled) {
        await failDelivery(db, delivery.deliveryId);
        return 'endpoint_disabled';
      }
      const attempt = delivery.attemptOffset + Context.current().info.attempt;
      const envelope: WebhookEnvelope = {
        id: delivery.eventId,
        type: delivery.eventType,
        createdAt: delivery.eventCreatedAt.toISOString(),
        data: delivery.eventData as Record<string, unknown>,
      };
      const body = JSON.stringify(envelope);
      const headers = webhookHeaders(signingSecrets(delivery), delivery.eventId, new Date(), body);
      const started = performance.now();
      let responseCode: number | null = null;
      let responseBody: string | null = null;
      let error: string | null = null;
      try {
        const response = await safeFetch(
          delivery.url,
          {
            method: 'POST',
            body,
            headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'creator-jobs-webhooks/1' },
            timeoutMs: input.policy.timeoutMs,
            signal: AbortSignal.timeout(input.policy.timeoutMs),
            followRedirects: false,
          },
          deps.urlGuard,
        );
        responseCode = response.status;
        responseBody = await firstBytes(response);
      } catch (err) {
        error = (err as Error).message;
      }
      const latencyMs = Math.round(performance.now() - started);
      const success = responseCode !== null && responseCode >= 200 && responseCode < 300;
      const outcome: AttemptOutcome = await recordDeliveryAttempt(db, {
        deliveryId: delivery.deliveryId,
        webhookId: delivery.webhookId,
        eventId: delivery.eventId,
        eventType: delivery.eventType,
        attempt,
        requestBody: body,
        responseCode,
        responseBody,
        latencyMs,
        success,
        error: error ?? (success ? null : `the receiver answered ${responseCode}`),
        gone: responseCode === 410,
        disableAfterFailures: input.policy.disableAfterFailures,
      });
      const log = {
        deliveryId: delivery.deliveryId,
        webhookId: delivery.webhookId,
        eventType: delivery.eventType,
        attempt,
        responseCode,
        latencyMs,
      };
      if (outcome === 'delivered') {
        logger.info(log, 'webhook delivered');
        return 'delivered';
      }
      if (outcome !== 'failed') {
        await failDelivery(db, delivery.deliveryId);
        if (outcome === 'endpoint_disabled_now')
          await mailEndpointDisabled(delivery.userId, delivery.webhookId, delivery.url, input.policy.disableAfterFailures);
        logger.warn({ ...log, outcome }, 'webhook endpoint disabled');
        return outcome === 'endpoint_gone' ? 'endpoint_gone' : 'endpoint_disabled';
      }
      logger.info({ ...log, error }, 'webhook attempt failed');
      throw ApplicationFailure.retryable(error ?? `the receiver answered ${responseCode}`, FailureType.WebhookAttemptFailed);
    },

    /** After the last attempt: the delivery stays failed until redelivered. */
    async recordWebhookDeliveryFailed(deliveryId: string): Promise<void> {
      await failDelivery(db, deliveryId);
    },

    /** Starts deliveries older than the grace period that no emitter started (see webhookRelayWorkflow). */
    async relayUndispatchedWebhookDeliveries(input: { graceSeconds: number; limit: number }): Promise<{ started: number }> {
      if (!deps.webhookDispatch) throw ApplicationFailure.nonRetryable('the relay needs ActivityDeps.webhookDispatch', 'ConfigError');
      const due = await findUndispatchedDeliveries(db, new Date(Date.now() - input.graceSeconds * 1000), input.limit);
      await deps.webhookDispatch.dispatch(due);
      if (due.length > 0) logger.info({ started: due.length }, 'webhook relay started left-behind deliveries');
      return { started: due.length };
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
