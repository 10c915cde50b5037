import { randomBytes } from 'node:crypto';
import { PLAN_SEEDS, sandboxPriceId } from '../db/seed/plans';
import { CREDIT_PACK_SEEDS, sandboxCreditPackPriceId } from '../db/seed/credit-packs';
import Stripe from 'stripe';
import { HttpError } from './http';
import { type FormObject, bool, int, list, metadata, obj, str } from './stripe-form';

/**
 * The Stripe sandbox's object model: customers, products, prices, subscriptions, invoices,
 * charges, invoice payments, transfers, refunds, checkout sessions and events, shaped like the
 * API version stripe-node v23 pins (periods live on subscription items, an invoice names its
 * subscription under `parent.subscription_details`). Every state change records an event;
 * delivery is the server's job.
 */

type Json = Record<string, unknown>;
type Metadata = Record<string, string>;

export interface PriceObject extends Json {
  id: string;
  object: 'price';
  product: string;
  currency: string;
  unit_amount: number;
  type: 'recurring' | 'one_time';
  recurring: { interval: 'month' | 'year'; interval_count: number; usage_type: 'licensed' } | null;
  lookup_key: string | null;
  metadata: Metadata;
}

export interface SubscriptionObject extends Json {
  id: string;
  customer: string;
  status: 'incomplete' | 'trialing' | 'active' | 'past_due' | 'unpaid' | 'paused' | 'canceled';
  cancel_at_period_end: boolean;
  cancel_at: number | null;
  canceled_at: number | null;
  ended_at: number | null;
  trial_start: number | null;
  trial_end: number | null;
  latest_invoice: string | null;
  metadata: Metadata;
  items: { object: 'list'; data: SubscriptionItemObject[]; has_more: false; total_count: number; url: string };
}

export interface SubscriptionItemObject extends Json {
  id: string;
  price: PriceObject;
  quantity: number;
  current_period_start: number;
  current_period_end: number;
}

export interface InvoiceObject extends Json {
  id: string;
  customer: string;
  status: 'draft' | 'open' | 'paid' | 'void' | 'uncollectible';
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  attempt_count: number;
  attempted: boolean;
  next_payment_attempt: number | null;
  period_start: number;
  period_end: number;
  status_transitions: { finalized_at: number | null; paid_at: number | null; marked_uncollectible_at: null; voided_at: null };
  /** Sandbox-internal link to the charge that paid it (not part of Stripe's invoice shape). */
  charge?: string;
}

export interface ChargeObject extends Json {
  id: string;
  amount: number;
  amount_refunded: number;
  currency: string;
  customer: string | null;
  payment_intent: string;
  refunded: boolean;
  status: 'succeeded' | 'failed';
  refunds: { object: 'list'; data: Json[]; has_more: false; total_count: number; url: string };
}

export interface CheckoutSessionObject extends Json {
  id: string;
  mode: 'subscription' | 'payment';
  status: 'open' | 'complete' | 'expired';
  payment_status: 'unpaid' | 'paid' | 'no_payment_required';
  customer: string | null;
  customer_email: string | null;
  client_reference_id: string | null;
  subscription: string | null;
  payment_intent: string | null;
  invoice: string | null;
  amount_total: number;
  metadata: Metadata;
  /** Sandbox-internal: what the session sells. */
  line: { price: string; quantity: number };
  subscription_data: { trial_period_days?: number; metadata: Metadata };
}

export interface EventObject extends Json {
  id: string;
  object: 'event';
  type: string;
  created: number;
  data: { object: Json; previous_attributes?: Json };
}

export interface DisputeObject extends Json {
  id: string;
  charge: string;
  payment_intent: string;
  amount: number;
  status: 'needs_response' | 'won' | 'lost';
}

export type AdvanceAction =
  | 'renew'
  | 'renew_fail'
  | 'pay_latest'
  | 'end_trial'
  | 'end_trial_fail'
  | 'trial_will_end'
  | 'cancel_at_period_end'
  | 'cancel_now'
  | 'refund_latest'
  | 'pause'
  | 'resume'
  | 'renew_action_required';

export const ADVANCE_ACTIONS: readonly AdvanceAction[] = [
  'renew',
  'renew_fail',
  'pay_latest',
  'end_trial',
  'end_trial_fail',
  'trial_will_end',
  'cancel_at_period_end',
  'cancel_now',
  'refund_latest',
  'pause',
  'resume',
  'renew_action_required',
];

/** Products and prices every sandbox starts with; the ids are stable so plan seeds can name them. */
/** Our paid plans' prices (the ids the plan seeds write), plus one-time credit packs. */
export const SANDBOX_CATALOGUE: ReadonlyArray<{
  product: string;
  name: string;
  price: string;
  lookupKey: string;
  amount: number;
  interval: 'month' | 'year' | null;
}> = [
  ...PLAN_SEEDS.flatMap(({ slug, name, monthlyCents }) =>
    monthlyCents === null
      ? []
      : (['month', 'year'] as const).map((interval) => ({
          product: `prod_sbx_${slug}`,
          name,
          price: sandboxPriceId(slug, interval),
          lookupKey: `${slug}_${interval === 'month' ? 'monthly' : 'yearly'}`,
          amount: interval === 'month' ? monthlyCents : monthlyCents * 10,
          interval,
        })),
  ),
  ...CREDIT_PACK_SEEDS.map(({ slug, name, amountCents }) => ({
    product: 'prod_sbx_credits',
    name,
    price: sandboxCreditPackPriceId(slug),
    lookupKey: slug,
    amount: amountCents,
    interval: null,
  })),
];

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A Stripe-looking id: prefix + 24 random base62 characters. */
export function stripeId(prefix: string): string {
  const bytes = randomBytes(24);
  let out = '';
  for (const b of bytes) out += ID_ALPHABET[b % ID_ALPHABET.length];
  return `${prefix}_${out}`;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const DAY = 86_400;

function addInterval(from: number, interval: 'month' | 'year', count: number): number {
  const date = new Date(from * 1000);
  if (interval === 'year') date.setUTCFullYear(date.getUTCFullYear() + count);
  else date.setUTCMonth(date.getUTCMonth() + count);
  return Math.floor(date.getTime() / 1000);
}

const clone = <T>(value: T): T => structuredClone(value);

/** A Stripe API error (`invalid_request_error` by default) as the SDK expects it on the wire. */
export function stripeError(status: number, message: string, extra: { type?: string; code?: string; param?: string } = {}): HttpError {
  return new HttpError(status, message, {
    error: { type: extra.type ?? 'invalid_request_error', message, code: extra.code, param: extra.param },
  });
}

const missing = (kind: string, id: string, param = 'id') =>
  stripeError(404, `No such ${kind}: '${id}'`, { code: 'resource_missing', param });

export class StripeSandboxState {
  readonly customers = new Map<string, Json & { id: string; email: string | null }>();
  readonly products = new Map<string, Json & { id: string; name: string }>();
  readonly prices = new Map<string, PriceObject>();
  readonly subscriptions = new Map<string, SubscriptionObject>();
  readonly invoices = new Map<string, InvoiceObject>();
  readonly charges = new Map<string, ChargeObject>();
  readonly invoicePayments = new Map<
    string,
    Json & { id: string; invoice: string; payment: { type: 'payment_intent'; payment_intent: string } }
  >();
  readonly transfers = new Map<string, Json & { id: string; amount: number; transfer_group: string | null }>();
  readonly refunds = new Map<string, Json & { id: string }>();
  readonly disputes = new Map<string, DisputeObject>();
  readonly sessions = new Map<string, CheckoutSessionObject>();
  readonly events: EventObject[] = [];
  private invoiceNumber = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly onEvent: (event: EventObject) => void,
  ) {
    this.seedCatalogue();
  }

  private seedCatalogue(): void {
    for (const entry of SANDBOX_CATALOGUE) {
      if (!this.products.has(entry.product)) this.products.set(entry.product, this.productObject(entry.product, entry.name, {}));
      this.prices.set(entry.price, this.priceObject(entry.price, entry.product, entry.amount, 'usd', entry.interval, entry.lookupKey, {}));
    }
  }

  private productObject(id: string, name: string, meta: Metadata) {
    const created = nowSeconds();
    return {
      id,
      object: 'product',
      active: true,
      created,
      updated: created,
      name,
      description: null,
      images: [],
      livemode: false,
      metadata: meta,
      type: 'service',
      url: null,
    };
  }

  private priceObject(
    id: string,
    product: string,
    amount: number,
    currency: string,
    interval: 'month' | 'year' | null,
    lookupKey: string | null,
    meta: Metadata,
  ): PriceObject {
    return {
      id,
      object: 'price',
      active: true,
      billing_scheme: 'per_unit',
      created: nowSeconds(),
      currency,
      livemode: false,
      lookup_key: lookupKey,
      metadata: meta,
      nickname: null,
      product,
      recurring: interval ? { interval, interval_count: 1, usage_type: 'licensed' } : null,
      tax_behavior: 'unspecified',
      type: interval ? 'recurring' : 'one_time',
      unit_amount: amount,
      unit_amount_decimal: String(amount),
    };
  }

  private emit(type: string, object: Json, previous?: Json): EventObject {
    const event: EventObject = {
      id: stripeId('evt'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: nowSeconds(),
      data: previous ? { object: clone(object), previous_attributes: clone(previous) } : { object: clone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
    this.events.push(event);
    this.onEvent(event);
    return event;
  }

  // ---- customers -------------------------------------------------------------------------

  createCustomer(form: FormObject) {
    const customer = {
      id: stripeId('cus'),
      object: 'customer',
      balance: 0,
      created: nowSeconds(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: str(form, 'description') ?? null,
      email: str(form, 'email') ?? null,
      invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
      livemode: false,
      metadata: metadata(form),
      name: str(form, 'name') ?? null,
      phone: null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: 'none',
      test_clock: null,
    };
    this.customers.set(customer.id, customer);
    this.emit('customer.created', customer);
    return customer;
  }

  customer(id: string) {
    const customer = this.customers.get(id);
    if (!customer) throw missing('customer', id);
    return customer;
  }

  // ---- catalogue -------------------------------------------------------------------------

  createProduct(form: FormObject) {
    const name = str(form, 'name');
    if (!name) throw stripeError(400, 'Missing required param: name.', { code: 'parameter_missing', param: 'name' });
    const product = this.productObject(str(form, 'id') ?? stripeId('prod'), name, metadata(form));
    this.products.set(product.id, product);
    return product;
  }

  createPrice(form: FormObject) {
    const product = str(form, 'product');
    if (!product || !this.products.has(product)) throw missing('product', product ?? '', 'product');
    const amount = int(form, 'unit_amount');
    if (amount === undefined)
      throw stripeError(400, 'Missing required param: unit_amount.', { code: 'parameter_missing', param: 'unit_amount' });
    const interval = str(obj(form, 'recurring'), 'interval');
    if (interval !== undefined && interval !== 'month' && interval !== 'year')
      throw stripeError(400, `Invalid recurring[interval]: ${interval}`, { param: 'recurring[interval]' });
    const price = this.priceObject(
      stripeId('price'),
      product,
      amount,
      str(form, 'currency') ?? 'usd',
      interval ?? null,
      str(form, 'lookup_key') ?? null,
      metadata(form),
    );
    this.prices.set(price.id, price);
    return price;
  }

  price(id: string, param = 'price'): PriceObject {
    const price = this.prices.get(id);
    if (!price) throw missing('price', id, param);
    return price;
  }

  // ---- subscriptions ---------------------------------------------------------------------

  createSubscription(form: FormObject) {
    const customerId = str(form, 'customer');
    if (!customerId) throw stripeError(400, 'Missing required param: customer.', { code: 'parameter_missing', param: 'customer' });
    this.customer(customerId);
    const [first] = list(form, 'items');
    const priceId = first && typeof first === 'object' && !Array.isArray(first) ? str(first, 'price') : undefined;
    if (!priceId) throw stripeError(400, 'Missing required param: items[0][price].', { code: 'parameter_missing', param: 'items' });
    return this.startSubscription(customerId, this.price(priceId, 'items[0][price]'), int(form, 'trial_period_days'), metadata(form));
  }

  private startSubscription(customerId: string, price: PriceObject, trialDays: number | undefined, meta: Metadata): SubscriptionObject {
    if (!price.recurring)
      throw stripeError(400, `The price specified (${price.id}) is not a recurring price.`, { param: 'items[0][price]' });
    const start = nowSeconds();
    const trialEnd = trialDays ? start + trialDays * DAY : null;
    const periodEnd = trialEnd ?? addInterval(start, price.recurring.interval, price.recurring.interval_count);
    const id = stripeId('sub');
    const subscription: SubscriptionObject = {
      id,
      object: 'subscription',
      application: null,
      billing_cycle_anchor: periodEnd,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      cancellation_details: { comment: null, feedback: null, reason: null },
      collection_method: 'charge_automatically',
      created: start,
      currency: price.currency,
      customer: customerId,
      days_until_due: null,
      default_payment_method: stripeId('pm'),
      description: null,
      discounts: [],
      ended_at: null,
      items: {
        object: 'list',
        data: [
          {
            id: stripeId('si'),
            object: 'subscription_item',
            created: start,
            current_period_start: start,
            current_period_end: periodEnd,
            discounts: [],
            metadata: {},
            price: clone(price),
            quantity: 1,
            subscription: id,
            tax_rates: [],
          },
        ],
        has_more: false,
        total_count: 1,
        url: `/v1/subscription_items?subscription=${id}`,
      },
      latest_invoice: null,
      livemode: false,
      metadata: meta,
      pause_collection: null,
      start_date: start,
      status: trialEnd ? 'trialing' : 'active',
      test_clock: null,
      trial_end: trialEnd,
      trial_start: trialEnd ? start : null,
    };
    this.subscriptions.set(id, subscription);
    // A trial starts with a $0 invoice; otherwise the first period is charged at once.
    const invoice = this.createInvoice(subscription, 'subscription_create', trialEnd ? 0 : price.unit_amount);
    this.emit('customer.subscription.created', subscription);
    this.collect(invoice, true);
    return subscription;
  }

  subscription(id: string): SubscriptionObject {
    const subscription = this.subscriptions.get(id);
    if (!subscription) throw missing('subscription', id);
    return subscription;
  }

  private item(subscription: SubscriptionObject): SubscriptionItemObject {
    const item = subscription.items.data[0];
    if (!item) throw stripeError(500, `subscription ${subscription.id} has no items`, { type: 'api_error' });
    return item;
  }

  updateSubscription(id: string, form: FormObject) {
    const subscription = this.subscription(id);
    if (subscription.status === 'canceled')
      throw stripeError(400, 'A canceled subscription can only update its cancellation_details and metadata.', {
        code: 'resource_missing',
      });
    const previous: Json = {};
    const cancelAtPeriodEnd = bool(form, 'cancel_at_period_end');
    if (cancelAtPeriodEnd !== undefined && cancelAtPeriodEnd !== subscription.cancel_at_period_end) {
      Object.assign(previous, { cancel_at_period_end: subscription.cancel_at_period_end, cancel_at: subscription.cancel_at });
      this.setCancelAtPeriodEnd(subscription, cancelAtPeriodEnd);
    }
    if (form.metadata !== undefined) {
      previous.metadata = clone(subscription.metadata);
      subscription.metadata = { ...subscription.metadata, ...metadata(form) };
      for (const [k, v] of Object.entries(subscription.metadata)) if (v === '') delete subscription.metadata[k];
    }
    const [change] = list(form, 'items');
    const newPriceId = change && typeof change === 'object' && !Array.isArray(change) ? str(change, 'price') : undefined;
    let prorationInvoice: InvoiceObject | undefined;
    if (newPriceId) {
      const item = this.item(subscription);
      const price = this.price(newPriceId, 'items[0][price]');
      if (!price.recurring)
        throw stripeError(400, `The price specified (${price.id}) is not a recurring price.`, { param: 'items[0][price]' });
      if (price.id !== item.price.id) {
        previous.items = clone(subscription.items);
        const unused = this.unusedFraction(item);
        const proration = Math.round((price.unit_amount - item.price.unit_amount) * unused);
        item.price = clone(price);
        if (str(form, 'proration_behavior') === 'always_invoice' && proration > 0)
          prorationInvoice = this.createInvoice(subscription, 'subscription_update', proration);
      }
    }
    if (Object.keys(previous).length > 0) this.emit('customer.subscription.updated', subscription, previous);
    if (prorationInvoice) this.collect(prorationInvoice, true);
    return subscription;
  }

  private unusedFraction(item: SubscriptionItemObject): number {
    const length = item.current_period_end - item.current_period_start;
    return length > 0 ? Math.max(0, Math.min(1, (item.current_period_end - nowSeconds()) / length)) : 0;
  }

  private setCancelAtPeriodEnd(subscription: SubscriptionObject, value: boolean): void {
    subscription.cancel_at_period_end = value;
    subscription.cancel_at = value ? this.item(subscription).current_period_end : null;
    subscription.canceled_at = value ? nowSeconds() : null;
    subscription.cancellation_details = { comment: null, feedback: null, reason: value ? 'cancellation_requested' : null };
  }

  cancelSubscription(id: string) {
    const subscription = this.subscription(id);
    if (subscription.status === 'canceled') return subscription;
    this.endSubscription(subscription, nowSeconds(), 'cancellation_requested');
    return subscription;
  }

  private endSubscription(subscription: SubscriptionObject, at: number, reason: string): void {
    subscription.status = 'canceled';
    subscription.ended_at = at;
    subscription.canceled_at ??= at;
    subscription.cancellation_details = { comment: null, feedback: null, reason };
    this.emit('customer.subscription.deleted', subscription);
  }

  // ---- invoices, charges, payments ------------------------------------------------------

  private createInvoice(subscription: SubscriptionObject, reason: string, amount: number): InvoiceObject {
    const item = this.item(subscription);
    const created = nowSeconds();
    const customer = this.customer(subscription.customer);
    const id = stripeId('in');
    this.invoiceNumber += 1;
    const invoice: InvoiceObject = {
      id,
      object: 'invoice',
      account_country: 'US',
      account_name: 'Creator Platform (sandbox)',
      amount_due: amount,
      amount_paid: 0,
      amount_remaining: amount,
      attempt_count: 0,
      attempted: false,
      auto_advance: true,
      billing_reason: reason,
      collection_method: 'charge_automatically',
      created,
      currency: item.price.currency,
      customer: subscription.customer,
      customer_email: customer.email,
      description: null,
      hosted_invoice_url: `${this.baseUrl}/__sandbox/stripe/invoices/${id}`,
      lines: {
        object: 'list',
        data: [
          {
            id: stripeId('il'),
            object: 'line_item',
            amount,
            currency: item.price.currency,
            description: `1 × ${String(this.products.get(item.price.product)?.name ?? item.price.product)}`,
            invoice: id,
            livemode: false,
            metadata: {},
            parent: {
              type: 'subscription_item_details',
              subscription_item_details: {
                subscription: subscription.id,
                subscription_item: item.id,
                proration: reason === 'subscription_update',
              },
            },
            period: { start: item.current_period_start, end: item.current_period_end },
            pricing: {
              type: 'price_details',
              price_details: { price: item.price.id, product: item.price.product },
              unit_amount_decimal: String(item.price.unit_amount),
            },
            quantity: 1,
          },
        ],
        has_more: false,
        total_count: 1,
        url: `/v1/invoices/${id}/lines`,
      },
      livemode: false,
      metadata: {},
      next_payment_attempt: null,
      number: `SBX-${String(this.invoiceNumber).padStart(4, '0')}`,
      parent: {
        type: 'subscription_details',
        quote_details: null,
        subscription_details: { subscription: subscription.id, metadata: clone(subscription.metadata) },
      },
      period_start: item.current_period_start,
      period_end: item.current_period_end,
      status: 'open',
      status_transitions: { finalized_at: created, paid_at: null, marked_uncollectible_at: null, voided_at: null },
      subtotal: amount,
      total: amount,
    };
    this.invoices.set(id, invoice);
    subscription.latest_invoice = id;
    return invoice;
  }

  invoice(id: string): InvoiceObject {
    const invoice = this.invoices.get(id);
    if (!invoice) throw missing('invoice', id);
    return invoice;
  }

  /** Attempts payment of an open invoice; emits invoice.paid or invoice.payment_failed. */
  /** `requiresAction`: the bank wants the customer to authenticate (3DS), so the attempt waits on them. */
  private collect(invoice: InvoiceObject, succeeds: boolean, requiresAction = false): void {
    const at = nowSeconds();
    invoice.attempted = true;
    invoice.attempt_count += 1;
    if (invoice.amount_due === 0) {
      this.markPaid(invoice, at);
      return;
    }
    const charge = this.createCharge(
      invoice.customer,
      invoice.amount_due,
      String(invoice.currency),
      `Subscription invoice ${String(invoice.number)}`,
      succeeds,
    );
    this.invoicePayments.set(`inpay_${invoice.id}_${invoice.attempt_count}`, {
      id: stripeId('inpay'),
      object: 'invoice_payment',
      amount_paid: succeeds ? invoice.amount_due : null,
      amount_requested: invoice.amount_due,
      created: at,
      currency: invoice.currency,
      invoice: invoice.id,
      is_default: true,
      livemode: false,
      payment: { type: 'payment_intent', payment_intent: charge.payment_intent },
      status: succeeds ? 'paid' : 'open',
      status_transitions: { canceled_at: null, paid_at: succeeds ? at : null },
    });
    if (succeeds) {
      invoice.charge = charge.id;
      this.markPaid(invoice, at);
    } else {
      invoice.next_payment_attempt = at + 3 * DAY;
      this.emit(requiresAction ? 'invoice.payment_action_required' : 'invoice.payment_failed', this.invoiceView(invoice));
    }
  }

  private markPaid(invoice: InvoiceObject, at: number): void {
    invoice.status = 'paid';
    invoice.amount_paid = invoice.amount_due;
    invoice.amount_remaining = 0;
    invoice.next_payment_attempt = null;
    invoice.status_transitions.paid_at = at;
    this.emit('invoice.paid', this.invoiceView(invoice));
  }

  /** The invoice as the API shows it (without the sandbox-internal charge link). */
  invoiceView(invoice: InvoiceObject): Json {
    const { charge: _charge, ...view } = invoice;
    return view;
  }

  private createCharge(customer: string | null, amount: number, currency: string, description: string, succeeds: boolean): ChargeObject {
    const id = stripeId('ch');
    const charge: ChargeObject = {
      id,
      object: 'charge',
      amount,
      amount_captured: succeeds ? amount : 0,
      amount_refunded: 0,
      balance_transaction: succeeds ? stripeId('txn') : null,
      billing_details: { address: null, email: null, name: null, phone: null },
      captured: succeeds,
      created: nowSeconds(),
      currency,
      customer,
      description,
      disputed: false,
      failure_code: succeeds ? null : 'card_declined',
      failure_message: succeeds ? null : 'Your card was declined.',
      livemode: false,
      metadata: {},
      outcome: succeeds
        ? {
            network_status: 'approved_by_network',
            reason: null,
            risk_level: 'normal',
            seller_message: 'Payment complete.',
            type: 'authorized',
          }
        : {
            network_status: 'declined_by_network',
            reason: 'generic_decline',
            risk_level: 'normal',
            seller_message: 'The bank did not return any further details with this decline.',
            type: 'issuer_declined',
          },
      paid: succeeds,
      payment_intent: stripeId('pi'),
      payment_method: stripeId('pm'),
      receipt_url: succeeds ? `${this.baseUrl}/__sandbox/stripe/receipts/${id}` : null,
      refunded: false,
      refunds: { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/charges/${id}/refunds` },
      status: succeeds ? 'succeeded' : 'failed',
    };
    this.charges.set(id, charge);
    return charge;
  }

  charge(id: string): ChargeObject {
    const charge = this.charges.get(id);
    if (!charge) throw missing('charge', id);
    return charge;
  }

  chargeByPaymentIntent(paymentIntent: string): ChargeObject {
    const charge = [...this.charges.values()].find((c) => c.payment_intent === paymentIntent && c.status === 'succeeded');
    if (!charge) throw missing('payment_intent', paymentIntent, 'payment_intent');
    return charge;
  }

  invoicePaymentsFor(paymentIntent: string | undefined, invoice: string | undefined): Json[] {
    return [...this.invoicePayments.values()].filter(
      (p) => (!paymentIntent || p.payment.payment_intent === paymentIntent) && (!invoice || p.invoice === invoice),
    );
  }

  // ---- refunds, transfers -----------------------------------------------------------------

  createRefund(form: FormObject) {
    const chargeId = str(form, 'charge');
    const paymentIntent = str(form, 'payment_intent');
    if (!chargeId && !paymentIntent)
      throw stripeError(400, 'One of the following params should be provided for this request: payment_intent or charge.');
    const charge = chargeId ? this.charge(chargeId) : this.chargeByPaymentIntent(paymentIntent ?? '');
    const remaining = charge.amount - charge.amount_refunded;
    const amount = int(form, 'amount') ?? remaining;
    if (charge.status !== 'succeeded')
      throw stripeError(400, `Charge ${charge.id} has not succeeded and cannot be refunded.`, { code: 'charge_not_refundable' });
    if (remaining <= 0) throw stripeError(400, `Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded' });
    if (amount <= 0 || amount > remaining)
      throw stripeError(400, `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, {
        code: 'amount_too_large',
        param: 'amount',
      });
    const refund = {
      id: stripeId('re'),
      object: 'refund',
      amount,
      balance_transaction: stripeId('txn'),
      charge: charge.id,
      created: nowSeconds(),
      currency: charge.currency,
      metadata: metadata(form),
      payment_intent: charge.payment_intent,
      reason: str(form, 'reason') ?? null,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    };
    this.refunds.set(refund.id, refund);
    const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    charge.refunds.data.unshift(refund);
    charge.refunds.total_count += 1;
    this.emit('charge.refunded', charge, previous);
    return refund;
  }

  /** A cardholder disputes a charge (charge.dispute.created); closing it decides who keeps the money. */
  createDispute(chargeId: string, reason = 'fraudulent'): DisputeObject {
    const charge = this.charge(chargeId);
    if (charge.status !== 'succeeded') throw stripeError(400, `Charge ${charge.id} has not succeeded and cannot be disputed.`);
    if (charge.disputed) throw stripeError(400, `Charge ${charge.id} is already disputed.`);
    const dispute: DisputeObject = {
      id: stripeId('dp'),
      object: 'dispute',
      amount: charge.amount - charge.amount_refunded,
      balance_transactions: [],
      charge: charge.id,
      created: nowSeconds(),
      currency: charge.currency,
      evidence: {},
      is_charge_refundable: false,
      livemode: false,
      metadata: {},
      payment_intent: charge.payment_intent,
      reason,
      status: 'needs_response',
    };
    charge.disputed = true;
    this.disputes.set(dispute.id, dispute);
    this.emit('charge.dispute.created', dispute);
    return dispute;
  }

  /** The issuer's decision (charge.dispute.closed): `lost` means the money went back to the cardholder. */
  closeDispute(disputeId: string, status: 'won' | 'lost'): DisputeObject {
    const dispute = this.disputes.get(disputeId);
    if (!dispute) throw missing('dispute', disputeId);
    if (dispute.status !== 'needs_response') throw stripeError(400, `Dispute ${dispute.id} is already closed (${dispute.status}).`);
    const previous = { status: dispute.status };
    dispute.status = status;
    this.emit('charge.dispute.closed', dispute, previous);
    return dispute;
  }

  createTransfer(form: FormObject) {
    const amount = int(form, 'amount');
    const currency = str(form, 'currency');
    const destination = str(form, 'destination');
    if (amount === undefined || amount <= 0)
      throw stripeError(400, 'Invalid positive integer', { code: 'parameter_invalid_integer', param: 'amount' });
    if (!currency) throw stripeError(400, 'Missing required param: currency.', { code: 'parameter_missing', param: 'currency' });
    if (!destination || !/^acct_[A-Za-z0-9]+$/.test(destination)) throw missing('destination', destination ?? '', 'destination');
    const transfer = {
      id: stripeId('tr'),
      object: 'transfer',
      amount,
      amount_reversed: 0,
      balance_transaction: stripeId('txn'),
      created: nowSeconds(),
      currency,
      description: str(form, 'description') ?? null,
      destination,
      destination_payment: stripeId('py'),
      livemode: false,
      metadata: metadata(form),
      reversals: { object: 'list', data: [], has_more: false, total_count: 0, url: '' },
      reversed: false,
      source_transaction: null,
      source_type: 'card',
      transfer_group: str(form, 'transfer_group') ?? null,
    };
    transfer.reversals.url = `/v1/transfers/${transfer.id}/reversals`;
    this.transfers.set(transfer.id, transfer);
    this.emit('transfer.created', transfer);
    return transfer;
  }

  transfer(id: string) {
    const transfer = this.transfers.get(id);
    if (!transfer) throw missing('transfer', id);
    return transfer;
  }

  // ---- checkout ---------------------------------------------------------------------------

  createCheckoutSession(form: FormObject) {
    const mode = str(form, 'mode');
    if (mode !== 'subscription' && mode !== 'payment')
      throw stripeError(400, `Invalid mode: ${String(mode)}; the sandbox supports subscription and payment.`, { param: 'mode' });
    const [line] = list(form, 'line_items');
    const lineObject = line && typeof line === 'object' && !Array.isArray(line) ? line : {};
    const priceId = str(lineObject, 'price');
    if (!priceId)
      throw stripeError(400, 'Missing required param: line_items[0][price].', { code: 'parameter_missing', param: 'line_items' });
    const price = this.price(priceId, 'line_items[0][price]');
    if (mode === 'subscription' && !price.recurring)
      throw stripeError(400, 'You must provide at least one recurring price in `subscription` mode when using prices.', {
        param: 'line_items',
      });
    if (mode === 'payment' && price.recurring)
      throw stripeError(400, 'You specified `payment` mode but passed a recurring price.', { param: 'line_items' });
    const customer = str(form, 'customer');
    if (customer) this.customer(customer);
    const quantity = int(lineObject, 'quantity') ?? 1;
    const subscriptionData = obj(form, 'subscription_data');
    const id = stripeId('cs_test');
    const created = nowSeconds();
    const session: CheckoutSessionObject = {
      id,
      object: 'checkout.session',
      amount_subtotal: price.unit_amount * quantity,
      amount_total: price.unit_amount * quantity,
      cancel_url: str(form, 'cancel_url') ?? null,
      client_reference_id: str(form, 'client_reference_id') ?? null,
      created,
      currency: price.currency,
      customer: customer ?? null,
      customer_email: str(form, 'customer_email') ?? null,
      expires_at: created + DAY,
      invoice: null,
      livemode: false,
      metadata: metadata(form),
      mode,
      payment_intent: null,
      payment_method_types: ['card'],
      payment_status: 'unpaid',
      status: 'open',
      subscription: null,
      success_url: str(form, 'success_url') ?? null,
      url: `${this.baseUrl}/__sandbox/stripe/checkout/${id}`,
      line: { price: price.id, quantity },
      subscription_data: { trial_period_days: int(subscriptionData, 'trial_period_days'), metadata: metadata(subscriptionData) },
    };
    this.sessions.set(id, session);
    return this.sessionView(session);
  }

  session(id: string): CheckoutSessionObject {
    const session = this.sessions.get(id);
    if (!session) throw missing('checkout.session', id);
    return session;
  }

  sessionView(session: CheckoutSessionObject): Json {
    const { line: _line, subscription_data: _data, ...view } = session;
    return view;
  }

  /** `GET /v1/checkout/sessions/:id/line_items`: what the session sells, priced (one line in the sandbox). */
  lineItems(id: string) {
    const session = this.session(id);
    const price = this.price(session.line.price);
    const amount = price.unit_amount * session.line.quantity;
    const item = {
      id: `li_${id.replace(/^cs_test_/, '')}`,
      object: 'item',
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: price.currency,
      description: price.nickname ?? price.id,
      price,
      quantity: session.line.quantity,
    };
    return { object: 'list', data: [item], has_more: false, url: `/v1/checkout/sessions/${id}/line_items` };
  }

  /** What the customer finishing the hosted checkout page does: pay, subscribe, get a completed session. */
  completeCheckout(id: string) {
    const session = this.session(id);
    if (session.status !== 'open')
      throw stripeError(400, `Checkout session ${id} is ${session.status}.`, { code: 'checkout_session_not_open' });
    const customerId = session.customer ?? this.createCustomer({ email: session.customer_email ?? `${id}@sandbox.invalid` }).id;
    session.customer = customerId;
    const price = this.price(session.line.price);
    if (session.mode === 'subscription') {
      const meta = { ...session.subscription_data.metadata };
      const subscription = this.startSubscription(customerId, price, session.subscription_data.trial_period_days, meta);
      session.subscription = subscription.id;
      session.invoice = subscription.latest_invoice;
      session.payment_status = session.subscription_data.trial_period_days ? 'no_payment_required' : 'paid';
    } else {
      const charge = this.createCharge(customerId, session.amount_total, price.currency, `Checkout ${id}`, true);
      session.payment_intent = charge.payment_intent;
      session.payment_status = 'paid';
    }
    session.status = 'complete';
    this.emit('checkout.session.completed', this.sessionView(session));
    return this.sessionView(session);
  }

  // ---- test clock -------------------------------------------------------------------------

  advance(subscriptionId: string, action: AdvanceAction) {
    const subscription = this.subscription(subscriptionId);
    const item = this.item(subscription);
    const latest = subscription.latest_invoice ? this.invoice(subscription.latest_invoice) : undefined;
    const requireStatus = (...statuses: SubscriptionObject['status'][]) => {
      if (!statuses.includes(subscription.status))
        throw stripeError(400, `Cannot ${action} a subscription in status ${subscription.status} (needs ${statuses.join(' or ')}).`);
    };
    switch (action) {
      case 'renew':
      case 'renew_fail': {
        requireStatus('active', 'past_due');
        if (subscription.cancel_at_period_end) {
          this.endSubscription(subscription, item.current_period_end, 'cancellation_requested');
          break;
        }
        if (subscription.status === 'past_due' && action === 'renew')
          throw stripeError(400, 'The subscription has an unpaid invoice: use pay_latest (or renew_fail to fail the retry).');
        if (subscription.status === 'past_due' && latest?.status === 'open') {
          this.collect(latest, false);
          break;
        }
        this.startNextPeriod(subscription, item, item.current_period_end, action === 'renew', 'subscription_cycle');
        break;
      }
      case 'pay_latest': {
        if (!latest || latest.status !== 'open') throw stripeError(400, `Subscription ${subscription.id} has no open invoice to pay.`);
        const previous = { status: subscription.status };
        this.collect(latest, true);
        subscription.status = 'active';
        this.emit('customer.subscription.updated', subscription, previous);
        break;
      }
      case 'end_trial':
      case 'end_trial_fail': {
        requireStatus('trialing');
        const trialEnd = subscription.trial_end ?? nowSeconds();
        this.startNextPeriod(subscription, item, trialEnd, action === 'end_trial', 'subscription_cycle');
        break;
      }
      case 'trial_will_end':
        requireStatus('trialing');
        this.emit('customer.subscription.trial_will_end', subscription);
        break;
      case 'cancel_at_period_end': {
        requireStatus('trialing', 'active', 'past_due');
        if (subscription.cancel_at_period_end) break;
        const previous = { cancel_at_period_end: false, cancel_at: null, canceled_at: null };
        this.setCancelAtPeriodEnd(subscription, true);
        this.emit('customer.subscription.updated', subscription, previous);
        break;
      }
      case 'cancel_now':
        this.cancelSubscription(subscription.id);
        break;
      case 'pause': {
        // What Stripe does when a trial ends without a payment method (end_behavior: pause).
        requireStatus('trialing');
        const previous = { status: subscription.status };
        subscription.status = 'paused';
        this.emit('customer.subscription.paused', subscription, previous);
        this.emit('customer.subscription.updated', subscription, previous);
        break;
      }
      case 'resume': {
        // POST /v1/subscriptions/:id/resume: a new period starts now and is billed at once.
        requireStatus('paused');
        this.startNextPeriod(subscription, item, nowSeconds(), true, 'subscription_update');
        this.emit('customer.subscription.resumed', subscription, { status: 'paused' });
        break;
      }
      case 'renew_action_required':
        requireStatus('active');
        this.startNextPeriod(subscription, item, item.current_period_end, false, 'subscription_cycle', true);
        break;
      case 'refund_latest': {
        const paid = [...this.invoices.values()].filter(
          (i) =>
            i.parent &&
            (i.parent as { subscription_details: { subscription: string } }).subscription_details.subscription === subscription.id &&
            i.charge,
        );
        const last = paid.at(-1);
        if (!last?.charge) throw stripeError(400, `Subscription ${subscription.id} has no paid invoice with a charge to refund.`);
        this.createRefund({ charge: last.charge, reason: 'requested_by_customer' });
        break;
      }
    }
    return subscription;
  }

  /** Moves the subscription into its next period and bills it (status follows the payment). */
  private startNextPeriod(
    subscription: SubscriptionObject,
    item: SubscriptionItemObject,
    start: number,
    paymentSucceeds: boolean,
    reason: string,
    requiresAction = false,
  ): void {
    const recurring = item.price.recurring ?? { interval: 'month' as const, interval_count: 1 };
    const previous: Json = {
      status: subscription.status,
      items: clone(subscription.items),
      latest_invoice: subscription.latest_invoice,
    };
    item.current_period_start = start;
    item.current_period_end = addInterval(start, recurring.interval, recurring.interval_count);
    subscription.billing_cycle_anchor = subscription.trial_end === start ? start : subscription.billing_cycle_anchor;
    const invoice = this.createInvoice(subscription, reason, item.price.unit_amount);
    this.collect(invoice, paymentSucceeds, requiresAction);
    subscription.status = paymentSucceeds ? 'active' : 'past_due';
    this.emit('customer.subscription.updated', subscription, previous);
  }
}
