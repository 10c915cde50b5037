import { randomUUID } from 'node:crypto';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { USER_SCOPES } from '../../schemas/api-keys';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup } from '../helpers/processes';

/**
 * kill -9 the worker process after Instagram accepted the post but before the worker recorded
 * it; a fresh worker (in this process, to skip a second cold start) retries the publish, finds
 * the post on the platform and records it: exactly one post exists.
 */
describe('a post survives a worker killed mid-publish', () => {
  let platform: TestPlatform;
  let social: SocialSandbox;

  beforeAll(async () => {
    social = await startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 });
    platform = await startTestPlatform({ workers: 'later', sandboxUrls: { social: social.url } });
  });
  afterAll(async () => {
    await platform?.stop();
    await social?.stop();
  });

  it('publishes exactly once after kill -9 between the platform accepting the post and the worker recording it', async () => {
    const { database, client, apiUrl } = platform;
    const first = await platform.spawnWorkerProcess();
    const user = await createUser(database.db, { email: `post-crash-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    const issued = social.issueAccount('instagram');
    const account = await api(
      apiUrl,
      'POST',
      '/v1/social-accounts',
      { platform: 'instagram', accessToken: issued.accessToken, platformUserId: issued.platformUserId, username: issued.username },
      auth,
    );
    expect(account.status).toBe(201);

    // Instagram post ids start with 179…: the permalink read right after media_publish hangs, so
    // the worker dies holding an accepted post it has not recorded.
    social.server.faults.inject({ match: { method: 'GET', path: '/instagram/v23.0/179' }, delayMs: 60_000 });
    const created = await api(
      apiUrl,
      'POST',
      '/v1/posts',
      {
        socialAccountId: account.json.id,
        caption: 'Survives a crash',
        mediaType: 'image',
        mediaUrls: ['https://cdn.example.com/crash.png'],
        scheduledAt: new Date(Date.now() + 2000).toISOString(),
      },
      auth,
    );
    expect(created.status).toBe(202);
    const postId: string = created.json.postId;

    const onPlatform = () => social.posts.filter((p) => p.userId === issued.platformUserId);
    const deadline = Date.now() + 30_000;
    while (onPlatform().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(onPlatform()).toHaveLength(1);
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const before = await database.db
      .selectFrom('posts')
      .select(['status', 'platform_post_id'])
      .where('id', '=', postId)
      .executeTakeFirstOrThrow();
    expect(before).toEqual({ status: 'publishing', platform_post_id: null });

    // The replacement runs in this process, to skip a second cold start.
    await platform.startWorkers(['main']);
    const published = Date.now() + 60_000;
    let row = before;
    while (row.status === 'publishing' && Date.now() < published) {
      await new Promise((r) => setTimeout(r, 100));
      row = await database.db.selectFrom('posts').select(['status', 'platform_post_id']).where('id', '=', postId).executeTakeFirstOrThrow();
    }
    expect(row).toEqual({ status: 'published', platform_post_id: onPlatform()[0]!.id });
    expect(onPlatform()).toHaveLength(1);
    await client.workflow.getHandle(created.json.runId).terminate('test done (metrics timers)');
  });
});
