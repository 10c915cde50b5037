import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Router } from 'express';
import { findAdminGrant, insertAdminGrant } from '../../db/repositories/admin-grants';
import { latestUserSubscription } from '../../db/repositories/billing';
import { creditHistory, expiringCredits, getCreditBalance } from '../../db/repositories/credits';
import { findUser, getUserTier } from '../../db/repositories/users';
import { AdminGrantBodySchema, AdminGrantViewSchema, type AdminGrantView } from '../../schemas/admin-grants';
import {
  CreditsQuerySchema,
  CreditsViewSchema,
  SubscriptionViewSchema,
  type CreditsView,
  type PlanSlug,
  type SubscriptionView,
} from '../../schemas/billing';
import { UuidParamSchema } from '../../schemas/common';
import { subscriptionStateQuery, subscriptionWorkflowId, type SubscriptionWorkflowView } from '../../workflows/subscription/contract';
import {
  adminGrantRun,
  adminGrantWorkflowId,
  revokeAdminGrantSignal,
  type AdminGrantWorkflowInput,
} from '../../workflows/admin-grant/contract';
import { recordAudit } from '../audit';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { HttpProblem } from '../problem';
import { signalWithStartRun, startRun } from '../run-starter';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { isoOrNull } from '../dates';

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

const encodeCursor = (row: { created_at: Date; id: string }) =>
  Buffer.from(`${row.created_at.toISOString()}|${row.id}`).toString('base64url');
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()))
    throw new HttpProblem(400, 'invalid-cursor', 'Invalid Cursor', 'the cursor is not one this API returned');
  return { createdAt, id };
}

type GrantRow = NonNullable<Awaited<ReturnType<typeof findAdminGrant>>>;
const grantView = (g: GrantRow): AdminGrantView => ({
  grantId: g.id,
  userId: g.user_id,
  grantType: g.grant_type,
  tierOverride: g.tier_override,
  videoLimitOverride: g.video_limit_override,
  reason: g.reason,
  expiresAt: isoOrNull(g.expires_at),
  isActive: g.is_active,
  revokedAt: isoOrNull(g.revoked_at),
  workflowId: adminGrantWorkflowId(g.id),
});

function router(deps: ApiDeps): Router {
  const r = Router();

  r.get('/v1/subscription', requireScope('billing'), async (_req, res) => {
    const { userId } = caller(res);
    const tier = await getUserTier(deps.db, userId);
    const row = await latestUserSubscription(deps.db, userId);
    const live = row?.stripe_subscription_id ? await liveView(deps, row.stripe_subscription_id) : undefined;
    const sub = live?.subscription;
    const body: SubscriptionView = {
      // The user's tier may be raised above the subscription's by an admin grant.
      tier,
      source: live ? 'workflow' : 'database',
      subscription: row?.stripe_subscription_id
        ? {
            stripeSubscriptionId: row.stripe_subscription_id,
            plan: sub?.planSlug ?? row.plan_slug,
            status: sub?.status ?? row.status,
            currentPeriodStart: sub ? sub.currentPeriodStart : isoOrNull(row.current_period_start),
            currentPeriodEnd: sub ? sub.currentPeriodEnd : isoOrNull(row.current_period_end),
            trialEnd: sub ? sub.trialEnd : isoOrNull(row.trial_end),
            cancelAtPeriodEnd: sub?.cancelAtPeriodEnd ?? row.cancel_at_period_end,
          }
        : null,
      dunning: live?.dunning
        ? { startedAt: live.dunning.startedAt, remindersSent: live.dunning.remindersSent, graceEndsAt: live.dunning.graceEndsAt }
        : null,
    };
    res.json(body);
  });

  r.get('/v1/credits', requireScope('billing'), async (req, res) => {
    const { userId } = caller(res);
    const query = CreditsQuerySchema.parse(req.query);
    const credits = await getCreditBalance(deps.db, userId);
    const rows = await creditHistory(deps.db, userId, query.limit + 1, query.cursor ? decodeCursor(query.cursor) : undefined);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const expiring = await expiringCredits(deps.db, userId);
    const body: CreditsView = {
      ...credits,
      expiring: expiring.map((e) => ({ expiresAt: e.expiresAt.toISOString(), amount: e.amount })),
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

  /** Grants are written with their workflow started in the same transaction: no grant without its expiry timer. */
  r.post('/v1/admin/users/:id/grants', requireScope('admin'), async (req, res) => {
    const { id: userId } = UuidParamSchema.parse(req.params);
    const body = AdminGrantBodySchema.parse(req.body ?? {});
    const admin = caller(res);
    const grant = await deps.db.transaction().execute(async (tx) => {
      const user = await findUser(tx, userId);
      if (!user) throw new HttpProblem(404, 'not-found', 'Not Found', `user ${userId} does not exist`);
      const row = await insertAdminGrant(tx, {
        userId,
        grantedById: admin.userId,
        grantType: body.grantType,
        tierOverride: body.tierOverride ?? null,
        videoLimitOverride: body.videoLimitOverride ?? null,
        reason: body.reason,
        expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
      });
      await recordAudit(tx, req, {
        userId: admin.userId,
        action: 'admin_grant.create',
        entityType: 'admin_subscription_grant',
        entityId: row.id,
        newValues: { ...body, userId },
      });
      const input: AdminGrantWorkflowInput = { grantId: row.id, fallbackTier: user.subscription_tier as PlanSlug };
      await startRun(deps, adminGrantRun, { db: tx, workflowId: adminGrantWorkflowId(row.id), args: [input], userId });
      return row;
    });
    res.status(201).json(grantView(grant));
  });

  r.get('/v1/admin/grants/:id', requireScope('admin'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const grant = await findAdminGrant(deps.db, id);
    if (!grant) throw new HttpProblem(404, 'not-found', 'Not Found', `admin grant ${id} does not exist`);
    res.json(grantView(grant));
  });

  /**
   * Revokes through the grant's workflow (signalWithStart): its timer is cancelled and the tier
   * restored there; a grant whose run already closed gets a short new run that finds it ended.
   */
  r.delete('/v1/admin/grants/:id', requireScope('admin'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const grant = await findAdminGrant(deps.db, id);
    if (!grant) throw new HttpProblem(404, 'not-found', 'Not Found', `admin grant ${id} does not exist`);
    const input: AdminGrantWorkflowInput = { grantId: grant.id, fallbackTier: await getUserTier(deps.db, grant.user_id) };
    await signalWithStartRun(deps, adminGrantRun, {
      workflowId: adminGrantWorkflowId(grant.id),
      args: [input],
      userId: grant.user_id,
      signal: revokeAdminGrantSignal,
      signalArgs: [],
    });
    await recordAudit(deps.db, req, {
      userId: caller(res).userId,
      action: 'admin_grant.revoke',
      entityType: 'admin_subscription_grant',
      entityId: grant.id,
    });
    res.status(202).json(grantView(grant));
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
  registry.registerPath({
    method: 'post',
    path: '/v1/admin/users/{id}/grants',
    tags: ['Admin'],
    summary: 'Grant a user a tier or video limit (admin scope); its workflow ends it at expiresAt',
    security: bearer(),
    request: { params: UuidParamSchema, body: { required: true, content: { 'application/json': { schema: AdminGrantBodySchema } } } },
    responses: { '201': json(AdminGrantViewSchema, 'The grant, active'), ...problems(400, 401, 403, 404, 413, 415, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/admin/grants/{id}',
    tags: ['Admin'],
    summary: 'One admin grant (admin scope)',
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '200': json(AdminGrantViewSchema, 'The grant'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/admin/grants/{id}',
    tags: ['Admin'],
    summary: "Revoke an admin grant now (admin scope); the user's tier falls back through the grant's workflow",
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '202': json(AdminGrantViewSchema, 'Revocation accepted (the grant as it was)'), ...problems(400, 401, 403, 404, 429) },
  });
}

export const billingRoutes: RouteModule = { router, document };
