// `npm run demo:subscription`: drives one customer through the subscription lifecycle against a
// running `npm start` stack (Stripe sandboxed) and prints user, subscription, usage and ledger
// after each step. The steps and their expected states live in scripts/subscription-journey.ts,
// which test/integration/stripe-webhooks.test.ts runs too.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { providerCall } from '../providers/call';
import { ProviderLimiter } from '../providers/rate-limit';
import { createStripeClient, StripeAdapter } from '../providers/stripe';
import { createDb } from '../db/database';
import { createApiKey } from '../db/repositories/api-keys';
import { createUser } from '../db/repositories/users';
import { loadConfig } from '../lib/config';
import { SANDBOX_CREDENTIALS } from '../lib/sandbox-credentials';
import { USER_SCOPES } from '../schemas/api-keys';
import { runSubscriptionJourney, type JourneySnapshot } from './subscription-journey';

interface RuntimeManifest {
  apiUrl: string;
  databaseUrl: string;
  sandboxes: Record<string, string>;
}

const day = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 10) : '-');

function print(n: number, title: string, s: JourneySnapshot, api: unknown): void {
  const lines = [
    `\n${n}. ${title}`,
    `   user          tier=${s.user.subscription_tier} status=${s.user.subscription_status} period_end=${day(s.user.subscription_period_end)}`,
    `   subscription  status=${s.subscription?.status} period=${day(s.subscription?.current_period_start)}..${day(s.subscription?.current_period_end)} cancel_at_period_end=${s.subscription?.cancel_at_period_end}`,
    `   usage         ${s.usage.map((u) => `${day(u.period_start)}..${day(u.period_end)} ${u.videos_processed}/${u.usage_limit ?? '∞'}`).join(' | ')}`,
    `   ledger        ${s.ledger.map((t) => `${t.transaction_type} ${t.amount > 0 ? '+' : ''}${t.amount} → ${t.balance_after}`).join(' | ') || '(empty)'}`,
    `   GET /v1/subscription ${JSON.stringify(api)}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  const config = loadConfig();
  const manifestPath = join(config.dataDir, 'runtime.json');
  if (!existsSync(manifestPath)) throw new Error(`${manifestPath} not found: start the stack first with \`npm start\` (same DATA_DIR)`);
  const runtime = JSON.parse(readFileSync(manifestPath, 'utf8')) as RuntimeManifest;
  const sandboxUrl = runtime.sandboxes.stripe;
  if (!sandboxUrl) throw new Error('the running stack talks to real Stripe (STRIPE_SECRET_KEY is set): this demo needs the Stripe sandbox');

  const db = createDb(runtime.databaseUrl, 2);
  try {
    const user = await createUser(db, { email: `demo-subscriber-${randomUUID().slice(0, 8)}@example.test` });
    const { plaintext } = await createApiKey(db, { userId: user.id, name: 'subscription demo', scopes: [...USER_SCOPES] });
    const stripe = new StripeAdapter(
      createStripeClient(SANDBOX_CREDENTIALS.stripeSecretKey, sandboxUrl),
      providerCall(new ProviderLimiter('stripe', { maxConcurrent: 4 })),
    );
    process.stdout.write(`Subscription demo: user ${user.email} (${user.id}), API ${runtime.apiUrl}, Stripe sandbox ${sandboxUrl}\n`);
    let n = 0;
    const subscriptionId = await runSubscriptionJourney({
      db,
      stripeSandboxUrl: sandboxUrl,
      stripe,
      user: { id: user.id, email: user.email },
      onStep: async (step, snapshot) => {
        const res = await fetch(`${runtime.apiUrl}/v1/subscription`, { headers: { authorization: `Bearer ${plaintext}` } });
        print(++n, step.title, snapshot, await res.json());
      },
    });
    process.stdout.write(`\nDone. Workflow subscription:${subscriptionId} is in the Temporal UI; the user's API key: ${plaintext}\n`);
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
