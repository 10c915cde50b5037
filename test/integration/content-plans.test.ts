import { randomBytes, randomUUID } from 'node:crypto';
import { syncUserContentPlanSchedule } from '../../activities/content-plans';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { createContentPlanScheduler } from '../../platform/content-plan-schedules';
import { createProviders } from '../../providers';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { startEmailSandbox, type EmailSandbox } from '../../sandbox/email';
import type { SandboxServer } from '../../sandbox/http';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { USER_SCOPES } from '../../schemas/api-keys';
import { contentPlanScheduleId, contentPlanWorkflowId } from '../../workflows/content-plans/contract';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

/** Next calendar month (UTC) as YYYY-MM, so every slot of it lies ahead. */
function monthAfter(months: number): string {
  const now = new Date();
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + months, 1));
  return at.toISOString().slice(0, 7);
}

/**
 * The monthly content plan end to end on the real stack: API, PostgreSQL, Temporal, the worker
 * with the real activities, @anthropic-ai/sdk against the Anthropic sandbox, mail to the email
 * sandbox, and the user's Temporal Schedule on the dev server.
 */
describe('monthly content plan and AI spend caps (API + real stack + Anthropic sandbox)', () => {
  let platform: TestPlatform;
  let anthropic: SandboxServer;
  let social: SocialSandbox;
  let email: EmailSandbox;

  beforeAll(async () => {
    [anthropic, social, email] = await Promise.all([
      startAnthropicSandbox({ port: 0 }),
      startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 }),
      startEmailSandbox({ apiKey: SANDBOX_CREDENTIALS.emailApiKey }),
    ]);
    const sandboxUrls = { anthropic: anthropic.url, social: social.url, email: email.url };
    platform = await startTestPlatform({ env: { SANDBOX_URLS: JSON.stringify(sandboxUrls) }, sandboxUrls });
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([anthropic?.stop(), social?.stop(), email?.stop()]);
  });

  const db = () => platform.database.db;

  async function newUser(plan = 'basic') {
    const user = await createUser(db(), { email: `plan-${randomUUID()}@example.test`, plan });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    return {
      id: user.id,
      email: user.email,
      call: (method: string, path: string, body?: unknown) => api(platform.apiUrl, method, path, body, auth),
    };
  }
  type User = Awaited<ReturnType<typeof newUser>>;

  /** An X account and three daily posting slots (UTC). */
  async function readyToPost(user: User) {
    const issued = social.issueAccount('x', undefined, `glow_${randomBytes(3).toString('hex')}`);
    const connected = await user.call('POST', '/v1/social-accounts', {
      platform: 'x',
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      tokenExpiresAt: issued.expiresAt,
      platformUserId: issued.platformUserId,
      username: issued.username,
    });
    expect(connected.status).toBe(201);
    const schedule = await user.call('PUT', '/v1/posting-schedule', {
      timezone: 'UTC',
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      times: ['09:00', '13:00', '17:00'],
    });
    expect(schedule.status).toBe(200);
  }

  const planDone = (user: User, planId: string) =>
    eventually(
      () => user.call('GET', `/v1/content-plans/${planId}`),
      (res) => res.status === 200 && res.json.status === 'completed',
      `content plan ${planId} completed`,
      60_000,
    );

  it('writes the month once: N posts over pillars and hooks, each in a slot of the month and scheduled as a post run; a rerun is 409', async () => {
    const user = await newUser('basic');
    await readyToPost(user);
    const tooMany = await user.call('PUT', '/v1/content-pillars', {
      pillars: ['Tips', 'Stories', 'Offers', 'Team'].map((name) => ({ name })),
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.errors).toEqual([expect.objectContaining({ field: 'pillars' })]);
    const pillars = await user.call('PUT', '/v1/content-pillars', {
      pillars: [
        { name: 'Skin care tips', description: 'Simple routines that keep skin healthy through the winter months.' },
        { name: 'Client glow-ups', description: 'Real results our clients got after a course of facials at the studio.' },
      ],
    });
    expect(pillars.status).toBe(200);
    expect(
      (await user.call('PUT', '/v1/custom-hooks', { hooks: [{ text: 'Stop scrolling if your skin feels tight every morning.' }] })).status,
    ).toBe(200);

    const month = monthAfter(1);
    const started = await user.call('POST', '/v1/content-plans/run', { month, needsApproval: true });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ runId: contentPlanWorkflowId(user.id, month), month });
    const { json: plan } = await planDone(user, started.json.planId);

    // basic: 12 posts, pillars alternating, the one hook on each, text from the model.
    expect(plan).toMatchObject({ totalPosts: 12, completedPosts: 12, failedPosts: 0, errors: [] });
    expect(plan.posts.map((p: { pillar: string }) => p.pillar).slice(0, 4)).toEqual([
      'Skin care tips',
      'Client glow-ups',
      'Skin care tips',
      'Client glow-ups',
    ]);
    const slots = new Set<string>();
    for (const post of plan.posts) {
      expect(post).toMatchObject({ status: 'scheduled', hook: 'Stop scrolling if your skin feels tight every morning.' });
      expect(post.caption.length).toBeGreaterThan(20);
      expect(post.scheduledFor.slice(0, 7)).toBe(month);
      expect(['09:00', '13:00', '17:00']).toContain(post.scheduledFor.slice(11, 16));
      expect(Date.parse(post.scheduledFor) - Date.parse(post.visibleAfter)).toBe(3 * 86_400_000);
      slots.add(post.scheduledFor);
      // Approval respected: the post run waits for it.
      const row = await user.call('GET', `/v1/posts/${post.postId}`);
      expect(row.json).toMatchObject({ status: 'pending_approval', needsApproval: true, runId: `post:${post.postId}` });
      expect((await platform.client.workflow.getHandle(`post:${post.postId}`).describe()).status.name).toBe('RUNNING');
    }
    expect(slots.size).toBe(12);
    // Spread over the month, not packed into its first days.
    expect(Number(plan.posts[11].scheduledFor.slice(8, 10))).toBeGreaterThan(20);

    const again = await user.call('POST', '/v1/content-plans/run', { month });
    expect(again.status).toBe(409);
    expect(again.json.plan).toMatchObject({ planId: started.json.planId, totalPosts: 12 });
    const posts = await db().selectFrom('posts').select('id').where('user_id', '=', user.id).execute();
    expect(posts).toHaveLength(12);

    const usage = await user.call('GET', '/v1/usage');
    expect(usage.status).toBe(200);
    expect(usage.json.today.requests).toBe(12);
    expect(usage.json.today.tokens).toBeGreaterThan(0);
    expect(usage.json.thisMonth.tokens).toBe(usage.json.today.tokens);
    const users = await db()
      .selectFrom('users')
      .select(['posts_generated_this_month', 'content_generation_month'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(users).toEqual({ posts_generated_this_month: 12, content_generation_month: month });
  });

  it('pauses a plan that reaches the daily token cap mid-way, alerts at 80 % and 100 % once each, and refuses new plans up front with 429', async () => {
    const user = await newUser('premium');
    await readyToPost(user);
    // The premium cap of this test database, set so a few posts cross 80 % and then 100 %.
    await db()
      .updateTable('subscription_plan_features')
      .set({ ai_daily_token_limit: 1500 })
      .where('plan_id', '=', db().selectFrom('subscription_plans').select('id').where('slug', '=', 'premium'))
      .execute();

    const month = monthAfter(1);
    const started = await user.call('POST', '/v1/content-plans/run', { month });
    expect(started.status).toBe(202);
    const { json: paused } = await eventually(
      () => user.call('GET', `/v1/content-plans/${started.json.planId}`),
      (res) => res.json?.status === 'paused',
      'the plan paused by the cap',
      60_000,
    );
    expect(paused.completedPosts).toBeGreaterThan(0);
    expect(paused.completedPosts).toBeLessThan(30);
    expect(Date.parse(paused.pausedUntil)).toBe(
      Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1),
    );

    const alertMails = () => email.messages.filter((m) => m.to.includes(user.email) && m.tags.some((t) => t.value === 'ai_usage'));
    await eventually(
      async () => alertMails().length,
      (n) => n === 2,
      'two alert emails',
    );
    expect(
      alertMails()
        .map((m) => m.subject)
        .sort(),
    ).toEqual(['Your AI usage is at 80%', 'Your AI usage reached its limit']);
    const usage = await user.call('GET', '/v1/usage');
    expect(usage.json.today.tokens).toBeGreaterThanOrEqual(1500);
    expect(usage.json.alerts.map((a: { thresholdPercent: number }) => a.thresholdPercent).sort()).toEqual([100, 80]);

    const refused = await user.call('POST', '/v1/content-plans/run', { month: monthAfter(2) });
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ cap: 'daily_tokens' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Still one email per mark, whatever else ran meanwhile.
    expect(alertMails()).toHaveLength(2);
    await platform.client.workflow.getHandle(started.json.runId).terminate('test over');
  });

  it('keeps the Schedule with the plan: created in the user zone, its firing writes the month, removed when the plan drops the feature', async () => {
    const user = await newUser('basic');
    await readyToPost(user);
    await db().updateTable('users').set({ timezone: 'America/New_York' }).where('id', '=', user.id).execute();
    const logger = createLogger('silent');
    const deps = {
      db: db(),
      logger,
      providers: createProviders({ config: platform.config, logger, db: db(), sandboxUrls: {} }),
      contentPlanSchedules: createContentPlanScheduler(
        platform.client,
        { queues: platform.queues, prefix: platform.queues.prefix },
        logger,
      ),
    };
    expect(await syncUserContentPlanSchedule(deps, user.id)).toEqual({ schedule: 'created' });
    const handle = platform.client.schedule.getHandle(contentPlanScheduleId(user.id, platform.queues.prefix));
    const described = await handle.describe();
    expect(described.spec.timezone).toBe('America/New_York');
    const next = await db()
      .selectFrom('users')
      .select('content_generation_scheduled_for')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(next.content_generation_scheduled_for).toEqual(described.info.nextActionTimes[0]);

    // Fire it now, as the 1st of the month would.
    await handle.trigger();
    const month = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit' })
      .format(new Date())
      .slice(0, 7);
    const run = platform.client.workflow.getHandle(contentPlanWorkflowId(user.id, month));
    await eventually(
      () =>
        run.describe().then(
          (d) => d.status.name,
          () => 'NOT_FOUND',
        ),
      (status) => status === 'COMPLETED',
      'the scheduled month completed',
      60_000,
    );
    const plan = await db().selectFrom('content_generation_jobs').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(plan).toMatchObject({ month, total_posts: 12, completed_posts: 12 });

    await db().updateTable('users').set({ subscription_tier: 'free' }).where('id', '=', user.id).execute();
    expect(await syncUserContentPlanSchedule(deps, user.id)).toEqual({ schedule: 'removed' });
    await expect(handle.describe()).rejects.toThrow();
    expect(await syncUserContentPlanSchedule(deps, user.id)).toEqual({ schedule: 'absent' });
  });
});
