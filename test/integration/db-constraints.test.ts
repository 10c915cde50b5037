import { randomUUID } from 'node:crypto';
import { createUser } from '../../db/repositories/users';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/** Resolves to the PostgreSQL error a statement fails with (code + constraint), or throws if it succeeds. */
async function violation(statement: Promise<unknown>): Promise<{ code: string; constraint: string | undefined }> {
  try {
    await statement;
  } catch (err) {
    const { code, constraint } = err as { code: string; constraint?: string };
    return { code, constraint };
  }
  throw new Error('statement succeeded but should have been rejected');
}

const CHECK = '23514';
const UNIQUE = '23505';
const FOREIGN_KEY = '23503';
const RESTRICT = '23001';

describe('the database rejects what the domain forbids', () => {
  let database: TestDatabase;
  let userId: string;
  let videoId: string;
  let summaryTypeId: string;
  let affiliateId: string;
  let socialAccountId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    userId = (await createUser(db, { email: `constraints-${randomUUID()}@example.test` })).id;
    videoId = (
      await db
        .insertInto('videos')
        .values({ user_id: userId, source_type: 'youtube', youtube_video_id: 'dQw4w9WgXcQ' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    summaryTypeId = (await db.selectFrom('content_types').select('id').where('key', '=', 'summary').executeTakeFirstOrThrow()).id;
    affiliateId = (
      await db.insertInto('affiliates').values({ user_id: userId, referral_code: 'ADA2026' }).returning('id').executeTakeFirstOrThrow()
    ).id;
    socialAccountId = (
      await db
        .insertInto('social_accounts')
        .values({ user_id: userId, platform: 'youtube', platform_user_id: 'UC123', encrypted_tokens: 'v1:k1:x:y:z' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  });
  afterAll(() => database?.drop());

  it('a credit balance cannot go negative', async () => {
    const { db } = database;
    await db.insertInto('user_credits').values({ user_id: userId, balance: 5 }).execute();
    expect(await violation(db.updateTable('user_credits').set({ balance: -1 }).where('user_id', '=', userId).execute())).toEqual({
      code: CHECK,
      constraint: 'user_credits_balance_check',
    });
    expect(
      await violation(
        db
          .insertInto('credit_transactions')
          .values({ user_id: userId, amount: -10, transaction_type: 'usage', balance_after: -5 })
          .execute(),
      ),
    ).toEqual({ code: CHECK, constraint: 'credit_transactions_balance_after_check' });
  });

  it('a Stripe event is stored once', async () => {
    const { db } = database;
    const event = { stripe_event_id: 'evt_duplicate_1', event_type: 'invoice.paid', payload: '{}' };
    await db.insertInto('subscription_events').values(event).execute();
    expect(await violation(db.insertInto('subscription_events').values(event).execute())).toEqual({
      code: UNIQUE,
      constraint: 'subscription_events_stripe_event_id_key',
    });
  });

  it('a video has one content row per content type and version', async () => {
    const { db } = database;
    const row = { video_id: videoId, content_type_id: summaryTypeId, version: 1, content: 'first' };
    await db.insertInto('video_content').values(row).execute();
    expect(
      await violation(
        db
          .insertInto('video_content')
          .values({ ...row, content: 'again' })
          .execute(),
      ),
    ).toEqual({
      code: UNIQUE,
      constraint: 'video_content_video_type_version_key',
    });
    await db
      .insertInto('video_content')
      .values({ ...row, version: 2, content: 'second' })
      .execute();
  });

  it.each([
    [
      'videos.processing_status',
      () =>
        database.db
          .insertInto('videos')
          .values({ user_id: userId, source_type: 'upload', processing_status: 'done' as never })
          .execute(),
      'videos_processing_status_check',
    ],
    [
      'videos.source_type',
      () =>
        database.db
          .insertInto('videos')
          .values({ user_id: userId, source_type: 'vimeo' as never })
          .execute(),
      'videos_source_type_check',
    ],
    [
      'subscription_events.status',
      () =>
        database.db
          .insertInto('subscription_events')
          .values({ stripe_event_id: 'evt_status', event_type: 'x', payload: '{}', status: 'done' as never })
          .execute(),
      'subscription_events_status_check',
    ],
    [
      'posts.status',
      () =>
        database.db
          .insertInto('posts')
          .values({ user_id: userId, social_account_id: socialAccountId, media_type: 'video', status: 'sent' as never })
          .execute(),
      'posts_status_check',
    ],
    [
      'users.subscription_tier',
      () => database.db.updateTable('users').set({ subscription_tier: 'gold' }).where('id', '=', userId).execute(),
      'users_subscription_tier_check',
    ],
    [
      'affiliate_commissions.status',
      () =>
        database.db
          .insertInto('affiliate_commissions')
          .values({
            affiliate_id: affiliateId,
            stripe_invoice_id: 'in_status',
            invoice_amount_cents: 1000,
            commission_rate_bps: 2000,
            amount_cents: 200,
            eligible_at: new Date(),
            status: 'owed' as never,
          })
          .execute(),
      'affiliate_commissions_status_check',
    ],
    [
      'thumbnail_expressions.intensity',
      () =>
        database.db
          .insertInto('thumbnail_expressions')
          .values({ key: 'furious', name: 'Furious', primary_emotion: 'anger', face_details: 'x', eye_details: 'y', intensity: 4 })
          .execute(),
      'thumbnail_expressions_intensity_check',
    ],
  ])('an unknown %s value is rejected', async (_column, insert, constraint) => {
    expect(await violation(insert())).toEqual({ code: CHECK, constraint });
  });

  it('thumbnail usage has one row per user, aspect ratio and period', async () => {
    const { db } = database;
    const row = {
      user_id: userId,
      aspect_ratio: '16:9' as const,
      period_start: '2026-11-01T00:00:00Z',
      period_end: '2026-12-01T00:00:00Z',
    };
    await db.insertInto('thumbnail_usage').values(row).execute();
    expect(await violation(db.insertInto('thumbnail_usage').values(row).execute())).toEqual({
      code: UNIQUE,
      constraint: 'thumbnail_usage_user_aspect_period_key',
    });
    await db
      .insertInto('thumbnail_usage')
      .values({ ...row, aspect_ratio: '9:16' })
      .execute();
  });

  it('an affiliate is paid once per period', async () => {
    const { db } = database;
    const payout = { affiliate_id: affiliateId, period_start: '2026-10-01', period_end: '2026-10-31', amount_cents: 5000 };
    await db.insertInto('affiliate_payouts').values(payout).execute();
    expect(
      await violation(
        db
          .insertInto('affiliate_payouts')
          .values({ ...payout, amount_cents: 6000 })
          .execute(),
      ),
    ).toEqual({
      code: UNIQUE,
      constraint: 'affiliate_payouts_affiliate_period_key',
    });
  });

  it('a commission is recorded once per invoice, and only an adjustment may be negative', async () => {
    const { db } = database;
    const commission = {
      affiliate_id: affiliateId,
      stripe_invoice_id: 'in_once',
      invoice_amount_cents: 4900,
      commission_rate_bps: 2000,
      amount_cents: 980,
      eligible_at: new Date(),
    };
    await db.insertInto('affiliate_commissions').values(commission).execute();
    expect(await violation(db.insertInto('affiliate_commissions').values(commission).execute())).toEqual({
      code: UNIQUE,
      constraint: 'affiliate_commissions_invoice_kind_key',
    });
    expect(
      await violation(
        db
          .insertInto('affiliate_commissions')
          .values({ ...commission, stripe_invoice_id: 'in_neg', amount_cents: -980 })
          .execute(),
      ),
    ).toEqual({
      code: CHECK,
      constraint: 'affiliate_commissions_sign_check',
    });
    await db
      .insertInto('affiliate_commissions')
      .values({ ...commission, kind: 'adjustment', amount_cents: -980 })
      .execute();
  });

  it('a user imports a YouTube video once', async () => {
    expect(
      await violation(
        database.db.insertInto('videos').values({ user_id: userId, source_type: 'youtube', youtube_video_id: 'dQw4w9WgXcQ' }).execute(),
      ),
    ).toEqual({
      code: UNIQUE,
      constraint: 'videos_user_youtube_video_key',
    });
  });

  it('one account cannot hold two live posts in the same slot', async () => {
    const { db } = database;
    const post = {
      user_id: userId,
      social_account_id: socialAccountId,
      media_type: 'video' as const,
      status: 'scheduled' as const,
      scheduled_at: '2026-12-01T09:00:00Z',
    };
    await db.insertInto('posts').values(post).execute();
    expect(await violation(db.insertInto('posts').values(post).execute())).toEqual({ code: UNIQUE, constraint: 'posts_account_slot_key' });
    // A canceled post frees its slot.
    await db
      .insertInto('posts')
      .values({ ...post, status: 'canceled' })
      .execute();
  });

  it('a video has at most one selected thumbnail', async () => {
    const { db } = database;
    const thumbnail = (order: number) => ({
      video_id: videoId,
      user_id: userId,
      cloudinary_public_id: `thumb_${order}`,
      cloudinary_url: 'http://127.0.0.1/t.png',
      cloudinary_secure_url: 'http://127.0.0.1/t.png',
      topic: 'Topic',
      expression_category: 'shocked',
      aspect_ratio: '16:9' as const,
      style_name: 'bold_contrast',
      generation_order: order,
      is_selected: true,
    });
    await db.insertInto('video_thumbnails').values(thumbnail(1)).execute();
    expect(await violation(db.insertInto('video_thumbnails').values(thumbnail(2)).execute())).toEqual({
      code: UNIQUE,
      constraint: 'video_thumbnails_selected_key',
    });
  });

  it('a clip ends after it starts, and its duration is derived', async () => {
    const { db } = database;
    const clip = { video_id: videoId, user_id: userId, run_id: 'clips:test', clip_index: 0, start_time: 12.5, end_time: 40.25 };
    const inserted = await db.insertInto('clips').values(clip).returning('duration_seconds').executeTakeFirstOrThrow();
    expect(inserted.duration_seconds).toBeCloseTo(27.75, 6);
    expect(
      await violation(
        db
          .insertInto('clips')
          .values({ ...clip, clip_index: 1, end_time: 10 })
          .execute(),
      ),
    ).toEqual({ code: CHECK, constraint: 'clips_time_range_check' });
  });

  it('a job references a known thumbnail expression', async () => {
    expect(
      await violation(
        database.db
          .insertInto('thumbnail_generation_jobs')
          .values({ video_id: videoId, user_id: userId, topic: 't', expression_category: 'bored', aspect_ratio: '16:9' })
          .execute(),
      ),
    ).toEqual({ code: FOREIGN_KEY, constraint: 'thumbnail_generation_jobs_expression_category_fkey' });
  });

  it('a plan with subscribers cannot be deleted', async () => {
    const { db } = database;
    const basic = await db.selectFrom('subscription_plans').select('id').where('slug', '=', 'basic').executeTakeFirstOrThrow();
    await db
      .insertInto('user_subscriptions')
      .values({ user_id: userId, plan_id: basic.id, status: 'active', stripe_subscription_id: 'sub_restrict' })
      .execute();
    expect(await violation(db.deleteFrom('subscription_plans').where('id', '=', basic.id).execute())).toEqual({
      code: RESTRICT,
      constraint: 'user_subscriptions_plan_id_fkey',
    });
  });
});
