import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import express, { Router } from 'express';
import type Stripe from 'stripe';
import { z } from 'zod';
import { constructStripeEvent, STRIPE_WEBHOOK_TOLERANCE_SECONDS } from '../../providers/stripe';
import { findUserSubscription, insertStripeEvent, userIdFromSubscriptionEvents } from '../../db/repositories/billing';
import { loadStripeWebhookSecret } from '../../lib/secrets';
import { StripeEventEnvelopeSchema, StripeIdSchema, StripeWebhookAckSchema, type StripeWebhookAck } from '../../schemas/billing';
import {
  billingEventRun,
  billingEventWorkflowId,
  DEFAULT_BILLING_POLICY,
  stripeEventSignal,
  subscriptionRun,
  subscriptionWorkflowId,
  type StripeEventRef,
} from '../../workflows/subscription/contract';
import { commissionDisputeRun, commissionDisputeWorkflowId } from '../../workflows/payouts/contract';
import type { ApiDeps } from '../deps';
import { HttpProblem } from '../problem';
import { signalWithStartRun, startRun } from '../run-starter';
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
  typeof value === 'string' && value !== ''
    ? value
    : typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string'
      ? (value as { id: string }).id
      : null;

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
/** 400, not 5xx: Stripe retries a 5xx for days, and a malformed event never gets better. */
const malformedEvent = (detail: string) => new HttpProblem(400, 'malformed-event', 'Malformed Stripe Event', detail);

/**
 * POST /v1/webhooks/stripe: verifies Stripe's signature over the raw body, stores the event
 * once (unique event id) and hands it to its workflow in the same transaction, so an event is
 * either stored and signalled or neither (Stripe then redelivers it). A duplicate delivery
 * waits on the first one's row lock and then answers 200 without doing anything.
 * A signed but malformed event is refused with 400: no row, no signal.
 */
function router(deps: ApiDeps): Router {
  // Resolved at start: a missing secret fails the start, not every delivery.
  const secret = loadStripeWebhookSecret(deps.config);
  const r = Router();
  r.post(STRIPE_WEBHOOK_PATH, express.raw({ type: 'application/json', limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    const signature = req.header('stripe-signature');
    if (!signature) throw invalidSignature('the Stripe-Signature header is missing');
    const rawBody: unknown = req.body;
    if (!Buffer.isBuffer(rawBody)) throw invalidSignature('the body must be the raw JSON Stripe sent');
    let signed: unknown;
    try {
      signed = constructStripeEvent(rawBody, signature, secret);
    } catch {
      throw invalidSignature('the signature does not match the body, or its timestamp is outside the 300 s tolerance');
    }
    const envelope = StripeEventEnvelopeSchema.safeParse(signed);
    if (!envelope.success) {
      const issue = envelope.error.issues[0];
      throw malformedEvent(`${issue?.path.join('.') || 'event'}: ${issue?.message ?? 'invalid'}`);
    }
    // An event cannot be created after Stripe signed it; the same tolerance as the signature's.
    if (envelope.data.created > Date.now() / 1000 + STRIPE_WEBHOOK_TOLERANCE_SECONDS)
      throw malformedEvent('created: the event is dated in the future');
    const event = signed as Stripe.Event;

    const route = routeStripeEvent(event);
    if (route.kind === 'subscription' && !StripeIdSchema.safeParse(route.subscriptionId).success)
      throw malformedEvent('the subscription id is not a Stripe id');
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
        // The owner, once a synced row or a checkout event names one: the run is then listed as theirs.
        const owner =
          (await findUserSubscription(tx, route.subscriptionId))?.user_id ?? (await userIdFromSubscriptionEvents(tx, route.subscriptionId));
        await signalWithStartRun(deps, subscriptionRun, {
          db: tx,
          workflowId: subscriptionWorkflowId(route.subscriptionId),
          args: [
            {
              stripeSubscriptionId: route.subscriptionId,
              policy: { ...DEFAULT_BILLING_POLICY, gracePeriodDays: deps.config.BILLING_GRACE_PERIOD_DAYS },
            },
          ],
          userId: owner ?? null,
          signal: stripeEventSignal,
          signalArgs: [ref],
        });
      } else if (route.kind === 'payment') {
        await startRun(deps, billingEventRun, { db: tx, workflowId: billingEventWorkflowId(event.id), args: [{ event: ref }] });
      } else if (route.kind === 'dispute') {
        await startRun(deps, commissionDisputeRun, {
          db: tx,
          workflowId: commissionDisputeWorkflowId(event.id),
          args: [{ eventId: event.id }],
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
      'Verifies the Stripe-Signature header over the raw body (300 s tolerance), stores the event once by id and signals the `subscription:<id>` workflow (or starts a `billing-event:<eventId>` workflow for one-time payments and refunds, or `commission-dispute:<eventId>` for a lost dispute). A signed but malformed event (missing or mistyped fields, oversized ids, dated in the future) answers 400 and is neither stored nor signalled.',
    request: {
      headers: z.object({ 'stripe-signature': z.string().describe('t=<unix>,v1=<hmac-sha256>') }),
      body: { required: true, content: { 'application/json': { schema: StripeEventEnvelopeSchema } } },
    },
    responses: { '200': json(StripeWebhookAckSchema, 'Accepted (or a duplicate, accepted before)'), ...problems(400, 413, 415) },
  });
}

export const stripeWebhookRoutes: RouteModule = { router, document };
