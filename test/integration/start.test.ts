import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import pg from 'pg';
import { freePort } from '../../lib/runtime/ports';
import { eventually } from '../helpers/eventually';
import { killGroup, spawnTs, type SpawnedProcess } from '../helpers/processes';

/** The lines a start process printed as `error:` (a clean refusal prints exactly one). */
const errorLinesOf = (proc: SpawnedProcess): string[] =>
  proc
    .output()
    .split('\n')
    .filter((l) => l.startsWith('error:'));

function processesMentioning(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', text], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line && !line.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** `npm start` as a user runs it: its own data dir and ports, real embedded PostgreSQL and Temporal dev server + UI. */
describe('npm start (scripts/start.ts)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'platform-start-'));
  chmodSync(dataDir, 0o755);
  const started: SpawnedProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    env = {
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      PG_PORT: String(await freePort()),
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      METRICS_PORT: String(await freePort()),
      TEMPORAL_METRICS_PORT: String(await freePort()),
      TEMPORAL_SERVER_METRICS_PORT: String(await freePort()),
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
      NODE_ENV: 'development',
    };
  });
  afterAll(() => {
    started.forEach((p) => killGroup(p));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = () => {
    const proc = spawnTs('scripts/start.ts', env);
    started.push(proc);
    return proc;
  };

  it('brings everything up, serves the UI, survives a restart with its data, and leaves no process behind', async () => {
    const first = start();
    await first.waitForOutput(/Creator jobs platform is up[\s\S]*Manifest/, 120_000);
    const manifest = JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8'));
    // Without DEV_API_KEY a demo key is generated once, printed, and kept in DATA_DIR.
    const demoKey = readFileSync(join(dataDir, 'demo-api-key'), 'utf8').trim();
    expect(first.output()).toContain(`Demo API key   ${demoKey}`);
    expect(manifest).toMatchObject({ apiUrl: `http://127.0.0.1:${env.PORT}`, temporalUiUrl: `http://127.0.0.1:${env.TEMPORAL_UI_PORT}` });

    expect((await fetch(`${manifest.apiUrl}/readyz`)).status).toBe(200);
    const ui = await fetch(manifest.temporalUiUrl);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/<html/i);

    const smoke = await fetch(`${manifest.apiUrl}/v1/smoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${demoKey}` },
      body: JSON.stringify({ name: 'first-start' }),
    });
    expect(smoke.status).toBe(202);
    const { runId } = (await smoke.json()) as { runId: string };

    // The run is visible to the Temporal CLI (and so the UI) and completes.
    const temporalCli = join(__dirname, '../../.tools/bin/temporal');
    const cli = existsSync(temporalCli) ? temporalCli : 'temporal';
    let listed = '';
    for (let i = 0; i < 50 && !/Completed/.test(listed); i++) {
      listed = execFileSync(cli, ['workflow', 'list', '--address', manifest.temporalAddress, '--query', `WorkflowId="${runId}"`], {
        encoding: 'utf8',
      });
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(listed).toContain(runId);
    expect(listed).toContain('Completed');

    // Metrics are on, where runtime.json says: ours count the run and the request; the SDK's are the worker's; the dev server's its own.
    expect(manifest.metricsUrls).toEqual({
      platform: `http://127.0.0.1:${env.METRICS_PORT}/metrics`,
      temporalSdk: `http://127.0.0.1:${env.TEMPORAL_METRICS_PORT}/metrics`,
      temporalServer: `http://127.0.0.1:${env.TEMPORAL_SERVER_METRICS_PORT}/metrics`,
    });
    const ours = await (await fetch(manifest.metricsUrls.platform)).text();
    expect(ours).toContain('runs_completed_total{type="smokeWorkflow"} 1');
    expect(ours).toContain('http_requests_total{method="POST",route="/v1/smoke",status="202"} 1');
    expect(await (await fetch(manifest.metricsUrls.temporalSdk)).text()).toMatch(
      /^temporal_workflow_completed\{[^}]*workflow_type="smokeWorkflow"[^}]*\} 1$/m,
    );
    expect(await (await fetch(manifest.metricsUrls.temporalServer)).text()).toMatch(/^# TYPE \w+ /m);

    // Its input is stored encrypted; the UI is configured with the API's codec server, which decodes
    // for requests from the UI's origin.
    const settings = (await (await fetch(`${manifest.temporalUiUrl}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
    expect(settings.Codec.Endpoint).toBe(`${manifest.apiUrl}/codec`);
    const shown = execFileSync(
      cli,
      ['workflow', 'show', '--address', manifest.temporalAddress, '--workflow-id', runId, '--output', 'json'],
      {
        encoding: 'utf8',
      },
    );
    const input = JSON.parse(shown).events[0].workflowExecutionStartedEventAttributes.input;
    expect(Buffer.from(input.payloads[0].data, 'base64').toString()).not.toContain('first-start');
    const decoded = await fetch(settings.Codec.Endpoint + '/decode', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: manifest.temporalUiUrl, 'x-namespace': 'default' },
      body: JSON.stringify(input),
    });
    expect(decoded.status).toBe(200);
    const { payloads } = (await decoded.json()) as { payloads: Array<{ data: string }> };
    expect(Buffer.from(payloads[0]!.data, 'base64').toString()).toContain('first-start');

    // Stripe runs sandboxed with a webhook secret generated in DATA_DIR: its deliveries verify, and
    // an event signed with the constant the source used to hold is refused.
    const webhookSecret = readFileSync(join(dataDir, 'stripe-webhook-secret'), 'utf8').trim();
    expect(webhookSecret).toMatch(/^whsec_[\w-]{43}$/);
    const customer = await fetch(`${manifest.sandboxes.stripe}/v1/customers`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_start', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=start%40example.test',
    });
    expect(customer.status).toBe(200);
    const deliveries = async () =>
      (
        (await (await fetch(`${manifest.sandboxes.stripe}/__sandbox/stripe/events`)).json()) as {
          deliveries: Array<{ type: string; state: string }>;
        }
      ).deliveries;
    for (let i = 0; i < 50 && !(await deliveries()).some((d) => d.type === 'customer.created' && d.state !== 'pending'); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await deliveries()).filter((d) => d.type === 'customer.created')).toEqual([expect.objectContaining({ state: 'delivered' })]);
    const forged = JSON.stringify({
      id: 'evt_forged_start',
      object: 'event',
      type: 'customer.created',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: 'cus_forged' } },
    });
    const refused = await fetch(`${manifest.apiUrl}/v1/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: forged, secret: 'whsec_sandbox_local_development' }),
      },
      body: forged,
    });
    expect(refused.status).toBe(400);

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(130); // the conventional exit status after Ctrl-C
    expect(processesMentioning(dataDir)).toEqual([]);

    // Second start reuses the same PostgreSQL data and Temporal history.
    const second = start();
    await second.waitForOutput(/Creator jobs platform is up[\s\S]*Manifest/, 120_000);
    const again = execFileSync(cli, ['workflow', 'describe', '--address', manifest.temporalAddress, '--workflow-id', runId], {
      encoding: 'utf8',
    });
    expect(again).toMatch(/Completed|COMPLETED/);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(143);
    expect(processesMentioning(dataDir)).toEqual([]);
  });

  it("recovers from kill -9: its children go with it, a crashed start's leftovers are stopped, a DATA_DIR in use is refused in one line", async () => {
    const startUp = async () => {
      const proc = start();
      await proc.waitForOutput(/Creator jobs platform is up[\s\S]*Manifest/, 120_000);
      const manifest = JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8')) as {
        apiUrl: string;
        databaseUrl: string;
        pid: number;
      };
      return { proc, manifest };
    };
    const noneLeft = (what: string) =>
      eventually(
        async () => processesMentioning(dataDir),
        (left) => left.length === 0,
        what,
      );

    const first = await startUp();
    const demoKey = readFileSync(join(dataDir, 'demo-api-key'), 'utf8').trim();
    // npm start's PostgreSQL keeps committed data through an OS crash.
    const pgClient = new pg.Client({ connectionString: first.manifest.databaseUrl });
    await pgClient.connect();
    const { rows } = await pgClient.query<{ fsync: string }>('show fsync');
    await pgClient.end();
    expect(rows[0]?.fsync).toBe('on');

    const refused = start();
    expect(await refused.exited).toBe(1);
    expect(errorLinesOf(refused)).toEqual([
      `error: DATA_DIR ${dataDir} is in use by another npm start (pid ${first.manifest.pid}); stop it or set another DATA_DIR`,
    ]);
    expect((await fetch(`${first.manifest.apiUrl}/readyz`)).status).toBe(200); // the running one is untouched

    // A run in flight when the start process is killed finishes after the next start.
    const smoke = await fetch(`${first.manifest.apiUrl}/v1/smoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${demoKey}` },
      body: JSON.stringify({ name: 'crash', delayMs: 3000 }),
    });
    expect(smoke.status).toBe(202);
    const { runId } = (await smoke.json()) as { runId: string };

    // kill -9 of the process running start.ts: PostgreSQL and the Temporal dev server go with it.
    process.kill(first.manifest.pid, 'SIGKILL');
    await first.proc.exited;
    await noneLeft('the children of the killed start to exit');

    // Killed with its watchdog (as an OOM kill of the group might): the next start finds the
    // orphaned PostgreSQL and dev server through their pid files and stops them.
    const second = await startUp();
    const watchdog = processesMentioning(`platform-watchdog ${dataDir}`);
    expect(watchdog).toHaveLength(1);
    process.kill(Number(watchdog[0]!.split(' ')[0]), 'SIGKILL');
    process.kill(second.manifest.pid, 'SIGKILL');
    await second.proc.exited;
    expect(processesMentioning(join(dataDir, 'pg'))).toHaveLength(1); // the orphaned postmaster

    const third = await startUp();
    const run = await eventually(
      async () =>
        (
          await fetch(`${third.manifest.apiUrl}/v1/runs/${encodeURIComponent(runId)}`, { headers: { authorization: `Bearer ${demoKey}` } })
        ).json() as Promise<{ status: string }>,
      (body) => body.status === 'completed',
      'the interrupted run to complete',
      60_000,
    );
    expect(run.status).toBe('completed');

    // kill -9 of the launcher (tsx): the start process it ran notices and shuts everything down.
    third.proc.child.kill('SIGKILL');
    await noneLeft('the orphaned start process to shut down');
  }, 600_000);

  it.each([
    [
      'STRIPE_WEBHOOK_SECRET when a real STRIPE_SECRET_KEY has none',
      { STRIPE_SECRET_KEY: 'sk_live_start_test' },
      /^error: STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY/,
    ],
    [
      'ALLOW_SANDBOX_PROVIDERS when production would run the Stripe sandbox',
      { NODE_ENV: 'production' },
      /^error: STRIPE_SECRET_KEY .*required in production .*ALLOW_SANDBOX_PROVIDERS=true/,
    ],
  ])('exits with one clear line naming %s', async (_what, extra, line) => {
    const proc = spawnTs('scripts/start.ts', { ...env, ...extra });
    started.push(proc);
    expect(await proc.exited).toBe(1);
    const errorLines = errorLinesOf(proc);
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(line);
    expect(proc.output()).not.toMatch(/\n\s+at /);
    expect(processesMentioning(dataDir)).toEqual([]);
  });

  it('exits with one clear line naming DATABASE_URL when PostgreSQL is unreachable', async () => {
    const deadPort = await freePort();
    const proc = spawnTs('scripts/start.ts', { ...env, DATABASE_URL: `postgres://u:p@127.0.0.1:${deadPort}/x` });
    started.push(proc);
    expect(await proc.exited).toBe(1);
    const errorLines = errorLinesOf(proc);
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/DATABASE_URL/);
    expect(proc.output()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits with one clear line naming TEMPORAL_ADDRESS when Temporal is unreachable', async () => {
    const deadPort = await freePort();
    const proc = spawnTs('scripts/start.ts', { ...env, PG_PORT: String(await freePort()), TEMPORAL_ADDRESS: `127.0.0.1:${deadPort}` });
    started.push(proc);
    expect(await proc.exited).toBe(1);
    const errorLines = errorLinesOf(proc);
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/TEMPORAL_ADDRESS/);
    expect(processesMentioning(dataDir)).toEqual([]);
  });

  it('exits with one clear line naming PORT when the API port is taken', async () => {
    const blocker: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      const proc = spawnTs('scripts/start.ts', { ...env, PORT: String(port) });
      started.push(proc);
      expect(await proc.exited).toBe(1);
      const errorLines = errorLinesOf(proc);
      expect(errorLines).toEqual([`error: PORT ${port} is already in use`]);
      expect(processesMentioning(dataDir)).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});
