import type { Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createProviders } from '../../activities/providers';
import { createApp } from '../../api/app';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { createSecretBox, loadEncryptionKey } from '../../lib/secrets';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { USER_SCOPES } from '../../schemas/api-keys';
import { createMainWorker } from '../../worker/create-worker';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { api } from '../helpers/platform';
import { killGroup, spawnTs, type SpawnedProcess } from '../helpers/processes';
import { stackValue } from '../helpers/stack-env';
import { testClient, testNativeConnection, uniqueTaskQueues, workflowBundle } from '../helpers/temporal';

const ENCRYPTION_KEY = randomBytes(32).toString('base64');

/**
 * kill -9 the worker process after Instagram accepted the post but before the worker recorded
 * it; a fresh worker (in this process, to skip a second cold start) retries the publish, finds
 * the post on the platform and records it: exactly one post exists.
 */
describe('a post survives a worker killed mid-publish', () => {
  let database: TestDatabase;
  let client: Client;
  let server: Server;
  let apiUrl: string;
  let social: SocialSandbox;
  const workers: SpawnedProcess[] = [];
  const queues = uniqueTaskQueues();
  let bundle: Promise<WorkflowBundleWithSourceMap>;
  let stopReplacement: (() => Promise<void>) | undefined;
  const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', TASK_QUEUE_PREFIX: queues.prefix, ENCRYPTION_KEY };

  beforeAll(async () => {
    bundle = workflowBundle();
    database = await createTestDatabase();
    client = await testClient();
    social = await startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 });
    const app = createApp({ db: database.db, temporal: client, logger: createLogger('silent'), config: loadConfig(env), taskQueues: queues });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = server.address();
    apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    workers.forEach((w) => killGroup(w));
    await stopReplacement?.();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await social?.stop();
    await client?.connection.close();
    await database?.drop();
  });

  const startWorkerProcess = async () => {
    // The generic worker entry point: worker/platform.ts with the sandbox URLs passed in.
    const worker = spawnTs('worker/main.ts', {
      ...env,
      LOG_LEVEL: 'info', // the worker announces itself with "worker running"
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: stackValue('temporalAddress'),
      SANDBOX_URLS: JSON.stringify({ social: social.url }),
    });
    workers.push(worker);
    await worker.waitForOutput(/worker running/, 90_000);
    return worker;
  };

  const startReplacementWorker = async () => {
    const config = loadConfig(env);
    const logger = createLogger('silent');
    const providers = createProviders({ config, logger, db: database.db, sandboxUrls: { social: social.url } });
    const secrets = createSecretBox(loadEncryptionKey(config));
    const connection = await testNativeConnection();
    const worker = await createMainWorker({
      connection,
      namespace: 'default',
      taskQueue: queues.main,
      activities: createActivities({ db: database.db, logger, providers, secrets }),
      workflowBundle: await bundle,
    });
    const running = worker.run();
    stopReplacement = async () => {
      worker.shutdown();
      await running;
      await connection.close();
    };
  };

  it('publishes exactly once after kill -9 between the platform accepting the post and the worker recording it', async () => {
    const first = await startWorkerProcess();
    const user = await createUser(database.db, { email: `post-crash-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    const issued = social.issueAccount('instagram');
    const account = await api(apiUrl, 'POST', '/v1/social-accounts', { platform: 'instagram', accessToken: issued.accessToken, platformUserId: issued.platformUserId, username: issued.username }, auth);
    expect(account.status).toBe(201);

    // Instagram post ids start with 179…: the permalink read right after media_publish hangs, so
    // the worker dies holding an accepted post it has not recorded.
    social.server.faults.inject({ match: { method: 'GET', path: '/instagram/v23.0/179' }, delayMs: 60_000 });
    const created = await api(apiUrl, 'POST', '/v1/posts', { socialAccountId: account.json.id, caption: 'Survives a crash', mediaType: 'image', mediaUrls: ['https://cdn.example.com/crash.png'], scheduledAt: new Date(Date.now() + 2000).toISOString() }, auth);
    expect(created.status).toBe(202);
    const postId: string = created.json.postId;

    const onPlatform = () => social.posts.filter((p) => p.userId === issued.platformUserId);
    const deadline = Date.now() + 30_000;
    while (onPlatform().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(onPlatform()).toHaveLength(1);
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const before = await database.db.selectFrom('posts').select(['status', 'platform_post_id']).where('id', '=', postId).executeTakeFirstOrThrow();
    expect(before).toEqual({ status: 'publishing', platform_post_id: null });

    await startReplacementWorker();
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
