import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { USER_SCOPES } from '../../schemas/api-keys';
import { makeTestVideo } from '../media/media-fixtures';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup } from '../helpers/processes';
import { TALK_SRT } from './clips-fixtures';

/**
 * kill -9 the media worker while the ingest downloads; after the heartbeat timeout a fresh media
 * worker resumes the partial file with a Range request and finishes the run once: one video row,
 * one slot taken, the stored file byte for byte the source.
 */
describe('video ingest survives a worker killed mid-download', () => {
  let platform: TestPlatform;
  let files: Server;
  let filesUrl: string;
  let dataDir: string;
  let talk: Buffer;
  const requests: Array<{ range: string; sent: number }> = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ingest-crash-'));
    talk = await readFile(await makeTestVideo(join(dataDir, 'talk.mp4'), { seconds: 9, size: '320x180', fps: 25 }));
    // Trickles the file (about 4 s in all) so the download is still going when the worker dies.
    files = createServer((req, res) => {
      const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      const request = { range: req.headers.range ?? '', sent: 0 };
      requests.push(request);
      const headers = { 'content-type': 'video/mp4', 'content-length': talk.length - from };
      res.writeHead(
        from > 0 ? 206 : 200,
        from > 0 ? { ...headers, 'content-range': `bytes ${from}-${talk.length - 1}/${talk.length}` } : headers,
      );
      const chunk = Math.ceil(talk.length / 40);
      let offset = from;
      const timer = setInterval(() => {
        if (res.destroyed || offset >= talk.length) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(talk.subarray(offset, offset + chunk));
        request.sent += Math.min(chunk, talk.length - offset);
        offset += chunk;
      }, 100);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    platform = await startTestPlatform({ workers: 'later', env: { DATA_DIR: dataDir, SSRF_ALLOWED_HOSTS: new URL(filesUrl).host } });
  });
  afterAll(async () => {
    await platform?.stop();
    await new Promise<void>((r) => (files ? files.close(() => r()) : r()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('resumes after kill -9 and restart, finishing once', async () => {
    const { database, client, apiUrl } = platform;
    const mediaWorker = () =>
      platform.spawnWorkerProcess({}, { entry: 'test/integration/clips-media.worker.ts', ready: /media worker running/ });
    const [first] = await Promise.all([mediaWorker(), platform.startWorkers(['main'])]);
    const user = await createUser(database.db, { email: `ingest-crash-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const started = await api(
      apiUrl,
      'POST',
      '/v1/videos/import-file',
      { url: `${filesUrl}/talk.mp4`, transcript: TALK_SRT },
      {
        authorization: `Bearer ${plaintext}`,
      },
    );
    expect(started.status).toBe(202);

    // Kill once the run's download (the request after the API's pre-flight) is a third of the way in.
    const deadline = Date.now() + 60_000;
    while (!((requests[1]?.sent ?? 0) > talk.length / 3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const atKill = await database.db.selectFrom('videos').selectAll().where('id', '=', started.json.videoId).executeTakeFirstOrThrow();
    expect(atKill).toMatchObject({ processing_status: 'processing', file_path: null });

    await platform.startWorkers(['media']);
    await client.workflow.getHandle(started.json.runId).result();

    expect(requests[2]?.range).toMatch(/^bytes=[1-9]\d*-$/);
    const videos = await database.db.selectFrom('videos').selectAll().where('user_id', '=', user.id).execute();
    expect(videos).toHaveLength(1);
    expect(videos[0]).toMatchObject({ processing_status: 'ready', file_size_bytes: talk.length });
    expect(await readFile(videos[0]!.file_path!)).toEqual(talk);
    const usage = await database.db
      .selectFrom('subscription_usage')
      .select(['videos_processed', 'videos_reserved'])
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(usage).toEqual({ videos_processed: 1, videos_reserved: 0 });
  });
});
