import type { DbOrTx } from '../database';
import type { PlanSlug, ThumbnailStyleDesign } from '../types';

interface StyleSeed {
  key: string;
  name: string;
  description: string;
  design: ThumbnailStyleDesign;
}

/** AmplifyContent's four styles; `design` gives the renderer colours and layout so results differ per style. */
export const THUMBNAIL_STYLE_SEEDS: readonly StyleSeed[] = [
  {
    key: 'bold_contrast',
    name: 'Bold Contrast',
    description:
      'Huge yellow all-caps words with a black outline on a dark, saturated background; the face large on one side. Built to be read at phone size.',
    design: {
      background: '#1a0d0d',
      accent: '#e62117',
      text: '#ffd400',
      stroke: '#000000',
      fontWeight: 'black',
      textPosition: 'left',
      textCase: 'upper',
    },
  },
  {
    key: 'clean_minimal',
    name: 'Clean Minimal',
    description:
      'Light neutral background, dark sans-serif title in two to four words, lots of space, a single accent colour. Suits education and business.',
    design: {
      background: '#f5f5f0',
      accent: '#2563eb',
      text: '#111827',
      stroke: '#ffffff',
      fontWeight: 'bold',
      textPosition: 'right',
      textCase: 'title',
    },
  },
  {
    key: 'vibrant_pop',
    name: 'Vibrant Pop',
    description:
      'Bright gradient background, white text with a coloured drop shadow, playful energy. Suits lifestyle, entertainment and challenges.',
    design: {
      background: '#7c3aed',
      accent: '#f472b6',
      text: '#ffffff',
      stroke: '#4c1d95',
      fontWeight: 'black',
      textPosition: 'top',
      textCase: 'upper',
    },
  },
  {
    key: 'cinematic_dark',
    name: 'Cinematic Dark',
    description:
      'Moody teal-and-orange grade, a subtle vignette, understated title-case text low in the frame. Suits storytelling, documentaries and reviews.',
    design: {
      background: '#0f1e24',
      accent: '#f97316',
      text: '#f8fafc',
      stroke: '#020617',
      fontWeight: 'bold',
      textPosition: 'bottom',
      textCase: 'title',
    },
  },
];

interface ExpressionSeed {
  key: string;
  name: string;
  primary_emotion: string;
  face_details: string;
  eye_details: string;
  intensity: 1 | 2 | 3;
}

export const THUMBNAIL_EXPRESSION_SEEDS: readonly ExpressionSeed[] = [
  {
    key: 'shocked',
    name: 'Shocked',
    primary_emotion: 'shock',
    face_details: 'Mouth wide open in an O shape, eyebrows raised high, forehead creased, hands near the cheeks',
    eye_details: 'Eyes wide open with white visible all around the iris, looking straight at the camera',
    intensity: 3,
  },
  {
    key: 'excited',
    name: 'Excited',
    primary_emotion: 'excitement',
    face_details: 'Big open-mouthed smile showing teeth, raised cheeks, eyebrows lifted, head slightly tilted forward',
    eye_details: 'Bright, wide eyes with crinkles at the corners, looking at the camera',
    intensity: 3,
  },
  {
    key: 'mind_blown',
    name: 'Mind Blown',
    primary_emotion: 'amazement',
    face_details: 'Jaw dropped, both hands at the temples as if the head is exploding, eyebrows at their highest',
    eye_details: 'Eyes stretched wide and unfocused, staring slightly past the camera',
    intensity: 3,
  },
  {
    key: 'curious',
    name: 'Curious',
    primary_emotion: 'curiosity',
    face_details: 'One eyebrow raised, lips pressed to one side in a half smile, head tilted',
    eye_details: 'Eyes slightly narrowed and glancing sideways towards the subject of the video',
    intensity: 2,
  },
  {
    key: 'skeptical',
    name: 'Skeptical',
    primary_emotion: 'doubt',
    face_details: 'One eyebrow raised, mouth flat and pulled to one side, chin slightly down',
    eye_details: 'Eyes narrowed, side-eye look at the object or text in the frame',
    intensity: 2,
  },
  {
    key: 'confused',
    name: 'Confused',
    primary_emotion: 'confusion',
    face_details: 'Brows drawn together and up in the middle, mouth slightly open and crooked, head tilted, a hand scratching the head',
    eye_details: 'Eyes squinting a little, looking up and to the side as if thinking',
    intensity: 2,
  },
  {
    key: 'frustrated',
    name: 'Frustrated',
    primary_emotion: 'frustration',
    face_details: 'Brows lowered and pulled together, jaw clenched, lips pressed tight, a hand on the forehead',
    eye_details: 'Eyes narrowed, looking at the camera with an exasperated stare',
    intensity: 2,
  },
  {
    key: 'happy',
    name: 'Happy',
    primary_emotion: 'joy',
    face_details: 'Relaxed, warm closed-mouth or slight open smile, cheeks lifted, shoulders relaxed',
    eye_details: 'Soft eyes with gentle smile lines, friendly eye contact with the camera',
    intensity: 1,
  },
  {
    key: 'confident',
    name: 'Confident',
    primary_emotion: 'confidence',
    face_details: 'Subtle knowing smirk, chin slightly raised, arms crossed or pointing at the title',
    eye_details: 'Steady, direct eye contact with the camera, eyes slightly narrowed',
    intensity: 1,
  },
  {
    key: 'serious',
    name: 'Serious',
    primary_emotion: 'concern',
    face_details: 'Neutral closed mouth, brows level and slightly lowered, face square to the camera',
    eye_details: 'Focused, unblinking eye contact, no smile lines',
    intensity: 1,
  },
];

export const THUMBNAIL_CATEGORY_SEEDS: readonly { key: string; name: string; description: string }[] = [
  { key: 'education', name: 'Education & How-to', description: 'Tutorials, explainers and courses: clarity over hype.' },
  { key: 'technology', name: 'Technology & Reviews', description: 'Product reviews, unboxings and tech news: show the product.' },
  { key: 'business_finance', name: 'Business & Finance', description: 'Money, marketing and career topics: numbers and outcomes.' },
  { key: 'entertainment', name: 'Entertainment', description: 'Challenges, reactions, comedy and gaming: emotion first.' },
  { key: 'health_fitness', name: 'Health & Fitness', description: 'Workouts, nutrition and wellbeing: before/after and energy.' },
  { key: 'lifestyle', name: 'Lifestyle & Vlog', description: 'Travel, daily life, food and beauty: warm and personal.' },
];

/** Iterations (generation runs) per aspect ratio; free is one lifetime try, paid tiers reset monthly. */
export const THUMBNAIL_TIER_LIMIT_SEEDS: readonly {
  subscription_tier: PlanSlug;
  iterations_16_9: number;
  iterations_9_16: number;
  is_unlimited: boolean;
  reset_monthly: boolean;
}[] = [
  { subscription_tier: 'free', iterations_16_9: 1, iterations_9_16: 1, is_unlimited: false, reset_monthly: false },
  { subscription_tier: 'basic', iterations_16_9: 5, iterations_9_16: 5, is_unlimited: false, reset_monthly: true },
  { subscription_tier: 'premium', iterations_16_9: 15, iterations_9_16: 15, is_unlimited: false, reset_monthly: true },
  { subscription_tier: 'creator', iterations_16_9: 40, iterations_9_16: 40, is_unlimited: false, reset_monthly: true },
  { subscription_tier: 'enterprise', iterations_16_9: 0, iterations_9_16: 0, is_unlimited: true, reset_monthly: true },
];

export async function seedThumbnailReferenceData(db: DbOrTx): Promise<void> {
  for (const [index, style] of THUMBNAIL_STYLE_SEEDS.entries()) {
    const row = {
      name: style.name,
      description: style.description,
      design: JSON.stringify(style.design),
      sort_order: index,
      is_active: true,
    };
    await db
      .insertInto('thumbnail_styles')
      .values({ key: style.key, ...row })
      .onConflict((oc) => oc.column('key').doUpdateSet(row))
      .execute();
  }
  for (const [index, { key, ...expression }] of THUMBNAIL_EXPRESSION_SEEDS.entries()) {
    const row = { ...expression, sort_order: index, is_active: true };
    await db
      .insertInto('thumbnail_expressions')
      .values({ key, ...row })
      .onConflict((oc) => oc.column('key').doUpdateSet(row))
      .execute();
  }
  for (const [index, { key, ...category }] of THUMBNAIL_CATEGORY_SEEDS.entries()) {
    const row = { ...category, sort_order: index, is_active: true };
    await db
      .insertInto('thumbnail_content_categories')
      .values({ key, ...row })
      .onConflict((oc) => oc.column('key').doUpdateSet(row))
      .execute();
  }
  for (const { subscription_tier, ...limits } of THUMBNAIL_TIER_LIMIT_SEEDS) {
    await db
      .insertInto('thumbnail_tier_limits')
      .values({ subscription_tier, ...limits })
      .onConflict((oc) => oc.column('subscription_tier').doUpdateSet(limits))
      .execute();
  }
}
