import { createHash } from 'node:crypto';

/**
 * Deterministic synthetic creator content for the YouTube sandbox: the same seed (a video
 * id) always gives the same title, tags and spoken transcript, which reads like a real talk
 * so summaries, clips and captions built from it look plausible in demos.
 */

/** A seeded PRNG (mulberry32) over the first 4 bytes of sha256(seed). */
export function seededRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
export const between = (rand: () => number, min: number, max: number): number => min + Math.floor(rand() * (max - min + 1));

interface Topic {
  title: string;
  tags: string[];
  subject: string;
  tactics: string[];
  mistakes: string[];
  insights: string[];
  metrics: string[];
}

const TOPICS: Topic[] = [
  {
    title: 'Thumbnails That Actually Get Clicked',
    tags: ['thumbnails', 'youtube growth', 'click through rate', 'design'],
    subject: 'thumbnail design',
    tactics: [
      'using one face and no more than three words',
      'testing two versions against each other for a full week',
      'pushing the contrast until it looks almost too loud on a phone',
      'designing the thumbnail before I even film the video',
    ],
    mistakes: [
      'cramming the whole title into the image',
      'copying whatever the biggest channel in the niche is doing',
      'choosing a frame from the video instead of shooting one on purpose',
    ],
    insights: [
      'the thumbnail is the promise and the first thirty seconds are where you keep it',
      'people decide in about a second, so clarity beats cleverness every time',
      'a thumbnail that confuses nobody will outperform one that impresses designers',
    ],
    metrics: ['click-through rate', 'impressions', 'returning viewers'],
  },
  {
    title: 'My Editing Workflow for Faster Uploads',
    tags: ['video editing', 'workflow', 'productivity', 'premiere pro'],
    subject: 'editing',
    tactics: [
      'cutting the silences with a script before I touch the timeline',
      'keeping one project template with every preset already loaded',
      'editing in three passes: story, pacing, then polish',
      'batching all the B-roll searches into one session',
    ],
    mistakes: [
      'trying to make every transition perfect on the first pass',
      'editing without a clear outline',
      'spending an hour on colour grading that nobody notices',
    ],
    insights: [
      'pacing matters far more than fancy effects',
      'a finished video beats a perfect draft that never goes live',
      'your audience forgives rough edges but not boring stretches',
    ],
    metrics: ['average view duration', 'upload frequency', 'hours spent per video'],
  },
  {
    title: 'Turning One Long Video Into Ten Shorts',
    tags: ['shorts', 'repurposing', 'tiktok', 'short form content'],
    subject: 'repurposing long videos into shorts',
    tactics: [
      'marking every moment with a strong opinion while I record',
      'reframing the best clips to vertical with captions burned in',
      'opening each short with the payoff instead of the setup',
      'posting the clips over two weeks instead of all at once',
    ],
    mistakes: [
      'just chopping the video into equal pieces',
      'leaving the intro music in the clip',
      'forgetting that most people watch shorts with the sound off',
    ],
    insights: [
      'a good short stands on its own without the original video',
      'the first two seconds decide whether anyone stays',
      'shorts bring new people in, long videos turn them into an audience',
    ],
    metrics: ['views per short', 'subscribers from shorts', 'profile visits'],
  },
  {
    title: 'How I Landed My First Brand Deals',
    tags: ['brand deals', 'sponsorships', 'monetization', 'creator business'],
    subject: 'brand partnerships',
    tactics: [
      'building a one-page media kit with real numbers',
      'pitching brands I already used and could talk about honestly',
      'offering a package of one video and three shorts',
      'reporting the results back to the brand without being asked',
    ],
    mistakes: [
      'quoting a price based on subscriber count alone',
      'accepting every offer in the first month',
      'letting the sponsor write the script',
    ],
    insights: [
      'brands pay for trust, not for reach',
      'the second deal with the same brand is always easier than the first',
      'saying no to the wrong sponsor protects the channel',
    ],
    metrics: ['sponsor revenue', 'conversion rate', 'repeat partners'],
  },
  {
    title: 'Growing an Email List From YouTube',
    tags: ['email marketing', 'newsletter', 'audience building', 'lead magnet'],
    subject: 'building an email list',
    tactics: [
      'giving away a checklist that matches the video exactly',
      'mentioning the newsletter at the moment the viewer needs it',
      'sending one useful email a week at the same time',
      'asking new subscribers a single question in the welcome email',
    ],
    mistakes: [
      'putting the signup link only in the description',
      'sending nothing for months and then a sales pitch',
      'treating the list like a second social feed',
    ],
    insights: [
      'an email list is the only audience the algorithm cannot take away',
      'people open emails from someone who helped them last week',
      'a small engaged list beats a huge silent one',
    ],
    metrics: ['signups per video', 'open rate', 'replies'],
  },
  {
    title: 'Filming a Month of Content in One Weekend',
    tags: ['batch filming', 'content planning', 'consistency', 'creator tips'],
    subject: 'batch filming',
    tactics: [
      'writing every outline before the filming day',
      'changing shirts between videos so the set feels fresh',
      'keeping the lights and camera settings fixed all weekend',
      'recording the intros last when the energy is highest',
    ],
    mistakes: [
      'planning more videos than the weekend can hold',
      'skipping breaks and sounding tired by the fourth video',
      'not checking the audio until everything is filmed',
    ],
    insights: [
      'consistency comes from systems, not motivation',
      'a calm schedule makes better videos than a frantic one',
      'the upload calendar is easier to keep when the hard part is already done',
    ],
    metrics: ['videos per month', 'missed upload days', 'audience retention'],
  },
];

const OPENERS = ['Okay, so', 'Alright,', 'Here is the thing:', 'Honestly,', 'So', 'Now,', 'Look,'];
const DURATIONS = ['two weeks', 'about three months', 'almost a year', 'way too long'];

function sentence(rand: () => number, topic: Topic): string {
  const n = between(rand, 3, 48);
  const templates = [
    () => `The biggest mistake I see with ${topic.subject} is ${pick(rand, topic.mistakes)}.`,
    () =>
      `When I started, I kept ${pick(rand, topic.mistakes)}, and it took me ${pick(rand, DURATIONS)} to realise ${pick(rand, topic.insights)}.`,
    () => `${pick(rand, OPENERS)} what actually worked for me was ${pick(rand, topic.tactics)}.`,
    () => `If you only remember one thing from this video, remember that ${pick(rand, topic.insights)}.`,
    () => `We tested this across ${n} videos and our ${pick(rand, topic.metrics)} went up by ${between(rand, 8, 60)} percent.`,
    () => `A lot of people ask me about ${topic.subject}, and my answer is always the same: start with ${pick(rand, topic.tactics)}.`,
    () => `The reason this works is simple: ${pick(rand, topic.insights)}.`,
    () => `Stop ${pick(rand, topic.mistakes)}; it costs you more ${pick(rand, topic.metrics)} than you think.`,
    () =>
      `My process now is ${pick(rand, topic.tactics)}, and then I look at the ${pick(rand, topic.metrics)} after ${between(rand, 2, 14)} days.`,
    () => `I know it sounds obvious, but ${pick(rand, topic.insights)}.`,
  ];
  return pick(rand, templates)();
}

export interface SyntheticTalk {
  title: string;
  description: string;
  tags: string[];
  topicIndex: number;
}

export function syntheticTalk(seed: string): SyntheticTalk {
  const rand = seededRandom(`talk:${seed}`);
  const topicIndex = Math.floor(rand() * TOPICS.length);
  const topic = TOPICS[topicIndex] as Topic;
  const year = between(rand, 2023, 2025);
  const title = pick(rand, [topic.title, `${topic.title} (${year})`, `${topic.title} — What I Learned`]);
  const description = `In this video I walk through ${topic.subject}: ${topic.tactics.slice(0, 2).join(', and ')}. ${topic.insights[0] ?? ''}`;
  return { title, description, tags: topic.tags, topicIndex };
}

export interface SpokenCue {
  start: number;
  end: number;
  text: string;
}

/** Words per second of relaxed speech (about 150 wpm). */
const WORDS_PER_SECOND = 2.5;

/** Caption cues filling `durationSeconds`: paragraphs of spoken sentences, split into short cues, with pauses between paragraphs. */
export function spokenCues(seed: string, durationSeconds: number): SpokenCue[] {
  const rand = seededRandom(`cues:${seed}`);
  const topic = TOPICS[syntheticTalk(seed).topicIndex] as Topic;
  const cues: SpokenCue[] = [];
  let t = 1;
  const intro = `Hey everyone, welcome back. Today we are talking about ${topic.subject}, and I am going to share exactly what changed for my channel.`;
  let paragraph: string[] = [intro];
  // Whole sentences only: the talk ends at the last sentence that fits in the video.
  for (;;) {
    for (const text of paragraph) {
      const words = text.split(' ');
      if (t + words.length / WORDS_PER_SECOND + words.length / 50 > durationSeconds) return cues;
      for (let i = 0; i < words.length; i += 10) {
        const chunk = words.slice(i, i + 10);
        const length = chunk.length / WORDS_PER_SECOND;
        cues.push({ start: round(t), end: round(t + length), text: chunk.join(' ') });
        t += length + 0.2;
      }
    }
    t += 2.5; // a breath between paragraphs: the transcript parser turns it into a paragraph break
    paragraph = Array.from({ length: between(rand, 4, 7) }, () => sentence(rand, topic));
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function stamp(seconds: number, separator: ',' | '.'): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`;
}

export function toVtt(cues: SpokenCue[]): string {
  return `WEBVTT\nKind: captions\nLanguage: en\n\n${cues.map((c) => `${stamp(c.start, '.')} --> ${stamp(c.end, '.')}\n${c.text}\n`).join('\n')}`;
}

export function toSrt(cues: SpokenCue[]): string {
  return cues.map((c, i) => `${i + 1}\n${stamp(c.start, ',')} --> ${stamp(c.end, ',')}\n${c.text}\n`).join('\n');
}
