import type { Server } from 'node:http';
import { connect, createServer, type Server as TcpServer, type Socket } from 'node:net';
import type { Client } from '@temporalio/client';
import { createApp } from '../../api/app';
import { createDb, type Db } from '../../db/database';
import { createLogger } from '../../lib/logger';
import { freePort } from '../../lib/runtime/ports';
import { connectTemporalClient } from '../../lib/temporal';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { stackValue } from '../helpers/stack-env';
import { createCaller, type TestCaller } from './fixtures';

interface Relay {
  port: number;
  /** Refuses new connections and cuts the open ones, as a stopped server would. */
  down(): Promise<void>;
  up(): Promise<void>;
}

/** A TCP relay in front of a real server, so a test can take that server "down" and back. */
async function startRelay(target: { host: string; port: number }): Promise<Relay> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: TcpServer | undefined;
  const track = (socket: Socket, peer: () => Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => peer().destroy());
  };
  const up = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        track(client, () => upstream);
        track(upstream, () => client);
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = () =>
    new Promise<void>((resolve) => {
      sockets.forEach((socket) => socket.destroy());
      server?.close(() => resolve());
    });
  await up();
  return { port, up, down };
}

/** The API built as the platform builds it, but reaching PostgreSQL and Temporal through relays. */
describe('outages: 503 problem+json with Retry-After, no hang, no lost start', () => {
  let platform: TestPlatform;
  let caller: TestCaller;
  let postgres: Relay;
  let temporal: Relay;
  let db: Db;
  let client: Client;
  let server: Server;
  let apiUrl: string;

  beforeAll(async () => {
    platform = await startTestPlatform();
    caller = await createCaller(platform.database.db);
    const dbUrl = new URL(platform.database.url);
    postgres = await startRelay({ host: dbUrl.hostname, port: Number(dbUrl.port) });
    const [temporalHost = '', temporalPort] = stackValue('temporalAddress').split(':');
    temporal = await startRelay({ host: temporalHost, port: Number(temporalPort) });
    dbUrl.port = String(postgres.port);
    db = createDb(dbUrl.toString(), 2);
    client = await connectTemporalClient(`127.0.0.1:${temporal.port}`, 'default');
    const app = createApp({ db, temporal: client, logger: createLogger('silent'), config: platform.config, taskQueues: platform.queues });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = server.address();
    apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await client?.connection.close();
    await db?.destroy();
    await Promise.all([postgres?.down(), temporal?.down()]);
    await platform?.stop();
  });

  const expectUnavailable = (res: Awaited<ReturnType<typeof api>>) => {
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.json).toMatchObject({ status: 503, title: 'Service Unavailable' });
  };
  const startSmoke = (idempotencyKey: string) =>
    api(apiUrl, 'POST', '/v1/smoke', { name: 'outage' }, { ...caller.auth, 'idempotency-key': idempotencyKey });
  const ready = () => api(apiUrl, 'GET', '/readyz');

  it('PostgreSQL down: a GET and a start answer 503 with Retry-After, /readyz names postgres; all answer again once it is back', async () => {
    expect((await api(apiUrl, 'GET', '/v1/runs', undefined, caller.auth)).status).toBe(200); // the pool holds live connections
    await postgres.down();
    const began = Date.now();
    expectUnavailable(await api(apiUrl, 'GET', '/v1/runs', undefined, caller.auth));
    expectUnavailable(await startSmoke('pg-outage'));
    const readiness = await ready();
    expectUnavailable(readiness);
    expect(readiness.json.checks).toEqual({ postgres: 'unreachable', temporal: 'ok' });
    expect(readiness.text).not.toMatch(/ECONNREFUSED|terminated|127\.0\.0\.1/); // names the dependency, not the driver's error
    expect(Date.now() - began).toBeLessThan(15_000);

    await postgres.up();
    await eventually(ready, (res) => res.status === 200, '/readyz to recover');
    expect((await api(apiUrl, 'GET', '/v1/runs', undefined, caller.auth)).status).toBe(200);
  });

  it('Temporal down: a start is refused with 503 within seconds and holds no slot; its retry after recovery starts one run', async () => {
    await temporal.down();
    const began = Date.now();
    expectUnavailable(await startSmoke('temporal-outage'));
    expect(Date.now() - began).toBeLessThan(10_000);
    const readiness = await ready();
    expectUnavailable(readiness);
    expect(readiness.json.checks).toEqual({ postgres: 'ok', temporal: 'unreachable' });
    const running = await api(apiUrl, 'GET', '/v1/runs?status=running', undefined, caller.auth);
    expect(running.status).toBe(200); // reads from PostgreSQL still work
    expect(running.json.data).toEqual([]);

    await temporal.up();
    // The client retries as Retry-After tells it, with the same Idempotency-Key.
    const started = await eventually(
      () => startSmoke('temporal-outage'),
      (res) => res.status !== 503,
      'the start to be accepted',
      60_000,
    );
    expect(started.status).toBe(202);
    const again = await startSmoke('temporal-outage');
    expect(again.json.runId).toBe(started.json.runId);
    const handle = platform.client.workflow.getHandle(started.json.runId);
    expect(await handle.result()).toMatchObject({ greeting: expect.stringContaining('outage') });
  });
});
