import { z } from 'zod';
import { PlanSlugSchema, SubscriptionStatusSchema } from './billing';
import { ClipAspectRatioSchema } from './clips';
import { nonBlankText } from './common';
import { ExportFormatSchema } from './video-import';

/**
 * Event types an endpoint may subscribe to. run.* are emitted for every run type where its
 * job_runs row closes; the domain events by the activity of the process that records the fact
 * (README "Outgoing webhooks"); each type's `data` is WEBHOOK_EVENT_DATA below. `webhook.test` is
 * sent only by POST /v1/webhook-endpoints/:id/test and needs no subscription.
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
    data: z.record(z.string(), z.unknown()).describe('the fact: its shape per event type is in the OpenAPI webhooks section'),
  })
  .meta({ id: 'WebhookEnvelope' });
export type WebhookEnvelope = z.infer<typeof WebhookEnvelopeSchema>;

// ---- the `data` of each event type ----------------------------------------------------------

const timestamp = z.string().describe('ISO 8601');

const RunEventDataSchema = z
  .object({
    runId: z.string().describe('the workflow id (GET /v1/runs/:id)'),
    runType: z.string(),
    status: z.enum(['completed', 'failed']),
    domainId: z.string().nullable().describe('the video, post, model… the run works on'),
    result: z.unknown().optional().describe('run.completed: the run result'),
    error: z.object({ type: z.string(), message: z.string() }).optional().describe('run.failed: the failure type and message'),
  })
  .meta({ id: 'RunEventData' });
/** The data of run.completed and run.failed. */
export type RunEventData = z.infer<typeof RunEventDataSchema>;

const PostPublishedDataSchema = z
  .object({
    postId: z.uuid(),
    status: z.enum(['published', 'partially_published']),
    platformPostId: z.string().nullable().describe("the (first target's) post on the platform"),
    platformUrl: z.string().nullable(),
    publishedAt: timestamp.nullable(),
    targetsPublished: z.number().int().optional().describe('a post to several accounts: targets published'),
    targetsFailed: z.number().int().optional().describe('a post to several accounts: targets that failed'),
  })
  .meta({ id: 'PostPublishedData' });

const PostFailedDataSchema = z.object({ postId: z.uuid(), error: z.string().nullable() }).meta({ id: 'PostFailedData' });

const PayoutPaidDataSchema = z
  .object({
    payoutId: z.uuid(),
    affiliateId: z.uuid(),
    period: z.string().describe('YYYY-MM'),
    amountCents: z.number().int(),
    currency: z.string(),
    transferId: z.string().describe('the Stripe transfer'),
    paidAt: timestamp.nullable(),
  })
  .meta({ id: 'PayoutPaidData' });

const ModelTrainedDataSchema = z
  .object({
    modelId: z.uuid(),
    modelName: z.string(),
    triggerWord: z.string(),
    versionId: z.string().describe('the trained Replicate version'),
    completedAt: timestamp.nullable(),
  })
  .meta({ id: 'ModelTrainedData' });

const ImageGeneratedDataSchema = z
  .object({
    imageId: z.uuid().describe('generation: GET /v1/images item id; photoshoot: the frame id'),
    source: z.enum(['generation', 'photoshoot']),
    generationId: z.uuid().nullable().describe('source generation: the image generation'),
    photoshootId: z.uuid().nullable().describe('source photoshoot: the photoshoot session'),
    gridPosition: z.number().int().nullable().describe('source photoshoot: the grid (style) the frame was cut from'),
    position: z.number().int().describe('the image within its generation, or the frame within its grid (0–8)'),
    imageUrl: z.string(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
  })
  .meta({ id: 'ImageGeneratedData' });

const ProductVideoCompletedDataSchema = z
  .object({
    videoId: z.uuid(),
    productId: z.uuid(),
    videoUrl: z.string(),
    fileSizeBytes: z.number().int().nullable(),
    durationSeconds: z.number().int(),
    aspectRatio: z.string(),
    creditsCharged: z.number().int(),
    completedAt: timestamp.nullable(),
  })
  .meta({ id: 'ProductVideoCompletedData' });

const VideoProcessedDataSchema = z
  .object({
    videoId: z.uuid(),
    sourceType: z.string().describe('upload, url or drive'),
    title: z.string().nullable(),
    durationSeconds: z.number().nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    hasAudio: z.boolean().nullable(),
    mediaUrl: z.string().nullable(),
    transcriptSource: z.string().nullable(),
    processedAt: timestamp.nullable(),
  })
  .meta({ id: 'VideoProcessedData' });

const ClipGeneratedDataSchema = z
  .object({
    clipId: z.uuid(),
    videoId: z.uuid(),
    runId: z.string().describe('the clips run'),
    clipIndex: z.number().int(),
    title: z.string().nullable(),
    startSeconds: z.number(),
    endSeconds: z.number(),
    fileUrls: z
      .object(Object.fromEntries(ClipAspectRatioSchema.options.map((ratio) => [ratio, z.string().optional()])))
      .describe('one mp4 per aspect ratio rendered'),
    thumbnailUrl: z.string(),
    captions: z.object({ srtUrl: z.string(), vttUrl: z.string() }),
  })
  .meta({ id: 'ClipGeneratedData' });

const ThumbnailCompletedDataSchema = z
  .object({
    jobId: z.uuid(),
    videoId: z.uuid(),
    status: z.enum(['completed', 'completed_with_errors']),
    thumbnails: z.array(
      z.object({
        thumbnailId: z.uuid(),
        style: z.string(),
        version: z.number().int(),
        url: z.string(),
        width: z.number().int().nullable(),
        height: z.number().int().nullable(),
        format: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'ThumbnailCompletedData' });

const ExportCompletedDataSchema = z
  .object({
    videoId: z.uuid(),
    runId: z.string().describe('the import or export run'),
    status: z.enum(['completed', 'partial']),
    uploaded: z.number().int(),
    failed: z.number().int(),
    files: z.array(z.object({ contentId: z.uuid(), contentType: z.string(), format: ExportFormatSchema, fileUrl: z.string().nullable() })),
  })
  .meta({ id: 'ExportCompletedData' });

const VideoImportedDataSchema = z
  .object({
    videoId: z.uuid(),
    youtubeVideoId: z.string().nullable(),
    title: z.string().nullable(),
    channelTitle: z.string().nullable(),
    durationSeconds: z.number().int().nullable(),
    contents: z
      .array(z.object({ contentId: z.uuid(), contentType: z.string(), version: z.number().int() }))
      .describe('the latest version of each content type'),
    completedAt: timestamp.nullable(),
  })
  .meta({ id: 'VideoImportedData' });

const ContentGeneratedDataSchema = z
  .object({
    contentId: z.uuid(),
    videoId: z.uuid(),
    contentType: z.string(),
    version: z.number().int(),
    parentContentId: z.uuid().nullable().describe('a regenerated version: the version it replaces'),
    model: z.string().nullable(),
    tokensUsed: z.number().int(),
  })
  .meta({ id: 'ContentGeneratedData' });

const SubscriptionUpdatedDataSchema = z
  .object({
    subscriptionId: z.string().describe('the Stripe subscription'),
    status: SubscriptionStatusSchema,
    previousStatus: SubscriptionStatusSchema.nullable().describe('null for a subscription seen the first time'),
    plan: PlanSlugSchema,
    previousPlan: PlanSlugSchema.nullable(),
    cancelAtPeriodEnd: z.boolean(),
    currentPeriodEnd: timestamp.nullable(),
    trialEnd: timestamp.nullable(),
  })
  .meta({ id: 'SubscriptionUpdatedData' });

const CreditsLowDataSchema = z
  .object({
    balance: z.number().int().describe('the balance after the debit'),
    previousBalance: z.number().int(),
    threshold: z.number().int().describe('max(10, 10 % of the monthly credits of the plan): the balance fell below it'),
    cause: z.enum(['reservation', 'expiry']).describe('credits taken for paid work, or credits that expired'),
    reason: z.string().nullable(),
  })
  .meta({ id: 'CreditsLowData' });

/** Each event type's `data`: emitters are typed by it (WebhookFact) and the OpenAPI webhooks section documents it. */
export const WEBHOOK_EVENT_DATA = {
  'run.completed': RunEventDataSchema,
  'run.failed': RunEventDataSchema,
  'video.imported': VideoImportedDataSchema,
  'video.processed': VideoProcessedDataSchema,
  'content.generated': ContentGeneratedDataSchema,
  'export.completed': ExportCompletedDataSchema,
  'clip.generated': ClipGeneratedDataSchema,
  'thumbnail.completed': ThumbnailCompletedDataSchema,
  'post.published': PostPublishedDataSchema,
  'post.failed': PostFailedDataSchema,
  'model.trained': ModelTrainedDataSchema,
  'image.generated': ImageGeneratedDataSchema,
  'product_video.completed': ProductVideoCompletedDataSchema,
  'subscription.updated': SubscriptionUpdatedDataSchema,
  'credits.low': CreditsLowDataSchema,
  'payout.paid': PayoutPaidDataSchema,
} as const satisfies Record<WebhookEventType, z.ZodType>;
export type WebhookEventData<T extends WebhookEventType> = z.infer<(typeof WEBHOOK_EVENT_DATA)[T]>;

/** The data of webhook.test. */
export const WebhookTestDataSchema = z.object({ endpointId: z.uuid(), message: z.string() }).meta({ id: 'WebhookTestData' });

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
