import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

/**
 * Glow Social's monthly AI content plan and AI spend caps: plan limits for both, the user's
 * content pillars and custom hooks, one content_generation_jobs row per user and month (a month
 * is generated once) with a content_generation_queue row per post, and the per-user, per-day
 * roll-up of ai_usage_logs that caps and alerts read (ai_usage_analytics, ai_usage_alerts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('subscription_plan_features')
    // AI-written posts a month; 0 = the plan has no monthly content plan.
    .addColumn('monthly_post_limit', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`monthly_post_limit >= 0`),
    )
    .addColumn('content_pillar_limit', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(3)
        .check(sql`content_pillar_limit > 0`),
    )
    // null = uncapped.
    .addColumn('ai_daily_token_limit', 'bigint', (c) => c.check(sql`ai_daily_token_limit is null or ai_daily_token_limit > 0`))
    .addColumn('ai_monthly_cost_limit_micro_usd', 'bigint', (c) =>
      c.check(sql`ai_monthly_cost_limit_micro_usd is null or ai_monthly_cost_limit_micro_usd > 0`),
    )
    .execute();

  await db.schema
    .alterTable('users')
    .addColumn('posts_generated_this_month', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`posts_generated_this_month >= 0`),
    )
    // The month (in the user's zone) posts_generated_this_month counts: a plan of a later month resets it.
    .addColumn('last_generation_reset', 'timestamptz')
    .addColumn('content_generation_month', 'varchar(7)')
    // Next firing of the user's content-plan Schedule; null without one.
    .addColumn('content_generation_scheduled_for', 'timestamptz')
    .execute();

  await db.schema
    .createTable('content_pillars')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('pillar_order', 'integer', (c) => c.notNull().check(sql`pillar_order >= 0`))
    .addColumn('pillar_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('example_subtopics', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addUniqueConstraint('content_pillars_user_order_key', ['user_id', 'pillar_order'])
    .execute();
  await addTimestamps(db, 'content_pillars');

  await db.schema
    .createTable('custom_hooks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('sequence', 'integer', (c) => c.notNull().check(sql`sequence >= 0`))
    .addColumn('hook_text', 'text', (c) => c.notNull())
    .addColumn('category', 'varchar(50)')
    .addColumn('usage_count', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`usage_count >= 0`),
    )
    .addColumn('last_used_at', 'timestamptz')
    .addUniqueConstraint('custom_hooks_user_sequence_key', ['user_id', 'sequence'])
    .execute();
  await addTimestamps(db, 'custom_hooks');

  await db.schema
    .createTable('content_generation_jobs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // The run's workflow id, `content-plan:<userId>:<YYYY-MM>`.
    .addColumn('job_id', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('type', 'varchar(30)', (c) =>
      c
        .notNull()
        .defaultTo('monthly_plan')
        .check(checkIn('type', ['monthly_plan'])),
    )
    .addColumn('month', 'varchar(7)', (c) => c.notNull().check(sql`month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'`))
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('queued')
        .check(checkIn('status', ['queued', 'running', 'paused', 'completed', 'failed', 'canceled'])),
    )
    .addColumn('total_posts', 'integer', (c) => c.notNull().check(sql`total_posts >= 0`))
    .addColumn('completed_posts', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`completed_posts >= 0`),
    )
    .addColumn('failed_posts', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`failed_posts >= 0`),
    )
    // [{ postIndex, type, message }] of posts that could not be written or scheduled.
    .addColumn('errors', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('needs_approval', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('review_window_days', 'integer', (c) => c.notNull().check(sql`review_window_days >= 0`))
    // Set while an AI spend cap holds the plan: it resumes at this instant (the cap's reset).
    .addColumn('paused_until', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    // A month is generated once per user.
    .addUniqueConstraint('content_generation_jobs_user_month_type_key', ['user_id', 'month', 'type'])
    .execute();
  await addTimestamps(db, 'content_generation_jobs');

  await db.schema
    .createTable('content_generation_queue')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('generation_job_id', 'uuid', (c) => c.notNull().references('content_generation_jobs.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('month', 'varchar(7)', (c) => c.notNull())
    .addColumn('total_posts', 'integer', (c) => c.notNull())
    .addColumn('post_index', 'integer', (c) => c.notNull().check(sql`post_index >= 0 and post_index < total_posts`))
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(checkIn('status', ['pending', 'written', 'scheduled', 'failed'])),
    )
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pillar', 'varchar(100)', (c) => c.notNull())
    .addColumn('hook', 'text', (c) => c.notNull())
    .addColumn('caption', 'text')
    .addColumn('hashtags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('visual_suggestion', 'text')
    .addColumn('post_id', 'uuid', (c) => c.references('posts.id').onDelete('set null'))
    .addColumn('scheduled_for', 'timestamptz')
    // When the post shows in the user's calendar for review: its review window before scheduled_for.
    .addColumn('visible_after', 'timestamptz')
    .addColumn('error_message', 'text')
    .addColumn('error_count', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`error_count >= 0`),
    )
    .addColumn('completed_at', 'timestamptz')
    .addUniqueConstraint('content_generation_queue_job_index_key', ['generation_job_id', 'post_index'])
    .execute();
  await addTimestamps(db, 'content_generation_queue');
  await db.schema
    .createIndex('content_generation_queue_user_month_idx')
    .on('content_generation_queue')
    .columns(['user_id', 'month'])
    .execute();

  // ai_usage_logs rolled up per day (UTC), user, provider and model, in the same statement as each log row.
  await db.schema
    .createTable('ai_usage_analytics')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('provider', 'varchar(50)', (c) => c.notNull())
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    .addColumn('request_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('total_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_micro_usd', 'bigint', (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint('ai_usage_analytics_day_user_model_key', ['date', 'user_id', 'provider', 'model'], (u) => u.nullsNotDistinct())
    .execute();
  await addTimestamps(db, 'ai_usage_analytics');
  await db.schema.createIndex('ai_usage_analytics_user_date_idx').on('ai_usage_analytics').columns(['user_id', 'date']).execute();
  await sql`insert into ai_usage_analytics (date, user_id, provider, model, request_count, input_tokens, output_tokens, total_tokens, cost_micro_usd)
      select (created_at at time zone 'UTC')::date, user_id, provider, model, count(*), sum(input_tokens), sum(output_tokens),
             sum(input_tokens + output_tokens), sum(cost_micro_usd)
      from ai_usage_logs group by 1, 2, 3, 4`.execute(db);

  // One alert per user, cap, threshold and period; email_sent_at makes its one email survive a retry.
  await db.schema
    .createTable('ai_usage_alerts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('alert_type', 'varchar(30)', (c) => c.notNull().check(checkIn('alert_type', ['daily_tokens', 'monthly_cost'])))
    .addColumn('threshold_percent', 'integer', (c) => c.notNull().check(sql`threshold_percent in (80, 100)`))
    // `YYYY-MM-DD` (daily_tokens) or `YYYY-MM` (monthly_cost), UTC.
    .addColumn('period', 'varchar(10)', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('threshold_value', 'bigint', (c) => c.notNull())
    .addColumn('actual_value', 'bigint', (c) => c.notNull())
    .addColumn('email_sent_at', 'timestamptz')
    .addColumn('acknowledged', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('acknowledged_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('ai_usage_alerts_user_type_threshold_period_key', ['user_id', 'alert_type', 'threshold_percent', 'period'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
