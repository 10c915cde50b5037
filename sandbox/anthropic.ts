import { createHash } from 'node:crypto';
import { createSandboxServer, HttpError, type RouteRequest, type SandboxServer, type SandboxDefinition } from './http';

/**
 * Anthropic Messages API sandbox (`POST /v1/messages`). The answer is an extract of the
 * prompt's own most informative sentences (the transcript it carries), shaped like the
 * output the prompt asks for (JSON template, markdown headings, numbered items, bullets),
 * with usage counted at ~4 characters per token. Same request → same answer.
 */

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export function anthropicErrorBody(status: number, message: string) {
  return { type: 'error', error: { type: ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message } };
}

const CHARS_PER_TOKEN = 4;
export const estimateTokens = (text: string) => Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));

const STOPWORDS = new Set(
  'about above after again against also because been before being below between both could does doing down during each from further have having here hers herself himself into itself just more most myself once only other ought ours ourselves over same should some such than that their theirs them themselves then there these they this those through under until very what when where which while whom will with would your yours yourself yourselves actually really going thing things want know think like make sure okay alright today video everyone welcome back'.split(
    ' ',
  ),
);
const INSTRUCTION_START =
  /^(you are|you're|write|create|generate|return|respond|use|include|format|make|keep|do not|don't|please|given|based on|output|produce|summari[sz]e|answer|avoid|ensure|list|provide)\b/i;

type Block = { type?: string; text?: string };
const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? (content as Block[]).map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('\n')
      : '';

/** The material to extract from: a tagged/labelled transcript if there is one, else the prompt minus its instruction lines. */
function sourceText(prompt: string): string {
  const tagged = /<(transcript|content|source|text)>([\s\S]*?)<\/\1>/i.exec(prompt)?.[2];
  if (tagged) return tagged;
  const labelled = /^(?:transcript|content|source|text)\s*:\s*$([\s\S]+)/im.exec(prompt)?.[1];
  if (labelled) return labelled;
  return prompt
    .split('\n')
    .filter((line) => {
      const l = line.trim();
      return l.split(/\s+/).length >= 6 && !INSTRUCTION_START.test(l) && !l.startsWith('#') && !/[{}[\]]/.test(l);
    })
    .join('\n');
}

function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+(?=[A-Z0-9"'])/)
    .map((s) => s.trim())
    .filter((s) => {
      const words = s.split(' ').length;
      return words >= 5 && words <= 50;
    });
}

const contentWords = (s: string) => (s.toLowerCase().match(/[a-z][a-z'-]{3,}/g) ?? []).filter((w) => !STOPWORDS.has(w));

const similarity = (a: Set<string>, b: Set<string>) => {
  let shared = 0;
  for (const w of a) if (b.has(w)) shared += 1;
  return shared / Math.max(1, Math.min(a.size, b.size));
};

/**
 * Sentences ranked by how many of the text's frequent content words they carry (numbers earn
 * a bonus), with near-repeats of an already chosen sentence pushed to the end so an extract
 * covers different points.
 */
export function rankSentences(text: string): string[] {
  const all = [...new Set(sentences(text))];
  const freq = new Map<string, number>();
  for (const s of all) for (const w of new Set(contentWords(s))) freq.set(w, (freq.get(w) ?? 0) + 1);
  const score = (s: string) => {
    const words = [...new Set(contentWords(s))];
    const weight = words.reduce((sum, w) => sum + Math.log(1 + (freq.get(w) ?? 0)), 0);
    return weight / Math.sqrt(s.split(' ').length) + (/\d/.test(s) ? 0.5 : 0);
  };
  const byScore = all
    .map((s, i) => ({ s, i, score: score(s), words: new Set(contentWords(s)) }))
    .sort((a, b) => b.score - a.score || a.i - b.i);
  const chosen: typeof byScore = [];
  const repeats: typeof byScore = [];
  for (const candidate of byScore) (chosen.some((c) => similarity(c.words, candidate.words) > 0.5) ? repeats : chosen).push(candidate);
  return [...chosen, ...repeats].map(({ s }) => s);
}

/** Takes the top `n` sentences and puts them back in their original order, so the extract reads in sequence. */
function inOrder(ranked: string[], n: number, original: string): string[] {
  return ranked.slice(0, n).sort((a, b) => original.indexOf(a) - original.indexOf(b));
}

function titleFrom(sentence: string | undefined): string {
  if (!sentence) return 'Summary';
  const words = sentence.replace(/[.!?]+$/, '').split(' ');
  const short = words.slice(0, 9).join(' ');
  return (short.charAt(0).toUpperCase() + short.slice(1)).replace(/[,;:]$/, '');
}

/** Fills a JSON example from the prompt: strings get sentences, string arrays get lists, other values stay. */
function fillTemplate(template: unknown, take: () => string): unknown {
  if (typeof template === 'string') return /title|headline|name/i.test(template) ? titleFrom(take()) : take();
  if (Array.isArray(template)) {
    const [first] = template as unknown[];
    return typeof first === 'string' || first === undefined ? [take(), take(), take()] : template.map((t) => fillTemplate(t, take));
  }
  if (template && typeof template === 'object') {
    return Object.fromEntries(
      Object.entries(template).map(([k, v]) => [
        k,
        typeof v === 'string' && /title|headline|name|hook/i.test(k) ? titleFrom(take()) : fillTemplate(v, take),
      ]),
    );
  }
  return template;
}

function jsonTemplate(instructions: string): unknown {
  const candidate = /```(?:json)?\s*([[{][\s\S]*?[\]}])\s*```/.exec(instructions)?.[1] ?? /(\{[\s\S]*\})/.exec(instructions)?.[1];
  if (!candidate) return undefined;
  try {
    return JSON.parse(candidate);
  } catch {
    return undefined;
  }
}

const POSITIVE =
  /\b(love|loved|great|amazing|awesome|thanks|thank you|helpful|beautiful|best|perfect|fantastic|wonderful|nice|cool|brilliant|excellent|inspiring|glad)\b/gi;
const NEGATIVE =
  /\b(hate|hated|bad|awful|terrible|worst|boring|scam|ugly|useless|disappointed|disappointing|waste|annoying|fake|broken|poor|rude|never again)\b/gi;

/**
 * Sentiment of the comments in `<comments>[{id, text}]</comments>`, by counting positive and
 * negative words: a JSON array of `{ id, sentiment, score }` (score −1…1) in the order given.
 */
export function classifySentiments(prompt: string): string | undefined {
  const listed = /<comments>([\s\S]*?)<\/comments>/i.exec(prompt)?.[1];
  if (!listed) return undefined;
  let items: Array<{ id?: unknown; text?: unknown }>;
  try {
    items = JSON.parse(listed) as Array<{ id?: unknown; text?: unknown }>;
  } catch {
    return undefined;
  }
  return JSON.stringify(
    items.map((item) => {
      const text = typeof item.text === 'string' ? item.text : '';
      const balance = (text.match(POSITIVE)?.length ?? 0) - (text.match(NEGATIVE)?.length ?? 0);
      const score = Math.max(-1, Math.min(1, balance / 2));
      return { id: item.id, sentiment: balance > 0 ? 'positive' : balance < 0 ? 'negative' : 'neutral', score };
    }),
  );
}

/** The deterministic "model": an extract of the prompt shaped by what the system prompt and prompt ask for. */
export function composeAnswer(system: string, prompt: string, maxTokens: number): string {
  const instructions = `${system}\n${prompt}`;
  if (/classify the sentiment/i.test(instructions)) {
    const sentiments = classifySentiments(prompt);
    if (sentiments) return sentiments;
  }
  const source = sourceText(prompt);
  const ranked = rankSentences(source);
  const budget = Math.min(12, Math.max(1, Math.floor((maxTokens * CHARS_PER_TOKEN) / 160)));
  if (ranked.length === 0) return 'There is not enough source material in the request to work from.';
  let cursor = 0;
  const take = () => ranked[cursor++ % ranked.length] as string;

  if (/\bjson\b/i.test(instructions)) {
    const template = jsonTemplate(instructions);
    const filled =
      template === undefined
        ? {
            title: titleFrom(take()),
            summary: inOrder(ranked, Math.min(3, budget), source).join(' '),
            key_points: [take(), take(), take()],
          }
        : fillTemplate(template, take);
    return JSON.stringify(filled, null, 2);
  }
  const headings = [...instructions.matchAll(/^(#{1,4}) +(.+)$/gm)].map((m) => `${m[1]} ${m[2]?.trim()}`);
  const bullets = /\bbullet|key points|takeaways\b/i.test(instructions);
  if (headings.length > 0) {
    const perHeading = Math.max(1, Math.floor(budget / headings.length));
    return headings
      .map((h) => {
        const picked = Array.from({ length: perHeading }, take);
        return `${h}\n\n${bullets ? picked.map((s) => `- ${s}`).join('\n') : picked.join(' ')}`;
      })
      .join('\n\n');
  }
  const counted =
    /\b(\d{1,2})\s+(?:\w+\s+)?(titles|ideas|hooks|tweets|posts|captions|questions|tips|points|headlines|clips|moments)\b/i.exec(
      instructions,
    );
  if (counted) {
    const n = Math.min(20, Number(counted[1]));
    const short = /titles|headlines|hooks/i.test(counted[2] ?? '');
    return Array.from({ length: n }, (_, i) => `${i + 1}. ${short ? titleFrom(take()) : take()}`).join('\n');
  }
  if (bullets)
    return `${titleFrom(ranked[0])}\n\n${inOrder(ranked, budget, source)
      .map((s) => `- ${s}`)
      .join('\n')}`;
  const picked = inOrder(ranked, budget, source);
  const half = Math.ceil(picked.length / 2);
  return [picked.slice(0, half).join(' '), picked.slice(half).join(' ')].filter(Boolean).join('\n\n');
}

export interface AnthropicSandboxOptions {
  port?: number;
  /** Fixed delay before every answer, plus a per-output-token delay, to feel like a real model. */
  latencyMs?: number;
  msPerOutputToken?: number;
}

interface MessagesBody {
  model?: unknown;
  max_tokens?: unknown;
  system?: unknown;
  messages?: Array<{ role?: string; content?: unknown }>;
}

function validate(req: RouteRequest): { model: string; maxTokens: number; system: string; prompt: string; inputChars: number } {
  // The SDK sends the key as `Authorization: Bearer`; older clients and curl use x-api-key.
  const header = req.headers['x-api-key'];
  const key = typeof header === 'string' && header ? header : req.headers.authorization?.replace(/^Bearer /, '');
  if (!key) throw new HttpError(401, 'x-api-key or Authorization header is required');
  if (key.startsWith('revoked')) throw new HttpError(401, 'invalid x-api-key');
  const body = req.json<MessagesBody>() ?? {};
  if (typeof body.model !== 'string' || !body.model) throw new HttpError(400, 'model: Field required');
  if (!body.model.startsWith('claude-')) throw new HttpError(404, `model: ${body.model}`);
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1)
    throw new HttpError(400, 'max_tokens: must be a positive integer');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw new HttpError(400, 'messages: at least one message is required');
  const system = textOf(body.system);
  const prompt = body.messages
    .filter((m) => m.role === 'user')
    .map((m) => textOf(m.content))
    .join('\n\n');
  const inputChars = system.length + body.messages.reduce((n, m) => n + textOf(m.content).length, 0);
  return { model: body.model, maxTokens: body.max_tokens, system, prompt, inputChars };
}

export async function startAnthropicSandbox(options: AnthropicSandboxOptions = {}): Promise<SandboxServer> {
  return createSandboxServer({
    name: 'anthropic',
    port: options.port,
    errorBody: anthropicErrorBody,
    routes: [
      {
        method: 'POST',
        path: '/v1/messages',
        async handle(req) {
          const { model, maxTokens, system, prompt, inputChars } = validate(req);
          const full = composeAnswer(system, prompt, maxTokens);
          const limit = maxTokens * CHARS_PER_TOKEN;
          const text = full.length > limit ? full.slice(0, limit) : full;
          const outputTokens = estimateTokens(text);
          const delay = (options.latencyMs ?? 0) + (options.msPerOutputToken ?? 0) * outputTokens;
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          const id = createHash('sha256').update(`${model}\n${system}\n${prompt}`).digest('base64url').slice(0, 24);
          return {
            headers: { 'request-id': `req_${id}` },
            json: {
              id: `msg_${id}`,
              type: 'message',
              role: 'assistant',
              model,
              content: [{ type: 'text', text }],
              stop_reason: full.length > limit ? 'max_tokens' : 'end_turn',
              stop_sequence: null,
              usage: {
                input_tokens: Math.max(1, Math.ceil(inputChars / CHARS_PER_TOKEN)),
                output_tokens: outputTokens,
                cache_creation_input_tokens: 0,
                cache_read_input_tokens: 0,
                service_tier: 'standard',
              },
            },
          };
        },
      },
    ],
  });
}

export const anthropicSandbox: SandboxDefinition = {
  name: 'anthropic',
  enabled: (config) => !config.ANTHROPIC_API_KEY,
  // A little latency in `npm start` so progress and timeouts behave as they will against the real API.
  start: () => startAnthropicSandbox({ latencyMs: 150, msPerOutputToken: 0.5 }),
};
