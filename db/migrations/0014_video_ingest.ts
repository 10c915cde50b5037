import { sql, type Kysely } from 'kysely';
import { checkIn } from './helpers';

/** The ingest stages of ClipFlow (seed 004) on top of the import statuses AmplifyContent uses. */
const PROCESSING_STATUSES = ['pending', 'processing', 'transcribing', 'analyzing', 'ready', 'completed', 'failed', 'canceled'] as const;
const TRANSCRIPT_SOURCES = [
  'youtube_captions',
  'youtube_auto_captions',
  'uploaded_srt',
  'uploaded_vtt',
  'uploaded_words',
  'manual',
  'speech_to_text',
] as const;

/**
 * Video ingest as a workflow (ClipFlow): the stages a video goes through, what speech-to-text
 * found, processing minutes in the period's usage, and which path chose each clip.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table videos drop constraint videos_processing_status_check`.execute(db);
  await sql`alter table videos add constraint videos_processing_status_check check (${checkIn('processing_status', PROCESSING_STATUSES)})`.execute(
    db,
  );
  await sql`alter table videos drop constraint videos_transcript_source_check`.execute(db);
  await sql`alter table videos add constraint videos_transcript_source_check
      check (transcript_source is null or ${checkIn('transcript_source', TRANSCRIPT_SOURCES)})`.execute(db);
  await db.schema
    .alterTable('videos')
    // Seed 004's names: the language speech-to-text heard, and the moments it marked.
    .addColumn('language_detected', 'varchar(10)')
    .addColumn('key_moments', 'jsonb')
    // null until ffprobe has read the file; false means transcription is skipped and clips are refused.
    .addColumn('has_audio', 'boolean')
    .addColumn('processing_started_at', 'timestamptz')
    .addColumn('processing_completed_at', 'timestamptz')
    .execute();

  await db.schema
    .alterTable('subscription_usage')
    .addColumn('processing_minutes', 'numeric(10, 2)', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`processing_minutes >= 0`),
    )
    .execute();

  await db.schema
    .alterTable('clips')
    .addColumn('selection_method', 'varchar(20)', (c) =>
      c.check(sql`selection_method is null or ${checkIn('selection_method', ['model', 'pause_windows'])}`),
    )
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
