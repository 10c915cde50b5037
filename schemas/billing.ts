import { z } from 'zod';
import { CursorSchema } from './common';

export const PLAN_SLUGS = ['free', 'basic', 'premium', 'creator', 'enterprise'] as const;
export const PlanSlugSchema = z.enum(PLAN_SLUGS);
export type PlanSlug = z.infer<typeof PlanSlugSchema>;

export const SUBSCRIPTION_STATUSES = [
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'paused',
  'canceled',
  'incomplete',
  'incomplete_expired',
] as const;
export const SubscriptionStatusSchema = z.enum(SUBSCRIPTION_STATUSES);
export type SubscriptionStatus = z.infer<typeof SubscriptionStatusSchema>;

/** What the webhook endpoint answers Stripe (2xx fast; the workflow does the work). */
export const StripeWebhookAckSchema = z
  .object({
    received: z.literal(true),
    duplicate: z.boolean().describe('true when this event id was already accepted (nothing else happens)'),
    routedTo: z.string().nullable().describe('workflow id the event was handed to; null for event types the platform ignores'),
  })
  .meta({ id: 'StripeWebhookAck' });
export type StripeWebhookAck = z.infer<typeof StripeWebhookAckSchema>;

/** A Stripe object id as we store it (varchar(255)). */
export const StripeIdSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\w-]+$/);

/**
 * A Stripe webhook event, checked after its signature: what the intake reads from it (id, type,
 * creation time, the object with its id and our user id) must be there, typed and sized, or the
 * delivery is refused with 400 before anything is stored or signalled.
 */
export const StripeEventEnvelopeSchema = z
  .object({
    id: StripeIdSchema,
    type: z.string().regex(/^[a-z0-9_.]{1,100}$/),
    created: z.number().int().positive().describe('unix seconds'),
    data: z.object({
      object: z.looseObject({
        id: StripeIdSchema.optional(),
        client_reference_id: z.string().max(255).nullable().optional(),
      }),
    }),
  })
  .meta({ id: 'StripeEvent' });

export const SubscriptionViewSchema = z
  .object({
    tier: PlanSlugSchema.describe('the tier the user has now (free when no paid access)'),
    source: z.enum(['workflow', 'database']).describe('live from the running subscription workflow, or from PostgreSQL'),
    subscription: z
      .object({
        stripeSubscriptionId: z.string(),
        plan: PlanSlugSchema,
        status: SubscriptionStatusSchema,
        currentPeriodStart: z.iso.datetime({ offset: true }).nullable(),
        currentPeriodEnd: z.iso.datetime({ offset: true }).nullable(),
        trialEnd: z.iso.datetime({ offset: true }).nullable(),
        cancelAtPeriodEnd: z.boolean(),
      })
      .nullable(),
    dunning: z
      .object({
        startedAt: z.iso.datetime({ offset: true }),
        remindersSent: z.number().int(),
        graceEndsAt: z.iso.datetime({ offset: true }),
      })
      .nullable()
      .describe('present while a payment is overdue'),
  })
  .meta({ id: 'SubscriptionView' });
export type SubscriptionView = z.infer<typeof SubscriptionViewSchema>;

export const CreditsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: CursorSchema,
});

export const CreditTransactionViewSchema = z
  .object({
    id: z.uuid(),
    amount: z.number().int().describe('positive adds credits, negative spends them'),
    type: z.string(),
    balanceAfter: z.number().int().min(0),
    description: z.string().nullable(),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'CreditTransaction' });

export const CreditsViewSchema = z
  .object({
    balance: z.number().int().min(0),
    totalPurchased: z.number().int(),
    totalGranted: z.number().int(),
    totalUsed: z.number().int(),
    expiring: z
      .array(z.object({ expiresAt: z.iso.datetime({ offset: true }), amount: z.number().int().min(1) }))
      .describe(
        'credits of the balance that expire, soonest first (plan credits at their period end, packs after 12 months); spending takes them first',
      ),
    history: z.array(CreditTransactionViewSchema).describe('newest first'),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'Credits' });
export type CreditsView = z.infer<typeof CreditsViewSchema>;
