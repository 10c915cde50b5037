import type { DbOrTx } from '../database';

/** The model new prompts name; matches lib/config.ts ANTHROPIC_MODEL's default and its price table. */
export const DEFAULT_PROMPT_MODEL = 'claude-sonnet-4-6';

/** Shared ground rules every generation starts from: faithful to the video, no invented facts, Markdown out. */
const GROUND_RULES = [
  "You turn a YouTube video transcript into polished written content for the video's creator.",
  'Work only from the transcript: never invent facts, numbers, names, quotes or links that it does not contain.',
  "Write in the creator's voice (first person where the creator speaks in first person) and in the transcript's language.",
  'Transcripts come from captions: ignore filler words, false starts and caption artefacts such as [Music].',
  'Answer with the requested content only, as GitHub-flavoured Markdown, with no preamble and no closing remarks.',
].join(' ');

/**
 * The user message: video facts, the transcript between tags (so instructions inside it are data,
 * not commands), optional extra instructions from a regenerate request, then the task.
 */
function userPrompt(task: string): string {
  return [
    'Video title: {{title}}',
    'Channel: {{channel}}',
    '',
    '<transcript>',
    '{{transcript}}',
    '</transcript>',
    '',
    '{{instructions}}',
    '',
    `Task: ${task}`,
  ].join('\n');
}

interface ContentTypeSeed {
  key: string;
  name: string;
  icon: string;
  description: string;
  /** Absent for the transcript, which is stored rather than generated. */
  prompt?: { role: string; task: string; temperature: number; maxTokens: number };
}

export const CONTENT_TYPE_SEEDS: readonly ContentTypeSeed[] = [
  {
    key: 'transcript',
    name: 'Transcript',
    icon: '📜',
    description: 'The full transcript of the video, cleaned of caption artefacts.',
  },
  {
    key: 'summary',
    name: 'Summary',
    icon: '📝',
    description: 'A short overview of what the video covers and its key takeaways.',
    prompt: {
      role: 'You are an editor who writes crisp, accurate summaries.',
      task: 'Write a summary of the video: one opening paragraph (2-3 sentences) saying what it is about and who it is for, then "## Key takeaways" with 3-7 bullet points, each one concrete idea from the video, then one sentence on the main conclusion. Stay under 350 words.',
      temperature: 0.3,
      maxTokens: 1024,
    },
  },
  {
    key: 'chapters',
    name: 'Chapters',
    icon: '🔖',
    description: 'YouTube-ready chapter timestamps with titles.',
    prompt: {
      role: 'You are a YouTube producer who writes chapter markers viewers actually use.',
      task: 'List the video\'s chapters, one per line, as "MM:SS Title" (or "H:MM:SS" past an hour). The first chapter starts at 00:00. Use the [mm:ss] marks in the transcript for timings; where there are none, estimate from the position in the transcript. Make 4-12 chapters, each at least 10 seconds long, with titles of at most 6 words that name the topic, not "Part 2". Output only the list.',
      temperature: 0.2,
      maxTokens: 1024,
    },
  },
  {
    key: 'blog_post',
    name: 'Blog Post',
    icon: '✍️',
    description: 'An SEO-friendly long-form article based on the video.',
    prompt: {
      role: 'You are a senior content writer who turns talks into search-friendly articles.',
      task: 'Write a blog post of 900-1400 words based on the video. Start with an H1 title (different from the video title, at most 65 characters), then an introduction with a hook, then 3-6 H2 sections following the video\'s structure, with bullet lists or numbered steps where the video gives steps, and a conclusion with one clear call to action to watch the full video. After the article, add "---" and a meta description of at most 155 characters.',
      temperature: 0.7,
      maxTokens: 4096,
    },
  },
  {
    key: 'social_posts',
    name: 'Social Media Posts',
    icon: '📣',
    description: 'Ready-to-post copy for X/Twitter, LinkedIn, Instagram and Facebook.',
    prompt: {
      role: 'You are a social media manager who writes platform-native posts.',
      task: 'Write promotional posts for the video: "## X / Twitter" three posts of at most 270 characters each; "## LinkedIn" one post of 120-200 words with short paragraphs; "## Instagram" one caption of 80-150 words ending with 5-10 relevant hashtags; "## Facebook" one post of 60-120 words. Each post leads with a hook taken from a real idea in the video and ends with a reason to watch. No more than two emoji per post.',
      temperature: 0.8,
      maxTokens: 2048,
    },
  },
  {
    key: 'quotes',
    name: 'Quotes',
    icon: '💬',
    description: 'The most quotable lines from the video, verbatim.',
    prompt: {
      role: 'You are an editor who finds the lines people share.',
      task: 'Pick the 5-10 most quotable lines from the transcript. Quote them verbatim (only trim filler words and fix caption punctuation), each as a Markdown blockquote, followed by a line "— context: ..." of at most 15 words saying what the speaker was talking about, and the [mm:ss] mark when the transcript has one. Prefer lines that stand on their own, are surprising or practical, and are under 40 words.',
      temperature: 0.2,
      maxTokens: 1536,
    },
  },
  {
    key: 'newsletter',
    name: 'Newsletter',
    icon: '📧',
    description: 'An email newsletter issue built around the video.',
    prompt: {
      role: 'You are an email marketer who writes newsletters people open and read.',
      task: 'Write a newsletter issue about the video: "Subject:" line (at most 50 characters) and "Preview:" line (at most 90 characters), then a greeting, a personal 2-3 sentence opening, "## This week" with the 3 most useful ideas from the video as short sections, one practical tip readers can apply today, and a sign-off with a call to action to watch the video. 350-600 words.',
      temperature: 0.6,
      maxTokens: 2048,
    },
  },
  {
    key: 'linkedin_article',
    name: 'LinkedIn Article',
    icon: '💼',
    description: 'A professional thought-leadership article for LinkedIn.',
    prompt: {
      role: 'You are a ghostwriter for professionals publishing thought leadership on LinkedIn.',
      task: 'Write a LinkedIn article of 700-1000 words from the video\'s strongest argument. A headline of at most 100 characters, an opening that states a point of view in two sentences, 3-5 H2 sections with lessons and evidence from the video, a short "What this means for you" section, and a closing question that invites comments. Professional, direct, no hashtags in the body; end with 3 hashtags on their own line.',
      temperature: 0.7,
      maxTokens: 3072,
    },
  },
  {
    key: 'podcast_script',
    name: 'Podcast Script',
    icon: '🎙️',
    description: 'A solo podcast episode script adapted from the video.',
    prompt: {
      role: 'You are a podcast producer who adapts video content for audio.',
      task: 'Write a solo podcast episode script (about 8-12 minutes spoken, 1200-1700 words) adapted from the video. Sections: "## Cold open" (a 2-3 sentence hook), "## Intro" (episode title and what listeners will get), 3-5 "## Segment" sections in conversational spoken language, with [PAUSE] and [MUSIC STING] cues where natural and any visual references rewritten so they work without pictures, then "## Outro" with a recap and call to action. Write for the ear: short sentences, no bullet lists.',
      temperature: 0.7,
      maxTokens: 4096,
    },
  },
  {
    key: 'quiz',
    name: 'Quiz',
    icon: '❓',
    description: 'A multiple-choice quiz that checks understanding of the video.',
    prompt: {
      role: 'You are an instructional designer who writes fair assessment questions.',
      task: 'Write a 10-question multiple-choice quiz on the video. Number each question; give options A-D with exactly one correct answer and plausible distractors drawn from the video\'s topic; mix recall and application questions in the order the video covers them. After all questions add "## Answer key" listing each number, the correct letter and a one-sentence explanation citing what the video says.',
      temperature: 0.3,
      maxTokens: 3072,
    },
  },
  {
    key: 'study_guide',
    name: 'Study Guide',
    icon: '📚',
    description: 'A structured study guide with concepts, terms and review questions.',
    prompt: {
      role: 'You are a teacher who writes study guides students rely on before exams.',
      task: 'Write a study guide for the video: "## Learning objectives" (3-5, starting with a verb), "## Key concepts" (each concept with a 2-4 sentence explanation in plain language), "## Glossary" (terms the video uses, with definitions as the video uses them), "## Summary" (one paragraph), and "## Review questions" (5 open questions, answers not given). Only include terms and concepts that appear in the video.',
      temperature: 0.3,
      maxTokens: 3072,
    },
  },
  {
    key: 'discussion_guide',
    name: 'Discussion Guide',
    icon: '🗣️',
    description: 'Questions and prompts for a class, team or book-club style discussion.',
    prompt: {
      role: 'You are a facilitator who designs discussions that get everyone talking.',
      task: 'Write a discussion guide for a group that has watched the video: a 2-3 sentence "## Overview" for the facilitator, "## Warm-up" (2 easy questions), "## Deeper discussion" (6-8 open questions, each tied to a specific idea or moment from the video, with a one-line note on what it explores), "## Activity" (one 10-15 minute exercise applying the ideas) and "## Closing reflection" (1 question). Questions must be open, not yes/no.',
      temperature: 0.5,
      maxTokens: 2048,
    },
  },
  {
    key: 'group_chat_guide',
    name: 'Group Chat Guide',
    icon: '👥',
    description: 'Short conversation starters to share the video in a community or group chat.',
    prompt: {
      role: 'You are a community manager who keeps group chats lively.',
      task: 'Write a group chat guide for sharing the video in a community (Discord, WhatsApp, Slack): one intro message of at most 60 words to post with the link, then 6 follow-up conversation starters of at most 30 words each, spread over the video\'s ideas (a poll idea, a "hot take", a "how would you apply this", a personal-experience question), and one message that recaps the discussion. Friendly, casual, at most one emoji per message.',
      temperature: 0.5,
      maxTokens: 1536,
    },
  },
  {
    key: 'slide_deck',
    name: 'Slide Deck',
    icon: '📊',
    description: 'A slide-by-slide presentation outline with speaker notes.',
    prompt: {
      role: 'You are a presentation designer who builds clear, visual decks.',
      task: 'Outline a 10-15 slide presentation of the video. For each slide write "## Slide N: Title", 3-5 bullets of at most 12 words each, a "Visual:" line suggesting an image, chart or diagram, and "Notes:" with 2-4 sentences the presenter would say. Slide 1 is a title slide, the second an agenda, the last a summary with a call to action.',
      temperature: 0.4,
      maxTokens: 4096,
    },
  },
  {
    key: 'ebook',
    name: 'eBook Outline',
    icon: '📖',
    description: 'An outline for a short eBook or lead magnet expanding on the video.',
    prompt: {
      role: 'You are a non-fiction book editor who structures lead-magnet eBooks.',
      task: 'Outline a short eBook (5-8 chapters) that expands the video into a lead magnet: a working title and subtitle, a one-paragraph promise to the reader, then per chapter "## Chapter N: Title", a 2-3 sentence synopsis, 3-5 section headings and the key example or exercise from the video it uses. End with "## Bonus resources" suggesting 2-3 checklists or templates the reader could download. Mark clearly where the video gives no material and the creator must add their own.',
      temperature: 0.6,
      maxTokens: 3072,
    },
  },
  {
    key: 'marketing_funnel',
    name: 'Marketing Funnel',
    icon: '🎯',
    description: 'A funnel plan turning the video into awareness, consideration and conversion assets.',
    prompt: {
      role: 'You are a growth marketer who builds content funnels for creators.',
      task: 'Design a marketing funnel around the video. "## Audience" (who it serves and their problem, in 2-3 sentences), then "## Top of funnel" (3 short-form content ideas with hooks), "## Middle of funnel" (a lead magnet idea and its landing page headline and 3 bullets), "## Bottom of funnel" (an offer angle and a 3-email nurture sequence with subject lines and one-sentence summaries), "## Metrics" (one KPI per stage). Base every asset on ideas from the video; do not invent products or prices.',
      temperature: 0.7,
      maxTokens: 3072,
    },
  },
  {
    key: 'social_carousel',
    name: 'Social Carousel',
    icon: '🎠',
    description: 'Slide-by-slide copy for an Instagram or LinkedIn carousel.',
    prompt: {
      role: 'You are a social designer who writes carousels people save and share.',
      task: 'Write an 8-10 slide carousel from the video: "Slide 1" a scroll-stopping hook of at most 10 words, middle slides each one idea with a headline of at most 8 words and body text of at most 30 words, the last slide a recap and call to action (save, share, watch the video). After the slides add a caption of at most 120 words and 5 hashtags. Each slide on its own line starting "Slide N:".',
      temperature: 0.7,
      maxTokens: 2048,
    },
  },
];

export async function seedContentTypes(db: DbOrTx): Promise<void> {
  for (const [index, type] of CONTENT_TYPE_SEEDS.entries()) {
    const row = {
      name: type.name,
      description: type.description,
      icon: type.icon,
      requires_ai: type.prompt !== undefined,
      is_active: true,
      sort_order: index,
    };
    const { id: contentTypeId } = await db
      .insertInto('content_types')
      .values({ key: type.key, ...row })
      .onConflict((oc) => oc.column('key').doUpdateSet(row))
      .returning('id')
      .executeTakeFirstOrThrow();
    if (!type.prompt) continue;

    // Version 1 is owned by this seed; a better prompt ships as a new version row (and deactivates this one).
    const prompt = {
      name: `${type.name} (v1)`,
      description: type.description,
      model: DEFAULT_PROMPT_MODEL,
      system_prompt: `${type.prompt.role} ${GROUND_RULES}`,
      user_prompt_template: userPrompt(type.prompt.task),
      temperature: type.prompt.temperature,
      max_tokens: type.prompt.maxTokens,
    };
    await db
      .insertInto('ai_prompts')
      .values({ content_type_id: contentTypeId, ai_provider: 'anthropic', version: 1, is_active: true, ...prompt })
      .onConflict((oc) => oc.columns(['content_type_id', 'ai_provider', 'version']).doUpdateSet(prompt))
      .execute();
  }
}
