import type { DbOrTx } from '../database';
import type { AiProvider, ContentType } from '../types';

/** Active content types in display order. */
export async function listContentTypes(db: DbOrTx): Promise<ContentType[]> {
  return db.selectFrom('content_types').selectAll().where('is_active', '=', true).orderBy('sort_order').execute();
}

/** An active content type by key; undefined for unknown or retired keys. */
export async function findActiveContentType(db: DbOrTx, key: string): Promise<ContentType | undefined> {
  return db.selectFrom('content_types').selectAll().where('key', '=', key).where('is_active', '=', true).executeTakeFirst();
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

const slot = (name: string) => new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`);

/**
 * The one prompt-template filler: fills the {{title}}, {{channel}}, {{transcript}} and
 * {{instructions}} placeholders of an ai_prompts user prompt. Values are inserted literally (a
 * transcript containing "{{title}}" stays as is); without instructions their placeholder line
 * goes. A template without a slot for the transcript (or for given instructions) gets it appended.
 */
export function fillPromptTemplate(template: string, values: PromptValues): string {
  const instructions = values.instructions?.trim();
  const byName: Record<string, string> = {
    title: values.title,
    channel: values.channel,
    transcript: values.transcript,
    instructions: instructions ? `Additional instructions from the creator: ${instructions}` : '',
  };
  const withoutEmptyInstructions = instructions ? template : template.replace(/\n\n\{\{\s*instructions\s*\}\}\n/, '\n');
  let prompt = withoutEmptyInstructions.replace(/\{\{\s*(\w+)\s*\}\}/g, (placeholder, name: string) => byName[name] ?? placeholder);
  if (!slot('transcript').test(template)) prompt += `\n\n<transcript>\n${values.transcript}\n</transcript>`;
  if (instructions && !slot('instructions').test(template)) prompt += `\n\n${byName.instructions}`;
  return prompt;
}
