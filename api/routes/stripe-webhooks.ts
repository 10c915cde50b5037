import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import express, { Router } from 'express';
import type Stripe from 'stripe';
import { z } from 'zod';
import { constructStripeEvent } from '../../providers/stripe';
import { insertStripeEvent } from '../../db/repositories/billing';
import { stripeWebhookSecret } from '../../lib/sandbox-credentials';
import { DomainIdAttr, JobTypeAttr } from '../../lib/search-attributes';
import { StripeWebhookAckSchema, type StripeWebhookAck } from '../../schemas/billing';
import {
  BILLING_EVENT_JOB_TYPE,
  BILLING_EVENT_WORKFLOW_TYPE,
  billingEventWorkflowId,
  DEFAULT_BILLING_POLICY,
  stripeEventSignal,
  SUBSCRIPTION_JOB_TYPE,
  SUBSCRIPTION_WORKFLOW_TYPE,
  subscriptionWorkflowId,
  type StripeEventRef,
} from '../../workflows/subscription/contract';
import { COMMISSION_DISPUTE_JOB_TYPE, COMMISSION_DISPUTE_WORKFLOW_TYPE, commissionDisputeWorkflowId } from '../../workflows/payouts/contract';
import type { ApiDeps } from '../deps';
import { HttpProblem } from '../problem';
import { json, problems, type RouteModule } from '../route-module';

export const STRIPE_WEBHOOK_PATH = '/v1/webhooks/stripe';
/** Stripe's events are well under this; anything larger is not Stripe. */
const WEBHOOK_BODY_LIMIT = '1mb';

const SUBSCRIPTION_EVENT_TYPES = new Set([
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.trial_will_end',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.payment_action_required',
]);

type EventRoute = { kind: 'subscription'; subscriptionId: string } | { kind: 'payment' } | { kind: 'dispute' } | { kind: 'ignored' };

const idOf = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string' ? (value as { id: string }).id : null;

/** Where an event goes: its subscription's workflow, the one-off payment path, the lost-dispute clawback, or nowhere. */
export function routeStripeEvent(event: Stripe.Event): EventRoute {
  const object = event.data.object as unknown as Record<string, unknown>;
  if (event.type === 'checkout.session.completed') {
    const subscriptionId = idOf(object.subscription);
    if (object.mode === 'subscription' && subscriptionId) return { kind: 'subscription', subscriptionId };
    return object.mode === 'payment' ? { kind: 'payment' } : { kind: 'ignored' };
  }
  if (event.type === 'charge.refunded') return { kind: 'payment' };
  // A won dispute changes nothing: only a lost one takes the affiliate commission back.
  if (event.type === 'charge.dispute.closed') return object.status === 'lost' ? { kind: 'dispute' } : { kind: 'ignored' };
  if (!SUBSCRIPTION_EVENT_TYPES.has(event.type)) return { kind: 'ignored' };
  if (event.type.startsWith('customer.subscription.')) {
    const id = idOf(object.id);
    return id ? { kind: 'subscription', subscriptionId: id } : { kind: 'ignored' };
  }
  // Invoices name their subscription under parent.subscription_details since API 2025-03-31.
  const parent = object.parent as { subscription_details?: { subscription?: unknown } } | null | undefined;
  const subscriptionId = idOf(parent?.subscription_details?.subscription) ?? idOf(object.subscription);
  return subscriptionId ? { kind: 'subscription', subscriptionId } : { kind: 'ignored' };
}

const invalidSignature = (detail: string) => new HttpProblem(400, 'invalid-signature', 'Invalid Stripe Signature', detail);

/**
 * POST /v1/webhooks/stripe: verifies Stripe's signature over the raw body, stores the event
 * once (unique event id) and hands it to its workflow in the same transaction, so an event is
 * either stored and signalled or neither (Stripe then redelivers it). A duplicate delivery
 * waits on the first one's row lock and then answers 200 without doing anything.
 */
function router(deps: ApiDeps): Router {
  const r = Router();
  r.post(STRIPE_WEBHOOK_PATH, express.raw({ type: 'application/json', limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    const secret = stripeWebhookSecret(deps.config);
    if (!secret) throw new HttpProblem(503, 'webhook-not-configured', 'Webhook Not Configured', 'STRIPE_WEBHOOK_SECRET is not set, so no delivery can be verified');
    const signature = req.header('stripe-signature');
    if (!signature) throw invalidSignature('the Stripe-Signature header is missing');
    const rawBody: unknown = req.body;
    if (!Buffer.isBuffer(rawBody)) throw invalidSignature('the body must be the raw JSON Stripe sent');
    let event: Stripe.Event;
    try {
      event = constructStripeEvent(rawBody, signature, secret);
    } catch {
      throw invalidSignature('the signature does not match the body, or its timestamp is outside the 300 s tolerance');
    }

    const route = routeStripeEvent(event);
    const object = event.data.object as unknown as Record<string, unknown>;
    const ref: StripeEventRef = { eventId: event.id, type: event.type, createdAt: new Date(event.created * 1000).toISOString() };
    const workflowId =
      route.kind === 'subscription'
        ? subscriptionWorkflowId(route.subscriptionId)
        : route.kind === 'payment'
          ? billingEventWorkflowId(event.id)
          : route.kind === 'dispute'
            ? commissionDisputeWorkflowId(event.id)
            : null;

    const accepted = await deps.db.transaction().execute(async (tx) => {
      const inserted = await insertStripeEvent(tx, {
        stripeEventId: event.id,
        eventType: event.type,
        stripeSubscriptionId: route.kind === 'subscription' ? route.subscriptionId : null,
        stripeCreatedAt: new Date(event.created * 1000),
        userId: typeof object.client_reference_id === 'string' ? object.client_reference_id : null,
        payload: rawBody.toString('utf8'),
        status: route.kind === 'ignored' ? 'ignored' : 'pending',
      });
      if (!inserted) return false;
      if (route.kind === 'subscription') {
        await deps.temporal.workflow.signalWithStart(SUBSCRIPTION_WORKFLOW_TYPE, {
          workflowId: subscriptionWorkflowId(route.subscriptionId),
          taskQueue: deps.taskQueues.main,
          args: [{ stripeSubscriptionId: route.subscriptionId, policy: { ...DEFAULT_BILLING_POLICY, gracePeriodDays: deps.config.BILLING_GRACE_PERIOD_DAYS } }],
          signal: stripeEventSignal,
          signalArgs: [ref],
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          typedSearchAttributes: new TypedSearchAttributes([
            { key: JobTypeAttr, value: SUBSCRIPTION_JOB_TYPE },
            { key: DomainIdAttr, value: route.subscriptionId },
          ]),
        });
      } else if (route.kind === 'payment') {
        await deps.temporal.workflow.start(BILLING_EVENT_WORKFLOW_TYPE, {
          workflowId: billingEventWorkflowId(event.id),
          taskQueue: deps.taskQueues.main,
          args: [{ event: ref }],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          typedSearchAttributes: new TypedSearchAttributes([
            { key: JobTypeAttr, value: BILLING_EVENT_JOB_TYPE },
            { key: DomainIdAttr, value: event.id },
          ]),
        });
      } else if (route.kind === 'dispute') {
        await deps.temporal.workflow.start(COMMISSION_DISPUTE_WORKFLOW_TYPE, {
          workflowId: commissionDisputeWorkflowId(event.id),
          taskQueue: deps.taskQueues.main,
          args: [{ eventId: event.id }],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          typedSearchAttributes: new TypedSearchAttributes([
            { key: JobTypeAttr, value: COMMISSION_DISPUTE_JOB_TYPE },
            { key: DomainIdAttr, value: event.id },
          ]),
        });
      }
      return true;
    });
    const body: StripeWebhookAck = { received: true, duplicate: !accepted, routedTo: accepted ? workflowId : null };
    res.status(200).json(body);
  });
  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: STRIPE_WEBHOOK_PATH,
    tags: ['Webhooks'],
    summary: 'Stripe webhook endpoint (signed by Stripe; no API key)',
    description:
      'Verifies the Stripe-Signature header over the raw body (300 s tolerance), stores the event once by id and signals the `subscription:<id>` workflow (or starts a `billing-event:<eventId>` workflow for one-time payments and refunds, or `commission-dispute:<eventId>` for a lost dispute).',
    request: {
      headers: z.object({ 'stripe-signature': z.string().describe('t=<unix>,v1=<hmac-sha256>') }),
      body: { required: true, content: { 'application/json': { schema: z.object({ id: z.string(), type: z.string(), created: z.number().int(), data: z.object({ object: z.record(z.string(), z.unknown()) }) }) } } },
    },
    responses: { '200': json(StripeWebhookAckSchema, 'Accepted (or a duplicate, accepted before)'), ...problems(400, 413, 415, 503) },
  });
}

export const stripeWebhookRoutes: RouteModule = { router, document };
