import Stripe from 'stripe';
import type { ProviderCall } from './call';

/** Stripe's own tolerance for webhook timestamps; older deliveries are treated as replays. */
export const STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * Idempotency keys derived from our ids, so a retried activity (or a worker killed after Stripe
 * answered) repeats the same request instead of making a second object. Stripe forgets keys
 * after ~24 h, so callers also guard with a unique row of their own.
 */
export const stripeIdempotencyKey = (kind: string, id: string) => `${kind}:${id}`;

/** A stripe-node client: Temporal retries activities, so the SDK itself never retries. */
export function createStripeClient(secretKey: string, baseUrl?: string): Stripe {
  if (!baseUrl) return new Stripe(secretKey, { maxNetworkRetries: 0, timeout: 30_000 });
  const url = new URL(baseUrl);
  return new Stripe(secretKey, {
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    maxNetworkRetries: 0,
    timeout: 30_000,
  });
}

/**
 * Verifies a webhook delivery (raw body bytes, `Stripe-Signature` header) and parses it.
 * Throws Stripe's signature error for a bad signature, a tampered body or a stale timestamp.
 */
export function constructStripeEvent(rawBody: Buffer | string, signature: string, secret: string): Stripe.Event {
  return Stripe.webhooks.constructEvent(rawBody, signature, secret, STRIPE_WEBHOOK_TOLERANCE_SECONDS);
}

const iso = (seconds: number | null | undefined) => (seconds == null ? null : new Date(seconds * 1000).toISOString());
const idOf = (value: string | { id: string } | null | undefined) => (value == null ? null : typeof value === 'string' ? value : value.id);

/** What the platform keeps of a subscription (Temporal payload friendly: ids, ISO times). */
export interface StripeSubscriptionSnapshot {
  id: string;
  customerId: string;
  status: Stripe.Subscription.Status;
  priceId: string;
  productId: string;
  lookupKey: string | null;
  unitAmount: number | null;
  currency: string;
  interval: string | null;
  currentPeriodStart: string;
  currentPeriodEnd: string;
  cancelAtPeriodEnd: boolean;
  cancelAt: string | null;
  canceledAt: string | null;
  endedAt: string | null;
  trialStart: string | null;
  trialEnd: string | null;
  latestInvoiceId: string | null;
  metadata: Record<string, string>;
}

export interface StripeInvoiceSnapshot {
  id: string;
  customerId: string | null;
  subscriptionId: string | null;
  status: Stripe.Invoice.Status | null;
  billingReason: string | null;
  amountDue: number;
  amountPaid: number;
  currency: string;
  attemptCount: number;
  periodStart: string;
  periodEnd: string;
  /** Period of the subscription line (what a paid invoice grants); the invoice period otherwise. */
  servicePeriodStart: string;
  servicePeriodEnd: string;
  paidAt: string | null;
  nextPaymentAttempt: string | null;
  hostedInvoiceUrl: string | null;
}

export interface StripeChargeSnapshot {
  id: string;
  customerId: string | null;
  paymentIntentId: string | null;
  amount: number;
  amountRefunded: number;
  refunded: boolean;
  currency: string;
  status: Stripe.Charge.Status;
}

export interface StripeTransferSnapshot {
  id: string;
  amount: number;
  currency: string;
  destination: string | null;
  transferGroup: string | null;
  metadata: Record<string, string>;
  created: string;
}

export function toSubscriptionSnapshot(subscription: Stripe.Subscription): StripeSubscriptionSnapshot {
  const item = subscription.items.data[0];
  if (!item) throw new Error(`Stripe subscription ${subscription.id} has no items`);
  // Since API 2025-03-31 the billing period lives on each subscription item.
  return {
    id: subscription.id,
    customerId: idOf(subscription.customer) ?? '',
    status: subscription.status,
    priceId: item.price.id,
    productId: idOf(item.price.product) ?? '',
    lookupKey: item.price.lookup_key,
    unitAmount: item.price.unit_amount,
    currency: subscription.currency,
    interval: item.price.recurring?.interval ?? null,
    currentPeriodStart: iso(item.current_period_start) ?? '',
    currentPeriodEnd: iso(item.current_period_end) ?? '',
    cancelAtPeriodEnd: subscription.cancel_at_period_end,
    cancelAt: iso(subscription.cancel_at),
    canceledAt: iso(subscription.canceled_at),
    endedAt: iso(subscription.ended_at),
    trialStart: iso(subscription.trial_start),
    trialEnd: iso(subscription.trial_end),
    latestInvoiceId: idOf(subscription.latest_invoice),
    metadata: subscription.metadata,
  };
}

export function toInvoiceSnapshot(invoice: Stripe.Invoice): StripeInvoiceSnapshot {
  const line = invoice.lines.data[0];
  return {
    id: invoice.id,
    customerId: idOf(invoice.customer),
    subscriptionId: idOf(invoice.parent?.subscription_details?.subscription),
    status: invoice.status,
    billingReason: invoice.billing_reason,
    amountDue: invoice.amount_due,
    amountPaid: invoice.amount_paid,
    currency: invoice.currency,
    attemptCount: invoice.attempt_count,
    periodStart: iso(invoice.period_start) ?? '',
    periodEnd: iso(invoice.period_end) ?? '',
    servicePeriodStart: iso(line?.period.start ?? invoice.period_start) ?? '',
    servicePeriodEnd: iso(line?.period.end ?? invoice.period_end) ?? '',
    paidAt: iso(invoice.status_transitions.paid_at),
    nextPaymentAttempt: iso(invoice.next_payment_attempt),
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
  };
}

export function toChargeSnapshot(charge: Stripe.Charge): StripeChargeSnapshot {
  return {
    id: charge.id,
    customerId: idOf(charge.customer),
    paymentIntentId: idOf(charge.payment_intent),
    amount: charge.amount,
    amountRefunded: charge.amount_refunded,
    refunded: charge.refunded,
    currency: charge.currency,
    status: charge.status,
  };
}

function toTransferSnapshot(transfer: Stripe.Transfer): StripeTransferSnapshot {
  return {
    id: transfer.id,
    amount: transfer.amount,
    currency: transfer.currency,
    destination: idOf(transfer.destination),
    transferGroup: transfer.transfer_group,
    metadata: transfer.metadata,
    created: iso(transfer.created) ?? '',
  };
}

export interface CheckoutUrls {
  successUrl: string;
  cancelUrl: string;
}

export interface SubscriptionCheckoutInput extends CheckoutUrls {
  /** Our user id: Stripe echoes it as `client_reference_id` in checkout.session.completed. */
  userId: string;
  customerId?: string;
  email?: string;
  priceId: string;
  trialDays?: number;
  /** Our id of this checkout attempt, for the idempotency key. */
  checkoutId: string;
}

export interface CreditTopUpCheckoutInput extends CheckoutUrls {
  userId: string;
  customerId?: string;
  email?: string;
  priceId: string;
  quantity?: number;
  /** Shown in the session's metadata for people reading it; the grant comes from the price's credit pack. */
  credits: number;
  checkoutId: string;
}

/** A checkout session as Stripe holds it, with what it sold: the facts a top-up grant rests on. */
export interface CheckoutPurchase {
  sessionId: string;
  mode: Stripe.Checkout.Session.Mode;
  paymentStatus: Stripe.Checkout.Session.PaymentStatus;
  clientReferenceId: string | null;
  customerId: string | null;
  paymentIntentId: string | null;
  amountTotalCents: number;
  currency: string;
  metadata: Record<string, string>;
  lineItems: Array<{ priceId: string | null; quantity: number; amountTotalCents: number }>;
}

export interface CheckoutSessionRef {
  id: string;
  url: string | null;
}

/** The Stripe calls the platform makes, each under the shared limiter and error classification. */
export class StripeAdapter {
  constructor(
    private readonly stripe: Stripe,
    private readonly call: ProviderCall,
  ) {}

  /** One Stripe customer per user, even when the activity runs twice. */
  async createCustomer(input: { userId: string; email: string; name?: string }): Promise<{ id: string; email: string | null }> {
    const customer = await this.call(() =>
      this.stripe.customers.create(
        { email: input.email, name: input.name, metadata: { user_id: input.userId } },
        { idempotencyKey: stripeIdempotencyKey('customer', input.userId) },
      ),
    );
    return { id: customer.id, email: customer.email };
  }

  async retrieveCustomer(customerId: string): Promise<{ id: string; email: string | null; deleted: boolean }> {
    const customer = await this.call(() => this.stripe.customers.retrieve(customerId));
    return customer.deleted ? { id: customer.id, email: null, deleted: true } : { id: customer.id, email: customer.email, deleted: false };
  }

  async retrieveSubscription(subscriptionId: string): Promise<StripeSubscriptionSnapshot> {
    return toSubscriptionSnapshot(await this.call(() => this.stripe.subscriptions.retrieve(subscriptionId)));
  }

  /** Plan change and/or cancel-at-period-end; `changeId` (ours) makes a retry a replay. */
  async updateSubscription(
    subscriptionId: string,
    change: { priceId?: string; cancelAtPeriodEnd?: boolean; prorationBehavior?: 'create_prorations' | 'always_invoice' | 'none' },
    changeId: string,
  ): Promise<StripeSubscriptionSnapshot> {
    const params: Stripe.SubscriptionUpdateParams = {};
    if (change.cancelAtPeriodEnd !== undefined) params.cancel_at_period_end = change.cancelAtPeriodEnd;
    if (change.priceId) {
      const current = await this.call(() => this.stripe.subscriptions.retrieve(subscriptionId));
      const item = current.items.data[0];
      if (!item) throw new Error(`Stripe subscription ${subscriptionId} has no items`);
      params.items = [{ id: item.id, price: change.priceId }];
      params.proration_behavior = change.prorationBehavior ?? 'create_prorations';
    }
    const updated = await this.call(() =>
      this.stripe.subscriptions.update(subscriptionId, params, { idempotencyKey: stripeIdempotencyKey('subscription-change', changeId) }),
    );
    return toSubscriptionSnapshot(updated);
  }

  /** Cancels now (cancelling an already canceled subscription answers it unchanged). */
  async cancelSubscription(subscriptionId: string): Promise<StripeSubscriptionSnapshot> {
    return toSubscriptionSnapshot(await this.call(() => this.stripe.subscriptions.cancel(subscriptionId)));
  }

  async createSubscriptionCheckout(input: SubscriptionCheckoutInput): Promise<CheckoutSessionRef> {
    return this.createCheckout(input, {
      mode: 'subscription',
      line_items: [{ price: input.priceId, quantity: 1 }],
      subscription_data: { trial_period_days: input.trialDays, metadata: { user_id: input.userId } },
      metadata: { kind: 'subscription', user_id: input.userId },
    });
  }

  async createCreditTopUpCheckout(input: CreditTopUpCheckoutInput): Promise<CheckoutSessionRef> {
    return this.createCheckout(input, {
      mode: 'payment',
      line_items: [{ price: input.priceId, quantity: input.quantity ?? 1 }],
      metadata: { kind: 'credit_topup', user_id: input.userId, credits: String(input.credits) },
    });
  }

  /** A checkout session for our user, idempotent by our checkout id (a retried request gets the same session). */
  private async createCheckout(
    input: CheckoutUrls & { userId: string; customerId?: string; email?: string; checkoutId: string },
    sale: Pick<Stripe.Checkout.SessionCreateParams, 'mode' | 'line_items' | 'subscription_data' | 'metadata'>,
  ): Promise<CheckoutSessionRef> {
    const session = await this.call(() =>
      this.stripe.checkout.sessions.create(
        {
          ...sale,
          client_reference_id: input.userId,
          customer: input.customerId,
          customer_email: input.customerId ? undefined : input.email,
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
        },
        { idempotencyKey: stripeIdempotencyKey('checkout', input.checkoutId) },
      ),
    );
    return { id: session.id, url: session.url };
  }

  async retrieveCheckoutSession(sessionId: string): Promise<Stripe.Checkout.Session> {
    return this.call(() => this.stripe.checkout.sessions.retrieve(sessionId));
  }

  /** The session and its line items, read from Stripe rather than from any event's copy of them. */
  async retrieveCheckoutPurchase(sessionId: string): Promise<CheckoutPurchase> {
    const session = await this.retrieveCheckoutSession(sessionId);
    const lineItems: CheckoutPurchase['lineItems'] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const page = await this.call(() =>
        this.stripe.checkout.sessions.listLineItems(sessionId, { limit: 100, starting_after: startingAfter }),
      );
      lineItems.push(
        ...page.data.map((item) => ({
          priceId: item.price?.id ?? null,
          quantity: item.quantity ?? 1,
          amountTotalCents: item.amount_total,
        })),
      );
      const last = page.data.at(-1);
      if (!page.has_more || !last) break;
      startingAfter = last.id;
    }
    return {
      sessionId: session.id,
      mode: session.mode,
      paymentStatus: session.payment_status,
      clientReferenceId: session.client_reference_id,
      customerId: idOf(session.customer),
      paymentIntentId: idOf(session.payment_intent),
      amountTotalCents: session.amount_total ?? 0,
      currency: session.currency ?? 'usd',
      metadata: session.metadata ?? {},
      lineItems,
    };
  }

  async retrieveInvoice(invoiceId: string): Promise<StripeInvoiceSnapshot> {
    return toInvoiceSnapshot(await this.call(() => this.stripe.invoices.retrieve(invoiceId)));
  }

  async retrieveCharge(chargeId: string): Promise<StripeChargeSnapshot> {
    return toChargeSnapshot(await this.call(() => this.stripe.charges.retrieve(chargeId)));
  }

  /** The invoice a payment paid (charge.refunded names only the payment intent since API 2025-03-31). */
  async invoiceIdForPaymentIntent(paymentIntentId: string): Promise<string | null> {
    const payments = await this.call(() =>
      this.stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: paymentIntentId }, limit: 1 }),
    );
    return idOf(payments.data[0]?.invoice);
  }

  /** A refund of a charge (whole remainder unless `amount`); `refundId` is ours. */
  async refund(input: {
    chargeId: string;
    amount?: number;
    reason?: Stripe.RefundCreateParams.Reason;
    refundId: string;
  }): Promise<{ id: string; amount: number; status: string | null }> {
    const refund = await this.call(() =>
      this.stripe.refunds.create(
        { charge: input.chargeId, amount: input.amount, reason: input.reason },
        { idempotencyKey: stripeIdempotencyKey('refund', input.refundId) },
      ),
    );
    return { id: refund.id, amount: refund.amount, status: refund.status };
  }

  /** A payout to a connected account; the idempotency key is the payout id, so it happens once. */
  async createTransfer(input: {
    payoutId: string;
    amount: number;
    currency: string;
    destination: string;
    transferGroup?: string;
    description?: string;
  }): Promise<StripeTransferSnapshot> {
    const transfer = await this.call(() =>
      this.stripe.transfers.create(
        {
          amount: input.amount,
          currency: input.currency,
          destination: input.destination,
          transfer_group: input.transferGroup,
          description: input.description,
          metadata: { payout_id: input.payoutId },
        },
        { idempotencyKey: stripeIdempotencyKey('payout', input.payoutId) },
      ),
    );
    return toTransferSnapshot(transfer);
  }

  /** Every transfer of a transfer group (e.g. a payout period), for reconciliation. */
  async listTransfers(transferGroup: string): Promise<StripeTransferSnapshot[]> {
    const all: StripeTransferSnapshot[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const page = await this.call(() =>
        this.stripe.transfers.list({ transfer_group: transferGroup, limit: 100, starting_after: startingAfter }),
      );
      all.push(...page.data.map(toTransferSnapshot));
      const last = page.data.at(-1);
      if (!page.has_more || !last) return all;
      startingAfter = last.id;
    }
  }
}
