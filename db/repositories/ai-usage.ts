import type { DbOrTx } from '../database';

export interface AiUsageEntry {
  userId: string | null;
  runId: string | null;
  provider: string;
  model: string;
  operation: string;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
  latencyMs: number;
  metadata?: Record<string, unknown>;
}

export async function recordAiUsage(db: DbOrTx, entry: AiUsageEntry): Promise<void> {
  await db
    .insertInto('ai_usage_logs')
    .values({
      user_id: entry.userId,
      run_id: entry.runId,
      provider: entry.provider,
      model: entry.model,
      operation: entry.operation,
      input_tokens: entry.inputTokens,
      output_tokens: entry.outputTokens,
      cost_micro_usd: entry.costMicroUsd,
      latency_ms: entry.latencyMs,
      metadata: entry.metadata === undefined ? null : JSON.stringify(entry.metadata),
    })
    .execute();
}
