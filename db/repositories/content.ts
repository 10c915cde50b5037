import type { DbOrTx } from '../database';
import type { AiProvider, ContentType } from '../types';

/** Active content types in display order. */
export async function listContentTypes(db: DbOrTx): Promise<ContentType[]> {
  return db.selectFrom('content_types').selectAll().where('is_active', '=', true).orderBy('sort_order').execute();
}

export interface GenerationPrompt {
  id: string;
  contentTypeId: string;
  contentTypeKey: string;
  provider: AiProvider;
  model: string;
  version: number;
  systemPrompt: string;
  /** Fill with fillPromptTemplate. */
  userPromptTemplate: string;
  temperature: number;
  maxTokens: number;
}

/** The live prompt for a content type and provider; undefined for unknown keys and for the transcript (not generated). */
export async function getActivePrompt(
  db: DbOrTx,
  contentTypeKey: string,
  provider: AiProvider = 'anthropic',
): Promise<GenerationPrompt | undefined> {
  const row = await db
    .selectFrom('ai_prompts as p')
    .innerJoin('content_types as t', 't.id', 'p.content_type_id')
    .select([
      'p.id',
      'p.content_type_id',
      't.key',
      'p.ai_provider',
      'p.model',
      'p.version',
      'p.system_prompt',
      'p.user_prompt_template',
      'p.temperature',
      'p.max_tokens',
    ])
    .where('t.key', '=', contentTypeKey)
    .where('p.ai_provider', '=', provider)
    .where('p.is_active', '=', true)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    contentTypeId: row.content_type_id,
    contentTypeKey: row.key,
    provider: row.ai_provider,
    model: row.model,
    version: row.version,
    systemPrompt: row.system_prompt,
    userPromptTemplate: row.user_prompt_template,
    temperature: Number(row.temperature),
    maxTokens: row.max_tokens,
  };
}

export interface PromptValues {
  title: string;
  channel: string;
  transcript: string;
  /** Extra guidance from a regenerate request; omitted → the placeholder line disappears. */
  instructions?: string;
}

/**
 * Fills the {{title}}, {{channel}}, {{transcript}} and {{instructions}} placeholders of a seeded
 * user prompt. Values are inserted literally (a transcript containing "{{title}}" stays as is).
 */
export function fillPromptTemplate(template: string, values: PromptValues): string {
  const instructions = values.instructions?.trim();
  const byName: Record<string, string> = {
    title: values.title,
    channel: values.channel,
    transcript: values.transcript,
    instructions: instructions ? `Additional instructions from the creator: ${instructions}` : '',
  };
  const withoutEmptyInstructions = instructions ? template : template.replace(/\n\n\{\{instructions\}\}\n/, '\n');
  return withoutEmptyInstructions.replace(/\{\{(\w+)\}\}/g, (placeholder, name: string) => byName[name] ?? placeholder);
}
