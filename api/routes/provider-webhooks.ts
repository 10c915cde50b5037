import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import express, { Router } from 'express';
import { z } from 'zod';
import { findProviderJob, recordProviderJobStatus, recordWebhookDelivery } from '../../db/repositories/provider-jobs';
import { WebhookVerificationError } from '../../providers/jobs';
import { providerJobUpdateSignal } from '../../workflows/common/provider-job-signal';
import { providersOf, type ApiDeps } from '../deps';
import { HttpProblem } from '../problem';
import { json, problems, type RouteModule } from '../route-module';

export const PROVIDER_WEBHOOK_PATH = '/v1/webhooks/:provider';
/** Job status webhooks are small; outputs are URLs. */
const WEBHOOK_BODY_LIMIT = '1mb';

export const ProviderWebhookAckSchema = z
  .object({
    received: z.literal(true),
    /** delivered: the run was signalled; duplicate: this delivery id was handled before; ignored: no run waits for this job. */
    outcome: z.enum(['delivered', 'duplicate', 'ignored']),
  })
  .meta({ id: 'ProviderWebhookAck' });
type ProviderWebhookAck = z.infer<typeof ProviderWebhookAckSchema>;

/**
 * POST /v1/webhooks/:provider: a long provider job's status (Replicate, …). The provider's
 * verifier checks the signature over the raw body (400 and nothing done when it is bad or
 * stale); the delivery id is recorded once (a redelivery is a duplicate), the job is found in
 * provider_jobs and its run signalled, all in one transaction, so a failed signal leaves no
 * delivery row and the provider's retry gets another chance. A webhook never starts a run: an
 * unknown job or a closed run is acknowledged with 202 and ignored.
 */
function router(deps: ApiDeps): Router {
  const r = Router();
  r.post(PROVIDER_WEBHOOK_PATH, express.raw({ type: 'application/json', limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    const provider = String(req.params.provider);
    const verifier = providersOf(deps).webhookVerifier(provider);
    if (!verifier) throw new HttpProblem(404, 'not-found', 'Not Found', `provider: no webhooks are accepted from "${provider}"`);
    const rawBody: unknown = req.body;
    if (!Buffer.isBuffer(rawBody)) throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported Media Type', 'the body must be JSON');
    const verified = await verifier
      .verify(rawBody, (name) => req.header(name))
      .catch((err: unknown) => {
        if (err instanceof WebhookVerificationError)
          throw new HttpProblem(400, 'invalid-signature', 'Invalid Webhook Signature', err.message);
        throw err;
      });
    const { deliveryId, update } = verified;
    const log = deps.logger.child({ provider, deliveryId, jobId: update.jobId, status: update.status });

    const outcome = await deps.db.transaction().execute(async (tx): Promise<ProviderWebhookAck['outcome']> => {
      if (!(await recordWebhookDelivery(tx, { provider, deliveryId, providerJobId: update.jobId, status: update.status })))
        return 'duplicate';
      const job = await findProviderJob(tx, provider, update.jobId);
      if (!job) {
        log.warn('webhook for an unknown provider job ignored');
        return 'ignored';
      }
      await recordProviderJobStatus(tx, provider, update.jobId, update);
      try {
        await deps.temporal.workflow.getHandle(job.workflow_id).signal(providerJobUpdateSignal, update);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        log.info({ workflowId: job.workflow_id }, 'webhook for a closed run ignored');
        return 'ignored';
      }
      return 'delivered';
    });
    const body: ProviderWebhookAck = { received: true, outcome };
    res.status(outcome === 'ignored' ? 202 : 200).json(body);
  });
  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/webhooks/{provider}',
    tags: ['Webhooks'],
    summary: 'Status webhooks of long provider jobs (signed by the provider; no API key)',
    description:
      'Replicate signs with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, 5-minute tolerance). A bad or stale signature answers 400 and signals nothing; a repeated `webhook-id` is a duplicate with no effect; a job no run waits for answers 202.',
    request: {
      params: z.object({ provider: z.string().describe('replicate') }),
      headers: z.object({
        'webhook-id': z.string(),
        'webhook-timestamp': z.string().describe('unix seconds'),
        'webhook-signature': z.string().describe('v1,<base64>'),
      }),
      body: { required: true, content: { 'application/json': { schema: z.object({ id: z.string(), status: z.string() }).passthrough() } } },
    },
    responses: {
      '200': json(ProviderWebhookAckSchema, 'Delivered to the run (or a duplicate delivery)'),
      '202': json(ProviderWebhookAckSchema, 'No run waits for this job: ignored'),
      ...problems(400, 404, 413, 415, 429),
    },
  });
}

export const providerWebhookRoutes: RouteModule = { router, document };
