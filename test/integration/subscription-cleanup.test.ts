import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError } from '@temporalio/client';
import { createApiKey } from '../../db/repositories/api-keys';
import { listCancellationLogs } from '../../db/repositories/cancellation-logs';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { createContentPlanScheduler } from '../../platform/content-plan-schedules';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { USER_SCOPES } from '../../schemas/api-keys';
import type { SubscriptionCleanupInput, SubscriptionCleanupResult } from '../../schemas/subscription-cleanup';
import { contentPlanScheduleId } from '../../workflows/content-plans/contract';
import { SUBSCRIPTION_CLEANUP_WORKFLOW_TYPE, subscriptionCleanupWorkflowId } from '../../workflows/subscription-cleanup/contract';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * The clean-up run a subscription starts when it ends, on the real stack: the user's upcoming
 * posts are canceled through their runs' cancel update, the content-plan Schedule is removed, and
 * one cancellation_logs row says what was done; running it again changes nothing.
 */
describe('subscription end clean-up (real stack)', () => {
  let platform: TestPlatform;
  let social: SocialSandbox;

  beforeAll(async () => {
    social = await startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 });
    platform = await startTestPlatform({ sandboxUrls: { social: social.url } });
  });
  afterAll(async () => {
    await platform?.stop();
    await social?.stop();
  });

  it('cancels upcoming posts through their runs, removes the content-plan schedule and logs it once', async () => {
    const { database, client, queues, apiUrl } = platform;
    const user = await createUser(database.db, { email: `cleanup-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const call = (method: string, path: string, body?: unknown) =>
      api(apiUrl, method, path, body, { authorization: `Bearer ${plaintext}` });
    const issued = social.issueAccount('linkedin');
    const account = await call('POST', '/v1/social-accounts', {
      platform: 'linkedin',
      accessToken: issued.accessToken,
      platformUserId: issued.platformUserId,
    });
    expect(account.status).toBe(201);
    const post = (hours: number, needsApproval: boolean) =>
      call('POST', '/v1/posts', {
        socialAccountId: account.json.id,
        caption: `In ${hours} hours`,
        mediaType: 'image',
        scheduledAt: new Date(Date.now() + hours * 3_600_000).toISOString(),
        needsApproval,
      });
    const upcoming = [await post(2, false), await post(5, true)];
    expect(upcoming.map((p) => p.status)).toEqual([202, 202]);
    const scheduler = createContentPlanScheduler(client, { queues, prefix: queues.prefix }, createLogger('silent'));
    await scheduler.upsert({ userId: user.id, timezone: 'Europe/Berlin' });
    const schedule = client.schedule.getHandle(contentPlanScheduleId(user.id, queues.prefix));
    await schedule.describe();

    const endedAt = new Date().toISOString();
    const input: SubscriptionCleanupInput = { userId: user.id, stripeSubscriptionId: 'sub_cleanup', reason: 'canceled', endedAt };
    const workflowId = subscriptionCleanupWorkflowId('sub_cleanup', endedAt);
    const run = (): Promise<SubscriptionCleanupResult> =>
      client.workflow.execute(SUBSCRIPTION_CLEANUP_WORKFLOW_TYPE, { workflowId, taskQueue: queues.main, args: [input] });
    const result = await run();

    const postIds = upcoming.map((p) => p.json.postId as string);
    expect(result).toEqual({ canceled: postIds, skipped: [], contentPlanSchedule: 'removed' });
    for (const p of upcoming) {
      // Canceled through the run's own update: the run ended canceled and the row says so.
      expect(await client.workflow.getHandle(p.json.runId).result()).toMatchObject({ status: 'canceled' });
      expect((await call('GET', `/v1/posts/${p.json.postId}`)).json).toMatchObject({
        status: 'canceled',
        targets: [expect.objectContaining({ status: 'canceled' })],
      });
    }
    await expect(schedule.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const logs = await listCancellationLogs(database.db, user.id);
    expect(logs).toEqual([
      expect.objectContaining({
        cleanup_id: workflowId,
        stripe_subscription_id: 'sub_cleanup',
        email: user.email,
        reason: 'subscription canceled',
        cleanup_results: { canceled: postIds, skipped: [], contentPlanSchedule: 'removed', endedAt },
      }),
    ]);

    // The same clean-up run again (as a retry would) finds nothing left to do and keeps the one log row.
    expect(await run()).toEqual({ canceled: [], skipped: [], contentPlanSchedule: 'absent' });
    expect(await listCancellationLogs(database.db, user.id)).toHaveLength(1);
  });
});
