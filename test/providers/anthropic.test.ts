import { ApplicationFailure } from '@temporalio/common';
import { costMicroUsd, createAnthropicAdapter, priceFor, type AnthropicAdapter } from '../../providers/anthropic';
import { providerCall } from '../../providers/call';
import { requestedRetryDelayMs } from '../../providers/errors';
import { ProviderLimiter } from '../../providers/rate-limit';
import { ANTHROPIC_PRICES } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { spokenCues } from '../../sandbox/creator-talk';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import type { SandboxServer } from '../../sandbox/http';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let sandbox: SandboxServer;
let database: TestDatabase;
let userId: string;

/** A realistic transcript, as the YouTube sandbox's captions would give it. */
const transcript = spokenCues('dQw4w9WgXcQ', 600)
  .map((c) => c.text)
  .join(' ');

beforeAll(async () => {
  [sandbox, database] = await Promise.all([startAnthropicSandbox(), createTestDatabase()]);
  const user = await database.db
    .insertInto('users')
    .values({ email: `ai-${Date.now()}@example.com` })
    .returning('id')
    .executeTakeFirstOrThrow();
  userId = user.id;
});
afterAll(async () => {
  await sandbox?.stop();
  await database?.drop();
});
beforeEach(() => sandbox.reset());

function adapter(options: { baseURL?: string; apiKey?: string; timeoutMs?: number } = {}): AnthropicAdapter {
  return createAnthropicAdapter({
    apiKey: options.apiKey ?? 'sk-ant-test',
    baseURL: options.baseURL ?? sandbox.url,
    timeoutMs: options.timeoutMs ?? 10_000,
    defaultModel: 'claude-sonnet-4-6',
    prices: ANTHROPIC_PRICES,
    db: database.db,
    logger: createLogger('silent'),
    call: providerCall(new ProviderLimiter('anthropic', { maxConcurrent: 2 })),
  });
}

const request = (prompt: string, extra: Partial<Parameters<AnthropicAdapter['generate']>[0]> = {}) => ({
  prompt,
  maxTokens: 1024,
  userId,
  runId: 'content:run-1',
  operation: 'content.summary',
  ...extra,
});

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('Anthropic adapter (@anthropic-ai/sdk messages.create → sandbox)', () => {
  it('generates an extract of the transcript, logs usage and cost to ai_usage_logs with user and run', async () => {
    const result = await adapter().generate(
      request(`Summarize this video for a blog intro.\n\n<transcript>${transcript}</transcript>`, { system: 'You are a helpful editor.' }),
    );
    const sentences = result.text.split(/(?<=[.!?])\s+/);
    expect(sentences.length).toBeGreaterThan(2);
    // Every sentence of the answer comes from the transcript: an extract, not invented text.
    for (const s of sentences) expect(transcript.replace(/\s+/g, ' ')).toContain(s.trim());
    expect(result).toMatchObject({ model: 'claude-sonnet-4-6', stopReason: 'end_turn' });
    expect(result.usage.inputTokens).toBe(
      Math.ceil(
        (`You are a helpful editor.`.length +
          request(`Summarize this video for a blog intro.\n\n<transcript>${transcript}</transcript>`).prompt.length) /
          4,
      ),
    );
    expect(result.usage.outputTokens).toBe(Math.ceil(result.text.length / 4));
    expect(result.costMicroUsd).toBe(result.usage.inputTokens * 3 + result.usage.outputTokens * 15);

    const body = JSON.parse(sandbox.requests[0]!.body);
    expect(body).toMatchObject({
      model: 'claude-sonnet-4-6',
      max_tokens: 1024,
      system: 'You are a helpful editor.',
      messages: [{ role: 'user' }],
    });
    expect(sandbox.requests[0]!.headers.authorization).toBe('Bearer sk-ant-test');

    const row = await database.db.selectFrom('ai_usage_logs').selectAll().where('run_id', '=', 'content:run-1').executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      user_id: userId,
      provider: 'anthropic',
      model: 'claude-sonnet-4-6',
      operation: 'content.summary',
      input_tokens: result.usage.inputTokens,
      output_tokens: result.usage.outputTokens,
      cost_micro_usd: result.costMicroUsd,
    });
    expect(row.latency_ms).toBeGreaterThanOrEqual(0);

    // Deterministic: the same request gives the same text.
    expect(
      (
        await adapter().generate(
          request(`Summarize this video for a blog intro.\n\n<transcript>${transcript}</transcript>`, {
            system: 'You are a helpful editor.',
          }),
        )
      ).text,
    ).toBe(result.text);
  });

  it('shapes the answer as asked: markdown headings, a JSON template, a counted list', async () => {
    const g = adapter();
    const sections = await g.generate(
      request(`Write a blog post with these sections:\n## Key takeaways\n## What to try next\n\nTranscript:\n${transcript}`),
    );
    expect(sections.text).toMatch(/^## Key takeaways\n\n.+\n\n## What to try next\n\n.+/s);

    const json = await g.generate(
      request(
        `Respond in JSON exactly like:\n\`\`\`json\n{ "title": "...", "summary": "...", "hashtags": ["..."] }\n\`\`\`\n<transcript>${transcript}</transcript>`,
      ),
    );
    const parsed = JSON.parse(json.text);
    expect(Object.keys(parsed)).toEqual(['title', 'summary', 'hashtags']);
    expect(parsed.title.split(' ').length).toBeLessThanOrEqual(9);
    expect(parsed.hashtags).toHaveLength(3);

    const titles = await g.generate(request(`Generate 5 YouTube titles for this video.\n<transcript>${transcript}</transcript>`));
    expect(titles.text.split('\n').map((l) => l.slice(0, 3))).toEqual(['1. ', '2. ', '3. ', '4. ', '5. ']);
  });

  it('cuts the answer at max_tokens and says so', async () => {
    const result = await adapter().generate(request(`Summarize:\n<transcript>${transcript}</transcript>`, { maxTokens: 20 }));
    expect(result).toMatchObject({ stopReason: 'max_tokens', usage: { outputTokens: 20 } });
    expect(result.text.length).toBe(80);
  });

  it('prices dated model snapshots and cache tokens; unknown models cost nothing', () => {
    expect(priceFor(ANTHROPIC_PRICES, 'claude-sonnet-4-5-20250929')).toEqual({ input: 3, output: 15 });
    expect(priceFor(ANTHROPIC_PRICES, 'claude-unknown-9')).toBeUndefined();
    expect(
      costMicroUsd(
        { input: 3, output: 15 },
        { input_tokens: 1000, output_tokens: 100, cache_creation_input_tokens: 400, cache_read_input_tokens: 1000 },
      ),
    ).toBe(3000 + 1500 + 1500 + 300);
  });

  it('classifies faults: 429 → Retry-After as nextRetryDelay, 529 overloaded → retryable, revoked key → ProviderAuth, unknown model → NotFound', async () => {
    sandbox.faults.inject({ status: 429, retryAfterSeconds: 20 });
    const limited = await failureOf(adapter().generate(request('Summarize: the talk was good and useful.')));
    expect(limited).toMatchObject({ type: 'RateLimited', nonRetryable: false });
    expect(requestedRetryDelayMs(limited)).toBe(20_000);
    sandbox.faults.inject({ status: 529 });
    await expect(failureOf(adapter().generate(request('Summarize: the talk was good and useful.')))).resolves.toMatchObject({
      type: 'ProviderUnavailable',
      nonRetryable: false,
    });
    await expect(failureOf(adapter({ apiKey: 'revoked-key' }).generate(request('x y z')))).resolves.toMatchObject({
      type: 'ProviderAuth',
      nonRetryable: true,
    });
    await expect(failureOf(adapter().generate(request('x y z', { model: 'gpt-4' })))).resolves.toMatchObject({
      type: 'NotFound',
      nonRetryable: true,
    });
    // The SDK's own retries are off: one request per call.
    expect(sandbox.requests).toHaveLength(4);
  });

  it('a response slower than the timeout fails as retryable ProviderTimeout', async () => {
    sandbox.faults.inject({ delayMs: 1500 });
    await expect(
      failureOf(adapter({ timeoutMs: 300 }).generate(request('Summarize: the talk was good and useful.'))),
    ).resolves.toMatchObject({
      type: 'ProviderTimeout',
      nonRetryable: false,
    });
  });

  it('honours configured sandbox latency, which shows in latency_ms', async () => {
    const slow = await startAnthropicSandbox({ latencyMs: 250 });
    try {
      await adapter({ baseURL: slow.url }).generate(
        request(`Summarize:\n<transcript>${transcript}</transcript>`, { runId: 'content:slow' }),
      );
      const row = await database.db
        .selectFrom('ai_usage_logs')
        .select('latency_ms')
        .where('run_id', '=', 'content:slow')
        .executeTakeFirstOrThrow();
      expect(row.latency_ms).toBeGreaterThanOrEqual(250);
    } finally {
      await slow.stop();
    }
  });
});
