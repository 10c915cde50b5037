import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { createCaller } from '../api/fixtures';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

const OUTAGE_MS = 60_000;

/** R5: a provider unreachable for a whole minute is an outage to wait out, not a failed run. */
describe('chaos: a provider unreachable for 60 s', () => {
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

  it(
    'R5: a post publishing while Instagram refuses connections retries through the outage, then publishes once',
    async () => {
      const { database, client, apiUrl } = platform;
      const caller = await createCaller(database.db, { plan: 'basic' });
      const issued = social.issueAccount('instagram');
      const account = await api(
        apiUrl,
        'POST',
        '/v1/social-accounts',
        { platform: 'instagram', accessToken: issued.accessToken, platformUserId: issued.platformUserId, username: issued.username },
        caller.auth,
      );
      expect(account.status).toBe(201);

      const outage = social.server.unreachableFor(OUTAGE_MS);
      const created = await api(
        apiUrl,
        'POST',
        '/v1/posts',
        {
          socialAccountId: account.json.id,
          caption: 'Survives an outage',
          mediaType: 'image',
          mediaUrls: ['https://cdn.example.com/outage.png'],
          scheduledAt: new Date(Date.now() + 1000).toISOString(),
        },
        caller.auth,
      );
      expect(created.status).toBe(202);
      const postId: string = created.json.postId;
      const row = () =>
        database.db
          .selectFrom('posts')
          .select(['status', 'platform_post_id', 'retry_count'])
          .where('id', '=', postId)
          .executeTakeFirstOrThrow();

      // Through the whole outage the run keeps trying and nothing reaches the platform.
      await outage;
      const atRecovery = await row();
      expect(atRecovery).toMatchObject({ status: 'publishing', platform_post_id: null });
      expect(atRecovery.retry_count).toBeGreaterThanOrEqual(3);
      expect(social.posts).toEqual([]);

      const published = await eventually(row, (now) => now.status === 'published', 'the post published after the outage', 90_000);
      expect(social.posts).toHaveLength(1);
      expect(published.platform_post_id).toBe(social.posts[0]!.id);
      await client.workflow.getHandle(created.json.runId).terminate('test done (metrics timers)');
    },
    OUTAGE_MS + 150_000,
  );
});
