import { sql } from 'kysely';
import type { DbOrTx, Tx } from '../database';
import type { ImageGenerationStatus, TrainingStatus } from '../types';

// ---- trainings and models -------------------------------------------------------------------

export interface NewTrainingRun {
  id: string;
  userId: string;
  modelName: string;
  triggerWord: string;
  creditsCost: number;
  selfies: Array<{ imageUrl: string; mediaKey: string; contentType: string; bytes: number }>;
}

/** The training row and its selfies, in one transaction (the route's, before the run starts). */
export async function insertTrainingRun(tx: Tx, run: NewTrainingRun): Promise<void> {
  await tx
    .insertInto('training_runs')
    .values({ id: run.id, user_id: run.userId, model_name: run.modelName, trigger_word: run.triggerWord, credits_cost: run.creditsCost })
    .execute();
  await tx
    .insertInto('selfie_uploads')
    .values(
      run.selfies.map((selfie, position) => ({
        user_id: run.userId,
        training_run_id: run.id,
        position,
        image_url: selfie.imageUrl,
        media_key: selfie.mediaKey,
        content_type: selfie.contentType,
        bytes: selfie.bytes,
      })),
    )
    .execute();
}

export const findTrainingRun = (db: DbOrTx, id: string) =>
  db.selectFrom('training_runs').selectAll().where('id', '=', id).executeTakeFirst();

export const trainingSelfies = (db: DbOrTx, trainingRunId: string) =>
  db.selectFrom('selfie_uploads').selectAll().where('training_run_id', '=', trainingRunId).orderBy('position').execute();

export async function recordTrainingSubmitted(
  db: DbOrTx,
  id: string,
  input: { replicateModelId: string; trainingId: string },
): Promise<void> {
  await db
    .updateTable('training_runs')
    .set({
      replicate_model_id: input.replicateModelId,
      training_id: input.trainingId,
      training_status: 'training',
      started_at: sql`coalesce(started_at, now())`,
    })
    .where('id', '=', id)
    .execute();
}

export async function recordTrainingProgress(
  db: DbOrTx,
  id: string,
  progress: number | undefined,
  etaSeconds: number | undefined,
): Promise<void> {
  await db
    .updateTable('training_runs')
    .set((eb) => ({
      training_progress:
        progress === undefined ? eb.ref('training_progress') : sql<number>`greatest(training_progress, ${Math.round(progress)})`,
      estimated_completion_time: etaSeconds === undefined ? null : sql<Date>`now() + make_interval(secs => ${etaSeconds})`,
    }))
    .where('id', '=', id)
    .where('training_status', 'in', ['pending', 'training'])
    .execute();
}

/**
 * The training succeeded: its version and weights are stored and it becomes the user's active
 * model, replacing the previous one, in one transaction (repeatable: the same model stays active).
 */
export async function completeTrainingRun(db: DbOrTx, id: string, input: { versionId: string; weightsUrl: string }): Promise<void> {
  const run = async (tx: Tx) => {
    const training = await tx
      .updateTable('training_runs')
      .set({
        training_status: 'completed',
        training_progress: 100,
        estimated_completion_time: null,
        replicate_version_id: input.versionId,
        lora_weights_url: input.weightsUrl,
        completed_at: sql`coalesce(completed_at, now())`,
      })
      .where('id', '=', id)
      .returning(['user_id', 'model_name', 'trigger_word'])
      .executeTakeFirstOrThrow();
    await tx
      .updateTable('user_models')
      .set({ is_active: false })
      .where('user_id', '=', training.user_id)
      .where('training_run_id', '!=', id)
      .where('is_active', '=', true)
      .execute();
    await tx
      .insertInto('user_models')
      .values({ user_id: training.user_id, training_run_id: id, model_name: training.model_name, trigger_word: training.trigger_word })
      .onConflict((oc) => oc.column('training_run_id').doUpdateSet({ is_active: true }))
      .execute();
  };
  return db.isTransaction ? run(db as Tx) : db.transaction().execute(run);
}

/** A failed or canceled training keeps its reason; a completed one is never downgraded. */
export async function endTrainingRun(
  db: DbOrTx,
  id: string,
  status: Extract<TrainingStatus, 'failed' | 'canceled'>,
  reason: string,
): Promise<void> {
  await db
    .updateTable('training_runs')
    .set({
      training_status: status,
      failure_reason: reason,
      estimated_completion_time: null,
      completed_at: sql`coalesce(completed_at, now())`,
    })
    .where('id', '=', id)
    .where('training_status', '!=', 'completed')
    .execute();
}

/** The user's active model (the one generations use), if any. */
export const activeModel = (db: DbOrTx, userId: string) =>
  db
    .selectFrom('user_models')
    .innerJoin('training_runs', 'training_runs.id', 'user_models.training_run_id')
    .select(['training_runs.id', 'training_runs.replicate_version_id', 'user_models.trigger_word', 'user_models.model_name'])
    .where('user_models.user_id', '=', userId)
    .where('user_models.is_active', '=', true)
    .executeTakeFirst();

/** A user's models, newest first, with selfie counts and whether each is the active one. */
export const listTrainingRuns = (db: DbOrTx, userId: string, id?: string) => {
  let query = db
    .selectFrom('training_runs')
    .leftJoin('user_models', 'user_models.training_run_id', 'training_runs.id')
    .selectAll('training_runs')
    .select((eb) => [
      eb.fn.coalesce('user_models.is_active', eb.lit(false)).as('is_active'),
      eb
        .selectFrom('selfie_uploads')
        .select((s) => s.fn.countAll<string>().as('n'))
        .whereRef('selfie_uploads.training_run_id', '=', 'training_runs.id')
        .as('image_count'),
    ])
    .where('training_runs.user_id', '=', userId);
  if (id) query = query.where('training_runs.id', '=', id);
  return query.orderBy('training_runs.created_at', 'desc').limit(100).execute();
};

// ---- generations and images -----------------------------------------------------------------

export async function insertImageGeneration(
  db: DbOrTx,
  generation: { id: string; userId: string; trainingRunId: string; prompt: string; style: string | null; imageCount: number },
): Promise<void> {
  await db
    .insertInto('image_generations')
    .values({
      id: generation.id,
      user_id: generation.userId,
      training_run_id: generation.trainingRunId,
      prompt: generation.prompt,
      style: generation.style,
      image_count: generation.imageCount,
    })
    .execute();
}

/** The generation with the model it uses. */
export const findImageGeneration = (db: DbOrTx, id: string) =>
  db
    .selectFrom('image_generations')
    .innerJoin('training_runs', 'training_runs.id', 'image_generations.training_run_id')
    .select([
      'image_generations.id',
      'image_generations.user_id',
      'image_generations.prompt',
      'image_generations.style',
      'image_generations.image_count',
      'training_runs.replicate_version_id',
      'training_runs.trigger_word',
    ])
    .where('image_generations.id', '=', id)
    .executeTakeFirst();

/** The generation's image rows (one per position, seeds fixed at first call): repeatable. */
export async function ensureImageRows(
  db: DbOrTx,
  generation: { id: string; userId: string; prompt: string; style: string | null },
  seeds: number[],
) {
  await db
    .insertInto('ai_images')
    .values(
      seeds.map((seed, position) => ({
        user_id: generation.userId,
        generation_id: generation.id,
        position,
        prompt: generation.prompt,
        style: generation.style,
        seed,
      })),
    )
    .onConflict((oc) => oc.columns(['generation_id', 'position']).doNothing())
    .execute();
  return db.selectFrom('ai_images').select(['position', 'seed']).where('generation_id', '=', generation.id).orderBy('position').execute();
}

export async function recordImagePrediction(db: DbOrTx, generationId: string, position: number, predictionId: string): Promise<void> {
  await db
    .updateTable('ai_images')
    .set({ prediction_id: predictionId, generation_status: 'generating' })
    .where('generation_id', '=', generationId)
    .where('position', '=', position)
    .execute();
  await db
    .updateTable('image_generations')
    .set({ status: 'generating' })
    .where('id', '=', generationId)
    .where('status', '=', 'pending')
    .execute();
}

/** The image is stored: its row completed; returns the row (undefined when there is none). */
export async function completeImage(db: DbOrTx, generationId: string, position: number, stored: { imageUrl: string; mediaKey: string }) {
  return db
    .updateTable('ai_images')
    .set({ generation_status: 'completed', image_url: stored.imageUrl, media_key: stored.mediaKey, failure_reason: null })
    .where('generation_id', '=', generationId)
    .where('position', '=', position)
    .returning(['id', 'user_id'])
    .executeTakeFirst();
}

export async function failImage(db: DbOrTx, generationId: string, position: number, reason: string): Promise<void> {
  await db
    .updateTable('ai_images')
    .set({ generation_status: 'failed', failure_reason: reason })
    .where('generation_id', '=', generationId)
    .where('position', '=', position)
    .where('generation_status', '!=', 'completed')
    .execute();
}

export async function endImageGeneration(db: DbOrTx, id: string, status: ImageGenerationStatus, reason: string | null): Promise<void> {
  await db.updateTable('image_generations').set({ status, failure_reason: reason }).where('id', '=', id).execute();
}

/** Images generated (or being generated) in the current calendar month (UTC), for the monthly limit. */
export async function imagesThisMonth(db: DbOrTx, userId: string): Promise<number> {
  const row = await db
    .selectFrom('ai_images')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId)
    .where('generation_status', '!=', 'failed')
    .where('created_at', '>=', sql<Date>`date_trunc('month', now() at time zone 'utc') at time zone 'utc'`)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Images of generations requested but not yet given rows (a run not started yet), for the monthly limit. */
export async function pendingImageRequests(db: DbOrTx, userId: string): Promise<number> {
  const row = await db
    .selectFrom('image_generations')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('image_count'), sql<string>`0`).as('n'))
    .where('user_id', '=', userId)
    .where('status', '=', 'pending')
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('ai_images').select('ai_images.id').whereRef('ai_images.generation_id', '=', 'image_generations.id'))),
    )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export const listImages = (db: DbOrTx, userId: string) =>
  db
    .selectFrom('ai_images')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('position')
    .limit(100)
    .execute();
