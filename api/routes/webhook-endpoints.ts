import { randomUUID } from 'node:crypto';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  findWebhookEndpoint,
  listEndpointDeliveries,
  listWebhookEndpoints,
  recordTestDelivery,
  requestRedelivery,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from '../../db/repositories/webhooks';
import type { Webhook } from '../../db/types';
import { secretAad } from '../../lib/secrets';
import { assertSafeUrl, UnsafeUrlError, urlGuardOptions } from '../../lib/ssrf';
import { newWebhookSecret } from '../../lib/webhook-signing';
import { PageLimitSchema, UuidParamSchema } from '../../schemas/common';
import {
  CreateWebhookEndpointBodySchema,
  isWebhookEventType,
  UpdateWebhookEndpointBodySchema,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_TEST_EVENT,
  WebhookDeliveryListSchema,
  WebhookEndpointListSchema,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
  WebhookEnvelopeSchema,
  WEBHOOK_EVENT_DATA,
  WebhookTestDataSchema,
  type WebhookDeliveryView,
  type WebhookEndpointView,
} from '../../schemas/webhooks';
import { caller, requireScope } from '../auth';
import { isoOrNull, isoTimestamp } from '../dates';
import { secretsOf, type ApiDeps } from '../deps';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { createWebhookDispatch, webhookDeliveryPolicy } from '../webhook-dispatch';

/** How long a rotated-out secret keeps signing, so receivers can switch without dropping events. */
const PREVIOUS_SECRET_VALIDITY_MS = 24 * 3_600_000;

const unprocessable = (field: string, message: string, extra: Record<string, unknown> = {}) =>
  new HttpProblem(422, 'validation', 'Validation failed', `${field}: ${message}`, { errors: [{ field, message }], ...extra });

/** 422 naming the unknown types and listing the valid ones. */
function checkEventTypes(events: string[]): string[] {
  const unknown = events.filter((type) => !isWebhookEventType(type));
  if (unknown.length > 0)
    throw unprocessable('events', `unknown event types ${unknown.join(', ')}; valid: ${WEBHOOK_EVENT_TYPES.join(', ')}`, {
      validEvents: WEBHOOK_EVENT_TYPES,
    });
  return [...new Set(events)];
}

function endpointView(endpoint: Webhook): WebhookEndpointView {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    enabled: endpoint.is_active,
    disabledReason: endpoint.disabled_reason,
    consecutiveFailures: endpoint.failure_count,
    lastResponseCode: endpoint.last_response_code,
    lastTriggeredAt: isoOrNull(endpoint.last_triggered_at),
    createdAt: isoTimestamp(endpoint.created_at),
  };
}

const RotatedSecretSchema = WebhookEndpointWithSecretSchema.extend({
  previousSecretExpiresAt: z.string().describe('until then the previous secret signs too (a second v1 signature)'),
}).meta({ id: 'WebhookEndpointRotated' });
const DeliveryStartedSchema = z.object({ deliveryId: z.uuid(), eventId: z.uuid() }).meta({ id: 'WebhookDeliveryStarted' });
const DeliveriesQuerySchema = z.object({ limit: PageLimitSchema });

function router(deps: ApiDeps): Router {
  const r = Router();
  const dispatch = createWebhookDispatch(deps.temporal, deps.taskQueues, deps.db, webhookDeliveryPolicy(deps.config));
  const sealedSecret = (id: string, secret: string) => secretsOf(deps).encrypt(secret, secretAad('webhooks', 'encrypted_secret', id));

  async function ownedEndpoint(userId: string, id: string): Promise<Webhook> {
    const endpoint = await findWebhookEndpoint(deps.db, userId, id);
    if (!endpoint) throw notFound('webhook endpoint');
    return endpoint;
  }

  r.post('/v1/webhook-endpoints', requireScope('runs:write'), async (req, res) => {
    const body = CreateWebhookEndpointBodySchema.parse(req.body ?? {});
    const events = checkEventTypes(body.events);
    let url: URL;
    try {
      url = await assertSafeUrl(body.url, urlGuardOptions(deps.config));
    } catch (err) {
      if (err instanceof UnsafeUrlError) throw unprocessable('url', err.message);
      throw err;
    }
    const id = randomUUID();
    const secret = newWebhookSecret();
    const endpoint = await createWebhookEndpoint(deps.db, {
      id,
      userId: caller(res).userId,
      url: url.href,
      events,
      description: body.description ?? null,
      encryptedSecret: sealedSecret(id, secret),
    });
    res.status(201).json({ ...endpointView(endpoint), secret });
  });

  r.get('/v1/webhook-endpoints', requireScope('runs:read'), async (_req, res) => {
    res.json({ data: (await listWebhookEndpoints(deps.db, caller(res).userId)).map(endpointView) });
  });

  r.get('/v1/webhook-endpoints/:id', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    res.json(endpointView(await ownedEndpoint(caller(res).userId, id)));
  });

  r.patch('/v1/webhook-endpoints/:id', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = UpdateWebhookEndpointBodySchema.parse(req.body ?? {});
    const updated = await updateWebhookEndpoint(deps.db, caller(res).userId, id, {
      events: body.events && checkEventTypes(body.events),
      enabled: body.enabled,
      description: body.description,
    });
    if (!updated) throw notFound('webhook endpoint');
    res.json(endpointView(updated));
  });

  r.delete('/v1/webhook-endpoints/:id', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    if (!(await deleteWebhookEndpoint(deps.db, caller(res).userId, id))) throw notFound('webhook endpoint');
    res.status(204).end();
  });

  r.post('/v1/webhook-endpoints/:id/rotate-secret', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const { userId } = caller(res);
    const endpoint = await ownedEndpoint(userId, id);
    const box = secretsOf(deps);
    const current = box.decrypt(endpoint.encrypted_secret, secretAad('webhooks', 'encrypted_secret', id));
    const secret = newWebhookSecret();
    const previousExpiresAt = new Date(Date.now() + PREVIOUS_SECRET_VALIDITY_MS);
    await rotateWebhookSecret(deps.db, userId, id, {
      encryptedSecret: sealedSecret(id, secret),
      previousEncryptedSecret: box.encrypt(current, secretAad('webhooks', 'previous_encrypted_secret', id)),
      previousExpiresAt,
    });
    res.json({ ...endpointView(endpoint), secret, previousSecretExpiresAt: previousExpiresAt.toISOString() });
  });

  r.post('/v1/webhook-endpoints/:id/test', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const { userId } = caller(res);
    const endpoint = await ownedEndpoint(userId, id);
    if (!endpoint.is_active) throw new HttpProblem(409, 'endpoint-disabled', 'Endpoint Disabled', 'enable the endpoint before testing it');
    // Each test request is its own fact.
    const eventId = randomUUID();
    const delivery = await recordTestDelivery(
      deps.db,
      { id: eventId, userId, type: WEBHOOK_TEST_EVENT, data: { endpointId: id, message: 'a test event' } },
      id,
    );
    await dispatch.dispatch([delivery]);
    res.status(202).json({ deliveryId: delivery.deliveryId, eventId });
  });

  r.get('/v1/webhook-endpoints/:id/deliveries', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const { limit } = DeliveriesQuerySchema.parse(req.query);
    await ownedEndpoint(caller(res).userId, id);
    const rows = await listEndpointDeliveries(deps.db, id, limit);
    const data: WebhookDeliveryView[] = rows.map((row) => ({
      id: row.id,
      eventId: row.event_id,
      eventType: row.event_type,
      status: row.status,
      attempts: row.attempts ?? 0,
      lastResponseCode: row.last_response_code,
      lastLatencyMs: row.response_time_ms ?? null,
      lastResponseBody: row.response_body ?? null,
      deliveredAt: isoOrNull(row.delivered_at),
      createdAt: isoTimestamp(row.created_at),
    }));
    res.json({ data });
  });

  r.post('/v1/webhook-deliveries/:id/redeliver', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const delivery = await requestRedelivery(deps.db, caller(res).userId, id);
    if (!delivery) throw notFound('webhook delivery');
    await dispatch.dispatch([delivery]);
    res.status(202).json({ deliveryId: delivery.deliveryId, eventId: delivery.eventId });
  });

  return r;
}

function document(registry: OpenAPIRegistry): void {
  const tags = ['Webhooks'];
  const params = { params: UuidParamSchema };
  registry.registerPath({
    method: 'post',
    path: '/v1/webhook-endpoints',
    tags,
    summary: 'Subscribe an https URL to events (the whsec_ signing secret is shown once)',
    description:
      'Deliveries are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), retried with ' +
      'exponential backoff for about three days, at least once: deduplicate on webhook-id; no ordering promise. ' +
      `A private or malformed url, or an unknown event type, is answered 422. Event types: ${WEBHOOK_EVENT_TYPES.join(', ')}.`,
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: CreateWebhookEndpointBodySchema } } } },
    responses: {
      '201': json(WebhookEndpointWithSecretSchema, 'The endpoint, with its secret'),
      ...problems(400, 401, 403, 413, 415, 422, 429),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/webhook-endpoints',
    tags,
    summary: "The caller's webhook endpoints (never their secrets)",
    security: bearer(),
    responses: { '200': json(WebhookEndpointListSchema, 'Endpoints, newest first'), ...problems(401, 403, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/webhook-endpoints/{id}',
    tags,
    summary: 'One webhook endpoint',
    security: bearer(),
    request: params,
    responses: { '200': json(WebhookEndpointSchema, 'The endpoint'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'patch',
    path: '/v1/webhook-endpoints/{id}',
    tags,
    summary: 'Change its events or description, disable or re-enable it (re-enabling clears the failure streak)',
    security: bearer(),
    request: { ...params, body: { required: true, content: { 'application/json': { schema: UpdateWebhookEndpointBodySchema } } } },
    responses: { '200': json(WebhookEndpointSchema, 'The endpoint'), ...problems(400, 401, 403, 404, 413, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/webhook-endpoints/{id}',
    tags,
    summary: 'Delete the endpoint, its deliveries and logs',
    security: bearer(),
    request: params,
    responses: { '204': { description: 'Deleted' }, ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/rotate-secret',
    tags,
    summary: 'A new signing secret (shown once); the previous one keeps signing for 24 hours',
    security: bearer(),
    request: params,
    responses: { '200': json(RotatedSecretSchema, 'The endpoint with its new secret'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/test',
    tags,
    summary: `Send a ${WEBHOOK_TEST_EVENT} event to this endpoint`,
    security: bearer(),
    request: params,
    responses: { '202': json(DeliveryStartedSchema, 'Delivery started'), ...problems(400, 401, 403, 404, 409, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/webhook-endpoints/{id}/deliveries',
    tags,
    summary: 'Recent deliveries with their attempts, last status code, latency and first bytes of the answer',
    security: bearer(),
    request: { ...params, query: DeliveriesQuerySchema },
    responses: { '200': json(WebhookDeliveryListSchema, 'Deliveries, newest first'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/webhook-deliveries/{id}/redeliver',
    tags,
    summary: 'Deliver the event again (same webhook-id), with a fresh retry schedule',
    security: bearer(),
    request: params,
    responses: { '202': json(DeliveryStartedSchema, 'Redelivery started'), ...problems(400, 401, 403, 404, 429) },
  });
  const events: Array<[string, z.ZodType]> = [
    ...WEBHOOK_EVENT_TYPES.map((type): [string, z.ZodType] => [type, WEBHOOK_EVENT_DATA[type]]),
    [WEBHOOK_TEST_EVENT, WebhookTestDataSchema],
  ];
  for (const [type, data] of events) {
    // RunCompletedEvent, ProductVideoCompletedEvent, …: the envelope with this type's data.
    const name = type.replace(/(^|[._])([a-z])/g, (_m, _sep: string, letter: string) => letter.toUpperCase());
    const envelope = WebhookEnvelopeSchema.extend({ type: z.literal(type), data }).meta({ id: `${name}Event` });
    registry.registerWebhook({
      method: 'post',
      path: type,
      tags,
      summary: `${type} event`,
      description: 'Signed per Standard Webhooks; at least once (deduplicate on webhook-id, equal to the envelope id).',
      request: { body: { required: true, content: { 'application/json': { schema: envelope } } } },
      responses: { '200': { description: 'Any 2xx acknowledges; 410 disables the endpoint; anything else is retried' } },
    });
  }
}

export const webhookEndpointRoutes: RouteModule = { router, document };
