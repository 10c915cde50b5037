import { randomUUID } from 'node:crypto';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { startSocialSandbox, type SandboxSocialPlatform, type SocialSandbox } from '../../sandbox/social';
import { USER_SCOPES } from '../../schemas/api-keys';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup } from '../helpers/processes';

/**
 * kill -9 the worker process while a post to two platforms is publishing (Instagram accepted it, the
 * worker has not recorded it); a fresh worker retries each target, finds what the platforms already
 * have, and every platform has the post exactly once.
 */
describe('a post to several platforms survives a worker killed mid-publish', () => {
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

  it('posts once per platform after kill -9 mid-publish', async () => {
    const { database, client, apiUrl } = platform;
    const first = await platform.spawnWorkerProcess();
    const user = await createUser(database.db, { email: `targets-crash-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    const connect = async (network: SandboxSocialPlatform) => {
      const issued = social.issueAccount(network);
      const res = await api(
        apiUrl,
        'POST',
        '/v1/social-accounts',
        { platform: network, accessToken: issued.accessToken, platformUserId: issued.platformUserId, username: issued.username },
        auth,
      );
      expect(res.status).toBe(201);
      return { accountId: res.json.id as string, userId: issued.platformUserId };
    };
    const instagram = await connect('instagram');
    const x = await connect('x');

    // Instagram post ids start with 179…: the permalink read after media_publish hangs, so the worker
    // dies holding an accepted Instagram post it has not recorded.
    social.server.faults.inject({ match: { method: 'GET', path: '/instagram/v23.0/179' }, delayMs: 60_000 });
    const created = await api(
      apiUrl,
      'POST',
      '/v1/posts',
      {
        socialAccountIds: [instagram.accountId, x.accountId],
        caption: 'Everywhere once',
        mediaType: 'image',
        mediaUrls: ['https://cdn.example.com/everywhere.png'],
        scheduledAt: new Date(Date.now() + 2000).toISOString(),
      },
      auth,
    );
    expect(created.status).toBe(202);
    const postId: string = created.json.postId;
    const onPlatform = (userId: string) => social.posts.filter((p) => p.userId === userId);

    await eventually(
      async () => onPlatform(instagram.userId).length + onPlatform(x.userId).length,
      (n) => n === 2,
      'both platforms accepted the post',
      30_000,
    );
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const instagramTarget = () =>
      database.db
        .selectFrom('post_targets')
        .innerJoin('social_accounts', 'social_accounts.id', 'post_targets.social_account_id')
        .select(['post_targets.status', 'post_targets.platform_post_id'])
        .where('post_targets.post_id', '=', postId)
        .where('social_accounts.platform', '=', 'instagram')
        .executeTakeFirstOrThrow();
    expect(await instagramTarget()).toEqual({ status: 'publishing', platform_post_id: null });

    await platform.startWorkers(['main']);
    const row = await eventually(
      () => database.db.selectFrom('posts').select(['status', 'platform_post_id']).where('id', '=', postId).executeTakeFirstOrThrow(),
      (r) => r.status !== 'publishing' && r.status !== 'scheduled',
      'post settled after the restart',
      60_000,
    );
    expect(row).toEqual({ status: 'published', platform_post_id: onPlatform(instagram.userId)[0]!.id });
    expect(onPlatform(instagram.userId)).toHaveLength(1);
    expect(onPlatform(x.userId)).toHaveLength(1);
    expect(await instagramTarget()).toEqual({ status: 'published', platform_post_id: onPlatform(instagram.userId)[0]!.id });
    await client.workflow.getHandle(created.json.runId).terminate('test done (metrics timers)');
  });
});
