// The customer journey the subscription demo drives (`npm run demo:subscription`) and its
// integration test replays: checkout with a trial, then Stripe sandbox test-clock actions,
// each followed by the state it must lead to in PostgreSQL.
import { randomUUID } from 'node:crypto';
import type { StripeAdapter } from '../providers/stripe';
import type { Db } from '../db/database';
import type { AdvanceAction } from '../sandbox/stripe-state';

export interface JourneyStep {
  title: string;
  /** null: the checkout that starts the journey. */
  action: AdvanceAction | null;
  /** Where the user row must end up, and how many subscription grants the ledger holds by then. */
  expect: { status: string; tier: string; grants: number; cancelAtPeriodEnd?: boolean };
}

export const SUBSCRIPTION_JOURNEY: readonly JourneyStep[] = [
  { title: 'checkout with a 14-day trial', action: null, expect: { status: 'trialing', tier: 'premium', grants: 0 } },
  { title: 'trial converts: first paid period', action: 'end_trial', expect: { status: 'active', tier: 'premium', grants: 1 } },
  { title: 'renewal 1', action: 'renew', expect: { status: 'active', tier: 'premium', grants: 2 } },
  { title: 'renewal 2', action: 'renew', expect: { status: 'active', tier: 'premium', grants: 3 } },
  {
    title: 'renewal payment fails: dunning, access kept during grace',
    action: 'renew_fail',
    expect: { status: 'past_due', tier: 'premium', grants: 3 },
  },
  { title: 'invoice paid after all: recovered', action: 'pay_latest', expect: { status: 'active', tier: 'premium', grants: 4 } },
  {
    title: 'cancel at period end: access until then',
    action: 'cancel_at_period_end',
    expect: { status: 'active', tier: 'premium', grants: 4, cancelAtPeriodEnd: true },
  },
  { title: 'period ends: free tier, data kept', action: 'renew', expect: { status: 'canceled', tier: 'free', grants: 4 } },
];

export const JOURNEY_PRICE = 'price_sandbox_premium_monthly';
export const JOURNEY_TRIAL_DAYS = 14;

/** What the demo prints and the test checks after each step. */
export async function journeySnapshot(db: Db, userId: string, stripeSubscriptionId: string) {
  const [user, subscription, usage, ledger] = await Promise.all([
    db
      .selectFrom('users')
      .select(['subscription_tier', 'subscription_status', 'subscription_period_end'])
      .where('id', '=', userId)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('user_subscriptions')
      .select(['status', 'cancel_at_period_end', 'current_period_start', 'current_period_end'])
      .where('stripe_subscription_id', '=', stripeSubscriptionId)
      .executeTakeFirst(),
    db
      .selectFrom('subscription_usage')
      .select(['period_start', 'period_end', 'videos_processed', 'usage_limit'])
      .where('user_id', '=', userId)
      .orderBy('period_start')
      .execute(),
    db
      .selectFrom('credit_transactions')
      .select(['transaction_type', 'amount', 'balance_after'])
      .where('user_id', '=', userId)
      .orderBy('balance_after')
      .execute(),
  ]);
  return { user, subscription, usage, ledger };
}
export type JourneySnapshot = Awaited<ReturnType<typeof journeySnapshot>>;

function reached(step: JourneyStep, s: JourneySnapshot): boolean {
  const grants = s.ledger.filter((t) => t.transaction_type === 'subscription_grant').length;
  return (
    s.user.subscription_status === step.expect.status &&
    s.user.subscription_tier === step.expect.tier &&
    grants === step.expect.grants &&
    (step.expect.cancelAtPeriodEnd === undefined || s.subscription?.cancel_at_period_end === step.expect.cancelAtPeriodEnd)
  );
}

export interface JourneyOptions {
  db: Db;
  /** The Stripe sandbox's base URL (its test-clock admin API). */
  stripeSandboxUrl: string;
  /** A Stripe adapter pointed at the same sandbox. */
  stripe: StripeAdapter;
  user: { id: string; email: string };
  onStep: (step: JourneyStep, snapshot: JourneySnapshot, stripeSubscriptionId: string) => void | Promise<void>;
  stepTimeoutMs?: number;
}

async function sandboxPost(url: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** Runs every step; after each one waits (polling PostgreSQL) until the platform reached the expected state. */
export async function runSubscriptionJourney(opts: JourneyOptions): Promise<string> {
  const timeout = opts.stepTimeoutMs ?? 20_000;
  let subscriptionId = '';
  for (const step of SUBSCRIPTION_JOURNEY) {
    if (step.action === null) {
      const session = await opts.stripe.createSubscriptionCheckout({
        userId: opts.user.id,
        email: opts.user.email,
        priceId: JOURNEY_PRICE,
        trialDays: JOURNEY_TRIAL_DAYS,
        checkoutId: randomUUID(),
        successUrl: 'http://127.0.0.1/ok',
        cancelUrl: 'http://127.0.0.1/cancel',
      });
      subscriptionId = (
        (await sandboxPost(`${opts.stripeSandboxUrl}/__sandbox/stripe/checkout/${session.id}/complete`)) as { subscription: string }
      ).subscription;
    } else {
      await sandboxPost(`${opts.stripeSandboxUrl}/__sandbox/stripe/advance`, { subscription: subscriptionId, action: step.action });
    }
    const deadline = Date.now() + timeout;
    let snapshot = await journeySnapshot(opts.db, opts.user.id, subscriptionId);
    while (!reached(step, snapshot)) {
      if (Date.now() > deadline)
        throw new Error(`step "${step.title}" did not reach ${JSON.stringify(step.expect)}; state: ${JSON.stringify(snapshot)}`);
      await new Promise((r) => setTimeout(r, 150));
      snapshot = await journeySnapshot(opts.db, opts.user.id, subscriptionId);
    }
    await opts.onStep(step, snapshot, subscriptionId);
  }
  return subscriptionId;
}
