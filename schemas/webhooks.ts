import { z } from 'zod';
import { nonBlankText } from './common';

/**
 * Event types an endpoint may subscribe to. run.* are emitted for every run type where its
 * job_runs row closes; the domain events are emitted by the processes that own the fact (see
 * README "Outgoing webhooks" for which ones are wired). `webhook.test` is sent only by
 * POST /v1/webhook-endpoints/:id/test and needs no subscription.
 */
export const WEBHOOK_EVENT_TYPES = [
  'run.completed',
  'run.failed',
  'video.imported',
  'video.processed',
  'content.generated',
  'export.completed',
  'clip.generated',
  'thumbnail.completed',
  'post.published',
  'post.failed',
  'model.trained',
  'image.generated',
  'product_video.completed',
  'subscription.updated',
  'credits.low',
  'payout.paid',
] as const;
export const WebhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof WebhookEventTypeSchema>;
export const WEBHOOK_TEST_EVENT = 'webhook.test';

export const isWebhookEventType = (type: string): type is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);

/** The versioned body of every delivery; receivers deduplicate on `id` (also sent as webhook-id). */
export const WebhookEnvelopeSchema = z
  .object({
    id: z.uuid().describe('the event id, derived from the fact: equal to the webhook-id header'),
    type: z.string().describe(`one of ${WEBHOOK_EVENT_TYPES.join(', ')}, or ${WEBHOOK_TEST_EVENT}`),
    createdAt: z.string().describe('when the fact was recorded (ISO 8601)'),
    data: z.record(z.string(), z.unknown()).describe('the fact; for run.* : runId, runType, status, domainId, result or error'),
  })
  .meta({ id: 'WebhookEnvelope' });
export type WebhookEnvelope = z.infer<typeof WebhookEnvelopeSchema>;

/** The data of run.completed and run.failed. */
export interface RunEventData {
  runId: string;
  runType: string;
  status: 'completed' | 'failed';
  domainId: string | null;
  result?: unknown;
  error?: { type: string; message: string };
}

export const CreateWebhookEndpointBodySchema = z
  .object({
    url: z.string().max(2048),
    /** Checked against WEBHOOK_EVENT_TYPES by the route, which answers 422 listing the valid ones. */
    events: z.array(z.string().max(100)).min(1).max(WEBHOOK_EVENT_TYPES.length),
    description: nonBlankText(500).optional(),
  })
  .strict()
  .meta({ id: 'CreateWebhookEndpointBody' });

export const UpdateWebhookEndpointBodySchema = z
  .object({
    events: z.array(z.string().max(100)).min(1).max(WEBHOOK_EVENT_TYPES.length).optional(),
    enabled: z.boolean().optional(),
    description: nonBlankText(500).nullable().optional(),
  })
  .strict()
  .meta({ id: 'UpdateWebhookEndpointBody' });

export const WebhookEndpointSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabledReason: z.string().nullable(),
    consecutiveFailures: z.number().int(),
    lastResponseCode: z.number().int().nullable(),
    lastTriggeredAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });
export type WebhookEndpointView = z.infer<typeof WebhookEndpointSchema>;

export const WebhookEndpointWithSecretSchema = WebhookEndpointSchema.extend({
  secret: z.string().describe('whsec_… signing secret: shown only in this answer'),
}).meta({ id: 'WebhookEndpointWithSecret' });

export const WebhookEndpointListSchema = z.object({ data: z.array(WebhookEndpointSchema) }).meta({ id: 'WebhookEndpointList' });

export const WebhookDeliverySchema = z
  .object({
    id: z.uuid(),
    eventId: z.uuid(),
    eventType: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int().describe('attempts logged so far (webhook_logs rows)'),
    lastResponseCode: z.number().int().nullable(),
    lastLatencyMs: z.number().int().nullable(),
    lastResponseBody: z.string().nullable().describe('first bytes of the last answer'),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDeliveryView = z.infer<typeof WebhookDeliverySchema>;
export const WebhookDeliveryListSchema = z.object({ data: z.array(WebhookDeliverySchema) }).meta({ id: 'WebhookDeliveryList' });

/**
 * How a delivery run retries, fixed when it starts (config: WEBHOOK_*): a per-attempt timeout and
 * exponential backoff whose attempts span about three days with the defaults.
 */
export interface WebhookDeliveryPolicy {
  timeoutMs: number;
  initialIntervalMs: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
  /** Consecutive failed attempts (across deliveries) after which the endpoint is disabled. */
  disableAfterFailures: number;
}

/** How a delivery run ended (`skipped`: the delivery was no longer pending). */
export type WebhookDeliveryOutcome = 'delivered' | 'failed' | 'endpoint_disabled' | 'endpoint_gone' | 'skipped';

/** What an emitting activity hands the relay after its transaction committed (ActivityDeps.webhookDispatch). */
export interface WebhookDispatch {
  /** Starts the delivery runs of these delivery rows (idempotent: an already started one is left as it is). */
  dispatch(deliveries: Array<{ deliveryId: string; eventId: string; webhookId: string; redelivery: number }>): Promise<void>;
}
