import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../lib/config';
import { startSandboxes, type RunningSandboxes } from '../../sandbox';
import { ADMIN_SCOPES } from '../../schemas/api-keys';
import { createCaller } from '../api/fixtures';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

const ROOT = join(__dirname, '..', '..');
/** Installed by scripts/install-tools.mjs (npm postinstall) into its own venv. */
const SCHEMATHESIS = join(ROOT, '.tools', 'venv', 'bin', 'schemathesis');
/** 1–2 minutes on an idle 2-core machine; the margin is for a loaded one. */
const RUN_TIMEOUT_MS = 600_000;

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * The OpenAPI document is the contract: schemathesis generates requests from it (examples, boundary
 * coverage, random fuzzing, stateful sequences through its inferred links) and checks every
 * response against it — no 5xx, only documented status codes, content types, headers and schemas,
 * invalid input refused, 405 with Allow for undocumented methods, auth not ignored.
 */
describe('API contract (schemathesis against /openapi.json)', () => {
  let sandboxes: RunningSandboxes;
  let platform: TestPlatform;
  let authorization: string;

  beforeAll(async () => {
    sandboxes = await startSandboxes(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }));
    // The API reads SANDBOX_URLS too (OAuth connect flows), the workers take sandboxUrls.
    platform = await startTestPlatform({
      sandboxUrls: sandboxes.urls,
      // Rate limits have their own tests (test/api/abuse-limits.test.ts); here every operation's logic must be
      // reached rather than its 429, at full speed (a few thousand requests; no plan allows that per minute).
      env: { SANDBOX_URLS: JSON.stringify(sandboxes.urls), ANONYMOUS_RATE_LIMIT_PER_MINUTE: '1000000' },
    });
    await platform.database.db.updateTable('subscription_plan_features').set({ api_rate_limit_per_minute: 1_000_000 }).execute();
    // An admin key with every scope, so admin operations are exercised rather than all answering 403.
    authorization = (await createCaller(platform.database.db, { role: 'admin', scopes: ADMIN_SCOPES })).auth.authorization;
  });
  afterAll(async () => {
    await platform?.stop();
    await sandboxes?.stop();
  });

  it(
    'holds for every operation: zero server errors, zero schema violations',
    async () => {
      expect(existsSync(SCHEMATHESIS)).toBe(true); // run `npm install` (scripts/install-tools.mjs) to install it
      const { code, output } = await run(SCHEMATHESIS, [
        '--config-file',
        join(__dirname, 'schemathesis.toml'),
        'run',
        `${platform.apiUrl}/openapi.json`,
        '--header',
        `Authorization: ${authorization}`,
        '--checks',
        'all',
        '--phases',
        'examples,coverage,fuzzing,stateful',
        '--seed',
        '20261202',
        '--max-examples',
        '10',
        // One worker: Python 3.11's ast.parse is not thread-safe, and hypothesis calls it while
        // describing strategies ("AST constructor recursion depth mismatch"); 2 cores gain little anyway.
        '--workers',
        '1',
        // The input guard refuses NUL characters (PostgreSQL text cannot hold them) and lone
        // surrogates (not UTF-8) anywhere with 400, a rule no per-field schema states.
        '--generation-allow-x00',
        'false',
        '--generation-codec',
        'utf-8',
        // Signed by Stripe: without a valid Stripe-Signature every request is the same documented 400
        // (test/integration/stripe-webhooks.test.ts covers the route with signed events).
        '--exclude-path',
        '/v1/webhooks/stripe',
        // An endless stream per running run: it closes only when the run does, so a generated request
        // for a live run holds the test until its timeout (test/api/runs.test.ts covers the stream).
        '--exclude-path',
        '/v1/runs/{runId}/events',
        '--no-color',
      ]);
      // On failure the diff shows schemathesis's report: each failing operation with a curl line to reproduce it.
      expect({ code, report: code === 0 ? 'passed' : output }).toEqual({ code: 0, report: 'passed' });
    },
    RUN_TIMEOUT_MS + 30_000,
  );
});
