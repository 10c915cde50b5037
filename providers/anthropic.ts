import Anthropic from '@anthropic-ai/sdk';
import type { Db } from '../db/database';
import { recordAiUsage } from '../db/repositories/ai-usage';
import type { Logger } from '../lib/logger';
import type { ProviderMetrics } from '../lib/metrics';
import type { ProviderCall } from './call';

export interface GenerateRequest {
  /** Defaults to the configured ANTHROPIC_MODEL. */
  model?: string;
  /** The system message (from ai_prompts). */
  system?: string;
  prompt: string;
  maxTokens: number;
  userId: string | null;
  runId: string | null;
  /** What the text is for, e.g. `content.blog_post`; groups cost reports. */
  operation: string;
}

export interface GenerateResult {
  text: string;
  model: string;
  usage: { inputTokens: number; outputTokens: number };
  costMicroUsd: number;
  /** `max_tokens` means the text was cut off. */
  stopReason: string | null;
}

/**
 * Text generation through messages.create. No `temperature`: @anthropic-ai/sdk 1.12 no longer
 * accepts sampling parameters on messages.create, so an ai_prompts temperature is not sent.
 */
export interface AnthropicAdapter {
  generate(request: GenerateRequest): Promise<GenerateResult>;
}

export type PriceTable = Record<string, { input: number; output: number }>;

export interface AnthropicAdapterOptions {
  apiKey: string;
  baseURL?: string;
  timeoutMs: number;
  defaultModel: string;
  /** USD per million tokens, which is exactly micro-USD per token. */
  prices: PriceTable;
  db: Db;
  logger: Logger;
  call: ProviderCall;
  /** Tokens and cost per model (the worker's metrics). */
  metrics?: ProviderMetrics;
}

/** The price entry for a model id, also for dated snapshots (`claude-sonnet-4-5-20250929`). */
export function priceFor(prices: PriceTable, model: string): { input: number; output: number } | undefined {
  const key = Object.keys(prices)
    .filter((k) => model === k || model.startsWith(`${k}-`))
    .sort((a, b) => b.length - a.length)[0];
  return key ? prices[key] : undefined;
}

interface UsageCounts {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Integer micro-USD; cache writes cost 1.25× and cache reads 0.1× the input price (Anthropic's list multipliers). */
export function costMicroUsd(price: { input: number; output: number }, usage: UsageCounts): number {
  const input = usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) * 1.25 + (usage.cache_read_input_tokens ?? 0) * 0.1;
  return Math.round(input * price.input + usage.output_tokens * price.output);
}

export function createAnthropicAdapter(options: AnthropicAdapterOptions): AnthropicAdapter {
  // Retries are Temporal's job: the SDK's own would hide 429s and double the activity's time budget.
  const client = new Anthropic({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 0, timeout: options.timeoutMs });

  return {
    async generate(request) {
      const model = request.model ?? options.defaultModel;
      const started = Date.now();
      const message = await options.call(() =>
        client.messages.create({
          model,
          max_tokens: request.maxTokens,
          system: request.system,
          messages: [{ role: 'user', content: request.prompt }],
        }),
      );
      const latencyMs = Date.now() - started;
      const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
      const price = priceFor(options.prices, message.model);
      if (!price) options.logger.warn({ model: message.model }, 'no price for model: usage logged at zero cost');
      const cost = price ? costMicroUsd(price, message.usage) : 0;
      const usage = { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens };
      await recordAiUsage(options.db, {
        userId: request.userId,
        runId: request.runId,
        provider: 'anthropic',
        model: message.model,
        operation: request.operation,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        costMicroUsd: cost,
        latencyMs,
        metadata: { requestId: message.id, stopReason: message.stop_reason },
      });
      options.metrics?.aiUsage('anthropic', message.model, { ...usage, costUsd: cost / 1e6 });
      return { text, model: message.model, usage, costMicroUsd: cost, stopReason: message.stop_reason };
    },
  };
}
