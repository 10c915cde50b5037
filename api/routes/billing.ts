import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Router } from 'express';
import { creditBalance, creditHistory, latestUserSubscription } from '../../db/repositories/billing';
import { CreditsQuerySchema, CreditsViewSchema, SubscriptionViewSchema, type CreditsView, type PlanSlug, type SubscriptionView } from '../../schemas/billing';
import { subscriptionStateQuery, subscriptionWorkflowId, type SubscriptionWorkflowView } from '../../workflows/subscription/contract';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { HttpProblem } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The open subscription workflow's live view, or undefined when no run is open (or it cannot answer). */
async function liveView(deps: ApiDeps, stripeSubscriptionId: string): Promise<SubscriptionWorkflowView | undefined> {
  const handle = deps.temporal.workflow.getHandle(subscriptionWorkflowId(stripeSubscriptionId));
  try {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return undefined;
    return await handle.query(subscriptionStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    deps.logger.warn({ err, stripeSubscriptionId }, 'subscription query failed; answering from PostgreSQL');
    return undefined;
  }
}

const encodeCursor = (row: { created_at: Date; id: string }) => Buffer.from(`${row.created_at.toISOString()}|${row.id}`).toString('base64url');
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) throw new HttpProblem(400, 'invalid-cursor', 'Invalid Cursor', 'the cursor is not one this API returned');
  return { createdAt, id };
}

function router(deps: ApiDeps): Router {
  const r = Router();

  r.get('/v1/subscription', requireScope('billing'), async (_req, res) => {
    const { userId } = caller(res);
    const user = await deps.db.selectFrom('users').select('subscription_tier').where('id', '=', userId).executeTakeFirstOrThrow();
    const row = await latestUserSubscription(deps.db, userId);
    const live = row?.stripe_subscription_id ? await liveView(deps, row.stripe_subscription_id) : undefined;
    const sub = live?.subscription;
    const body: SubscriptionView = {
      // The user's tier may be raised above the subscription's by an admin grant.
      tier: user.subscription_tier as PlanSlug,
      source: live ? 'workflow' : 'database',
      subscription: row?.stripe_subscription_id
        ? {
            stripeSubscriptionId: row.stripe_subscription_id,
            plan: sub?.planSlug ?? row.plan_slug,
            status: sub?.status ?? row.status,
            currentPeriodStart: sub ? sub.currentPeriodStart : iso(row.current_period_start),
            currentPeriodEnd: sub ? sub.currentPeriodEnd : iso(row.current_period_end),
            trialEnd: sub ? sub.trialEnd : iso(row.trial_end),
            cancelAtPeriodEnd: sub?.cancelAtPeriodEnd ?? row.cancel_at_period_end,
          }
        : null,
      dunning: live?.dunning ? { startedAt: live.dunning.startedAt, remindersSent: live.dunning.remindersSent, graceEndsAt: live.dunning.graceEndsAt } : null,
    };
    res.json(body);
  });

  r.get('/v1/credits', requireScope('billing'), async (req, res) => {
    const { userId } = caller(res);
    const query = CreditsQuerySchema.parse(req.query);
    const balance = await creditBalance(deps.db, userId);
    const rows = await creditHistory(deps.db, userId, query.limit + 1, query.cursor ? decodeCursor(query.cursor) : undefined);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const body: CreditsView = {
      balance: balance?.balance ?? 0,
      totalPurchased: balance?.total_purchased ?? 0,
      totalGranted: balance?.total_granted ?? 0,
      totalUsed: balance?.total_used ?? 0,
      history: page.map((t) => ({
        id: t.id,
        amount: t.amount,
        type: t.transaction_type,
        balanceAfter: t.balance_after,
        description: t.description,
        createdAt: t.created_at.toISOString(),
      })),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
    };
    res.json(body);
  });

  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/v1/subscription',
    tags: ['Billing'],
    summary: "The caller's tier and Stripe subscription (live from its workflow while one runs)",
    security: bearer(),
    responses: { '200': json(SubscriptionViewSchema, 'Current subscription state'), ...problems(401, 403, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/credits',
    tags: ['Billing'],
    summary: "The caller's credit balance and ledger, newest first",
    security: bearer(),
    request: { query: CreditsQuerySchema },
    responses: { '200': json(CreditsViewSchema, 'Balance and one page of history'), ...problems(400, 401, 403, 429) },
  });
}

export const billingRoutes: RouteModule = { router, document };
