import { sql } from 'kysely';
import type { DbOrTx } from '../database';
import type { ContentPlanStatus } from '../types';

// ---- pillars and hooks ----

export interface PillarWrite {
  name: string;
  description: string | null;
  exampleSubtopics: string[];
}

/** Replaces the user's pillars with these, in order. */
export async function replaceContentPillars(db: DbOrTx, userId: string, pillars: PillarWrite[]): Promise<void> {
  await db.deleteFrom('content_pillars').where('user_id', '=', userId).execute();
  if (pillars.length === 0) return;
  await db
    .insertInto('content_pillars')
    .values(
      pillars.map((p, i) => ({
        user_id: userId,
        pillar_order: i,
        pillar_name: p.name,
        description: p.description,
        example_subtopics: p.exampleSubtopics,
      })),
    )
    .execute();
}

export async function listContentPillars(db: DbOrTx, userId: string) {
  return db
    .selectFrom('content_pillars')
    .select(['pillar_name', 'description', 'example_subtopics'])
    .where('user_id', '=', userId)
    .orderBy('pillar_order')
    .execute();
}

/** Replaces the user's custom hooks with these, in order. */
export async function replaceCustomHooks(
  db: DbOrTx,
  userId: string,
  hooks: Array<{ text: string; category: string | null }>,
): Promise<void> {
  await db.deleteFrom('custom_hooks').where('user_id', '=', userId).execute();
  if (hooks.length === 0) return;
  await db
    .insertInto('custom_hooks')
    .values(hooks.map((h, i) => ({ user_id: userId, sequence: i, hook_text: h.text, category: h.category })))
    .execute();
}

export async function listCustomHooks(db: DbOrTx, userId: string) {
  return db.selectFrom('custom_hooks').select(['hook_text', 'category']).where('user_id', '=', userId).orderBy('sequence').execute();
}

/** A hook went into a written post. */
export async function countHookUse(db: DbOrTx, userId: string, hookText: string): Promise<void> {
  await db
    .updateTable('custom_hooks')
    .set({ usage_count: sql`usage_count + 1`, last_used_at: sql`now()` })
    .where('user_id', '=', userId)
    .where('hook_text', '=', hookText)
    .execute();
}

// ---- plans (content_generation_jobs) and their posts (content_generation_queue) ----

export interface NewPlan {
  id: string;
  jobId: string;
  userId: string;
  month: string;
  needsApproval: boolean;
  reviewWindowDays: number;
  /** One per post: its pillar and hook. */
  items: Array<{ pillar: string; hook: string }>;
}

/**
 * The month's plan row and one queue row per post, created once: a second call (a retry, a rerun)
 * returns the existing plan unchanged, whatever it is given.
 */
export async function openPlan(db: DbOrTx, plan: NewPlan) {
  await db
    .insertInto('content_generation_jobs')
    .values({
      id: plan.id,
      job_id: plan.jobId,
      user_id: plan.userId,
      month: plan.month,
      status: 'running',
      total_posts: plan.items.length,
      needs_approval: plan.needsApproval,
      review_window_days: plan.reviewWindowDays,
    })
    .onConflict((oc) => oc.columns(['user_id', 'month', 'type']).doNothing())
    .execute();
  const job = await db
    .selectFrom('content_generation_jobs')
    .selectAll()
    .where('user_id', '=', plan.userId)
    .where('month', '=', plan.month)
    .where('type', '=', 'monthly_plan')
    .executeTakeFirstOrThrow();
  if (job.total_posts > 0) {
    await db
      .insertInto('content_generation_queue')
      .values(
        plan.items.slice(0, job.total_posts).map((item, postIndex) => ({
          generation_job_id: job.id,
          user_id: plan.userId,
          month: plan.month,
          total_posts: job.total_posts,
          post_index: postIndex,
          pillar: item.pillar,
          hook: item.hook,
        })),
      )
      .onConflict((oc) => oc.columns(['generation_job_id', 'post_index']).doNothing())
      .execute();
  }
  // A rerun of a failed plan runs again.
  if (job.status === 'failed' || job.status === 'canceled') await setPlanStatus(db, job.id, 'running', null);
  return job;
}

export async function findPlan(db: DbOrTx, planId: string) {
  return db.selectFrom('content_generation_jobs').selectAll().where('id', '=', planId).executeTakeFirst();
}

export async function findUserPlan(db: DbOrTx, userId: string, planId: string) {
  return db.selectFrom('content_generation_jobs').selectAll().where('id', '=', planId).where('user_id', '=', userId).executeTakeFirst();
}

export async function findPlanOfMonth(db: DbOrTx, userId: string, month: string) {
  return db
    .selectFrom('content_generation_jobs')
    .selectAll()
    .where('user_id', '=', userId)
    .where('month', '=', month)
    .where('type', '=', 'monthly_plan')
    .executeTakeFirst();
}

export type PlanRow = NonNullable<Awaited<ReturnType<typeof findPlan>>>;

export async function listPlanItems(db: DbOrTx, planId: string) {
  return db.selectFrom('content_generation_queue').selectAll().where('generation_job_id', '=', planId).orderBy('post_index').execute();
}

export async function findPlanItem(db: DbOrTx, planId: string, postIndex: number) {
  return db
    .selectFrom('content_generation_queue')
    .selectAll()
    .where('generation_job_id', '=', planId)
    .where('post_index', '=', postIndex)
    .executeTakeFirst();
}

/**
 * Stores a post's text once and counts it in the user's posts_generated_this_month (when the
 * counter is on this month); false when an earlier attempt already stored it.
 */
export async function saveWrittenItem(
  db: DbOrTx,
  item: { id: string; userId: string; month: string },
  text: { caption: string; hashtags: string[]; visualSuggestion: string | null },
): Promise<boolean> {
  const written = await db
    .updateTable('content_generation_queue')
    .set({ caption: text.caption, hashtags: text.hashtags, visual_suggestion: text.visualSuggestion, status: 'written' })
    .where('id', '=', item.id)
    .where('caption', 'is', null)
    .executeTakeFirst();
  if (written.numUpdatedRows === 0n) return false;
  await db
    .updateTable('users')
    .set({ posts_generated_this_month: sql`posts_generated_this_month + 1` })
    .where('id', '=', item.userId)
    .where('content_generation_month', '=', item.month)
    .execute();
  return true;
}

/** Starts the user's monthly counter over when a later month's plan opens (counters reset per month). */
export async function resetMonthlyCounter(db: DbOrTx, userId: string, month: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ posts_generated_this_month: 0, content_generation_month: month, last_generation_reset: sql`now()` })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('content_generation_month', 'is', null), eb('content_generation_month', '<', month)]))
    .execute();
}

export async function markItemScheduled(
  db: DbOrTx,
  itemId: string,
  placed: { postId: string; scheduledFor: Date; visibleAfter: Date },
): Promise<void> {
  await db
    .updateTable('content_generation_queue')
    .set({
      status: 'scheduled',
      post_id: placed.postId,
      scheduled_for: placed.scheduledFor,
      visible_after: placed.visibleAfter,
      error_message: null,
      completed_at: sql`now()`,
    })
    .where('id', '=', itemId)
    .execute();
}

export async function markItemFailed(db: DbOrTx, planId: string, postIndex: number, message: string): Promise<void> {
  await db
    .updateTable('content_generation_queue')
    .set({ status: 'failed', error_message: message, error_count: sql`error_count + 1` })
    .where('generation_job_id', '=', planId)
    .where('post_index', '=', postIndex)
    .where('status', '<>', 'scheduled')
    .execute();
}

/** Recounts the plan's progress from its posts (so retries and reruns never count twice); errors list the failed posts. */
export async function refreshPlanCounters(db: DbOrTx, planId: string): Promise<{ completedPosts: number; failedPosts: number }> {
  const row = await db
    .updateTable('content_generation_jobs')
    .set({
      completed_posts: sql`(select count(*) from content_generation_queue q where q.generation_job_id = ${planId} and q.status = 'scheduled')`,
      failed_posts: sql`(select count(*) from content_generation_queue q where q.generation_job_id = ${planId} and q.status = 'failed')`,
      errors: sql`(select coalesce(jsonb_agg(jsonb_build_object('postIndex', q.post_index, 'type', 'PostFailed', 'message', q.error_message)
                    order by q.post_index), '[]'::jsonb)
                  from content_generation_queue q where q.generation_job_id = ${planId} and q.status = 'failed')`,
    })
    .where('id', '=', planId)
    .returning(['completed_posts', 'failed_posts'])
    .executeTakeFirstOrThrow();
  return { completedPosts: row.completed_posts, failedPosts: row.failed_posts };
}

export async function setPlanStatus(db: DbOrTx, planId: string, status: ContentPlanStatus, pausedUntil: Date | null): Promise<void> {
  await db
    .updateTable('content_generation_jobs')
    .set({
      status,
      paused_until: pausedUntil,
      completed_at: status === 'completed' || status === 'failed' ? sql`now()` : null,
    })
    .where('id', '=', planId)
    .execute();
}

/** The next firing of the user's content-plan Schedule (null: no schedule). */
export async function setContentGenerationScheduledFor(db: DbOrTx, userId: string, at: Date | null): Promise<void> {
  await db.updateTable('users').set({ content_generation_scheduled_for: at }).where('id', '=', userId).execute();
}
