import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../lib/runtime/ports';
import { killGroup, spawnTs, type SpawnedProcess } from '../helpers/processes';

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
      listed = execFileSync(cli, ['workflow', 'list', '--address', manifest.temporalAddress, '--query', `WorkflowId="${runId}"`], { encoding: 'utf8' });
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(listed).toContain(runId);
    expect(listed).toContain('Completed');

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(130); // the conventional exit status after Ctrl-C
    expect(processesMentioning(dataDir)).toEqual([]);

    // Second start reuses the same PostgreSQL data and Temporal history.
    const second = start();
    await second.waitForOutput(/Creator jobs platform is up[\s\S]*Manifest/, 120_000);
    const again = execFileSync(cli, ['workflow', 'describe', '--address', manifest.temporalAddress, '--workflow-id', runId], { encoding: 'utf8' });
    expect(again).toMatch(/Completed|COMPLETED/);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(143);
    expect(processesMentioning(dataDir)).toEqual([]);
  });

  it('exits with one clear line naming DATABASE_URL when PostgreSQL is unreachable', async () => {
    const deadPort = await freePort();
    const proc = spawnTs('scripts/start.ts', { ...env, DATABASE_URL: `postgres://u:p@127.0.0.1:${deadPort}/x` });
    started.push(proc);
    expect(await proc.exited).toBe(1);
    const errorLines = proc.output().split('\n').filter((l) => l.startsWith('error:'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/DATABASE_URL/);
    expect(proc.output()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits with one clear line naming TEMPORAL_ADDRESS when Temporal is unreachable', async () => {
    const deadPort = await freePort();
    const proc = spawnTs('scripts/start.ts', { ...env, PG_PORT: String(await freePort()), TEMPORAL_ADDRESS: `127.0.0.1:${deadPort}` });
    started.push(proc);
    expect(await proc.exited).toBe(1);
    const errorLines = proc.output().split('\n').filter((l) => l.startsWith('error:'));
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
      const errorLines = proc.output().split('\n').filter((l) => l.startsWith('error:'));
      expect(errorLines).toEqual([`error: PORT ${port} is already in use`]);
      expect(processesMentioning(dataDir)).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});
