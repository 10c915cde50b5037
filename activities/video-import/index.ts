import { Context } from '@temporalio/activity';
import { createGoogleTokens } from '../../providers/google/tokens';
import { isAuthFailure } from '../../providers/errors';
import { ApplicationFailure } from '@temporalio/common';
import { fillPromptTemplate, findActiveContentType, getActivePrompt } from '../../db/repositories/content';
import {
  claimDriveUpload,
  completeDriveUpload,
  completedDriveUploads,
  failDriveUpload,
  recordDriveUploadFailed,
  type DriveUpload,
} from '../../db/repositories/drive-uploads';
import {
  findChannelYoutubeToken,
  findDriveCredential,
  markDriveCredentialUsed,
  markGoogleCredentialRevoked,
  type GoogleCredentialTable,
  type SealedTokenRow,
} from '../../db/repositories/google-credentials';
import {
  commitVideoQuota,
  findContentVersion,
  findVideo,
  heldVideoQuota,
  importableContentTypes,
  insertVideoContent,
  listContentForExport,
  listLatestContentIds,
  listVideoContent,
  releaseVideoQuota,
  reserveVideoQuota,
  saveTranscriptDigest,
  saveVideoTranscript,
  saveYoutubeDetails,
  updateVideoProcessing,
  VideoQuotaExceededError,
  VideoQuotaNotHeldError,
  type VideoContentWithType,
  type WrittenContent,
} from '../../db/repositories/video-import';
import type { TranscriptSource as StoredTranscriptSource, Video, VideoProcessingStatus } from '../../db/types';
import { renderExport, type ExportFormat } from './export-formats';
import type { SecretBox } from '../../lib/secrets';
import type { ExportOutcome, GenerateContentInput, GeneratedContent, QuotaReservation } from '../../schemas/video-import';
import type { ActivityDeps } from '../deps';
import { FailureType } from '../../schemas/failures';
import { heartbeating, nonRetryable, unlessCancelled } from '../common';
import { folderPath } from '../../providers/google/drive';
import { inTransactionWithEvents, isoOrNull } from '../webhook-events';
import type { Transcript } from '../../providers/youtube/transcript-source';

export interface VideoImportActivityDeps extends ActivityDeps {
  /** Opens stored OAuth tokens (YouTube captions, Drive); without it those sources count as not connected. */
  secrets?: SecretBox;
  /**
   * Transcript characters one prompt may carry (~4 characters per token): 400k fits a 200k-token
   * context with room for the prompt and the answer. Longer transcripts are condensed first.
   */
  maxTranscriptChars?: number;
}

export const DEFAULT_MAX_TRANSCRIPT_CHARS = 400_000;

const CONDENSE_SYSTEM =
  'You condense one section of a video transcript into faithful, dense notes for a writer who will not see the transcript. Keep every concrete claim, number, name, example, step and memorable quote; drop filler and repetition. Never add facts.';

function videoMetadata(video: Pick<Video, 'metadata'>): {
  supplied_transcript?: { content: string; format?: 'srt' | 'vtt' | 'text'; language?: string };
  transcript_digest?: string;
} {
  return video.metadata;
}

function storedTranscriptSource(transcript: Transcript, suppliedFormat: string | undefined): StoredTranscriptSource {
  if (transcript.source === 'youtube_captions') return 'youtube_captions';
  if (suppliedFormat === 'srt') return 'uploaded_srt';
  if (suppliedFormat === 'vtt') return 'uploaded_vtt';
  return 'manual';
}

/** Splits text at paragraph, then sentence, then word boundaries into pieces of at most `size` characters. */
export function splitForContext(text: string, size: number): string[] {
  const chunks: string[] = [];
  let rest = text.trim();
  while (rest.length > size) {
    const window = rest.slice(0, size);
    const cut = [window.lastIndexOf('\n\n'), window.lastIndexOf('. '), window.lastIndexOf(' ')].find((i) => i > size / 2) ?? size;
    chunks.push(rest.slice(0, cut + 1).trim());
    rest = rest.slice(cut + 1).trim();
  }
  if (rest) chunks.push(rest);
  return chunks;
}

const MARK_EVERY_SECONDS = 30;
const clock = (seconds: number) => {
  const s = Math.floor(seconds);
  const mmss = `${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mmss}` : mmss;
};

/** The transcript as prompts see it: timed captions get a [mm:ss] mark every ~30 s, so chapters and quotes can cite times. */
export function transcriptForPrompt(text: string, segments: Array<{ start: number; text: string }> | null): string {
  if (!segments?.length) return text;
  const lines: string[] = [];
  let lineStart = -Infinity;
  for (const segment of segments) {
    if (segment.start - lineStart >= MARK_EVERY_SECONDS) {
      lines.push(`[${clock(segment.start)}] ${segment.text}`);
      lineStart = segment.start;
    } else lines[lines.length - 1] += ` ${segment.text}`;
  }
  return lines.join('\n');
}

/** The workflow id this activity runs for: the run id stored with content and AI usage. */
const currentRunId = (): string | null => Context.current().info.workflowExecution?.workflowId ?? null;

/** A file or folder name without path separators, reserved characters or control codes. */
const sanitizeName = (name: string) =>
  [...name]
    .map((ch) => (ch.charCodeAt(0) < 32 || '\\/:*?"<>|'.includes(ch) ? ' ' : ch))
    .join('')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 120) || 'untitled';

/** YouTube import → AI content activities; each is idempotent (safe to retry after a crash at any point). */
export function createVideoImportActivities(deps: VideoImportActivityDeps) {
  const { db, providers, logger } = deps;
  const maxTranscriptChars = deps.maxTranscriptChars ?? DEFAULT_MAX_TRANSCRIPT_CHARS;

  async function requireVideo(videoId: string): Promise<Video> {
    const video = await findVideo(db, videoId);
    if (!video) throw nonRetryable(`video ${videoId} not found`, FailureType.NotFound);
    return video;
  }

  /** The access token of a stored Google credential (refreshed and re-sealed near expiry). */
  const googleAccessToken = (table: GoogleCredentialTable, row: SealedTokenRow, secrets: SecretBox) =>
    createGoogleTokens({ db, providers, secrets, logger })(table, row);

  /** The user's token of the video's own channel, when they connected it: captions are served to owners only. */
  async function youtubeOwnerToken(userId: string, channelId: string | null): Promise<string | undefined> {
    if (!deps.secrets || !channelId) return undefined;
    const row = await findChannelYoutubeToken(db, userId, channelId);
    if (!row) return undefined;
    try {
      return await googleAccessToken('youtube_oauth_tokens', row, deps.secrets);
    } catch (err) {
      // Without a working token the chain falls through to a supplied transcript.
      if (isAuthFailure(err)) return undefined;
      throw err;
    }
  }

  async function condense(text: string, video: Video, userId: string, runId: string | null): Promise<string> {
    const ctx = Context.current();
    let material = text;
    while (material.length > maxTranscriptChars) {
      const chunks = splitForContext(material, maxTranscriptChars);
      const notes: string[] = [];
      for (const [index, chunk] of chunks.entries()) {
        const section = providers.anthropic.generate({
          system: CONDENSE_SYSTEM,
          prompt: `Video: ${video.title ?? ''} (${video.channel_title ?? ''})\nSection ${index + 1} of ${chunks.length}.\n\n<transcript>\n${chunk}\n</transcript>\n\nWrite the notes for this section.`,
          maxTokens: 2000,
          userId,
          runId,
          operation: 'transcript.condense',
        });
        const result = await heartbeating(() => unlessCancelled(section));
        notes.push(result.text);
        ctx.heartbeat({ chunk: index + 1, of: chunks.length });
      }
      material = notes.join('\n\n');
    }
    return material;
  }

  return {
    /**
     * The video's quota slot and what the effective plan allows: the API's reservation adopted
     * when it made one (`reserved`), else reserved here (or found, on a retry); QuotaExceeded
     * when none is left or the adopted one was given back.
     */
    async reserveVideoQuota(input: { videoId: string; userId: string; reserved?: boolean }): Promise<QuotaReservation> {
      try {
        const { quota, plan } = input.reserved ? await heldVideoQuota(db, input.videoId) : await reserveVideoQuota(db, input.videoId);
        return {
          gate: quota.gate,
          plan: plan.slug,
          allowedContentTypes: await importableContentTypes(db, plan),
          maxDurationSeconds: plan.features.maxVideoDurationSeconds,
        };
      } catch (err) {
        if (err instanceof VideoQuotaExceededError || err instanceof VideoQuotaNotHeldError)
          throw nonRetryable(err.message, FailureType.QuotaExceeded);
        throw err;
      }
    },

    async commitVideoQuota(videoId: string): Promise<boolean> {
      return commitVideoQuota(db, videoId);
    },

    async releaseVideoQuota(videoId: string): Promise<boolean> {
      return releaseVideoQuota(db, videoId);
    },

    /** The import's status; `completed` records video.imported with it (one per video: a completed import is never reopened). */
    async updateVideoStatus(videoId: string, update: { status: VideoProcessingStatus; progress?: number; error?: string }): Promise<void> {
      if (update.status !== 'completed') return updateVideoProcessing(db, videoId, update);
      await inTransactionWithEvents(deps, async (tx, emit) => {
        await updateVideoProcessing(tx, videoId, update);
        const video = await findVideo(tx, videoId);
        if (video?.processing_status !== 'completed') return;
        // Newest version first within a type: the first row of each type is its latest.
        const latest = new Map<string, VideoContentWithType>();
        for (const row of await listVideoContent(tx, videoId)) if (!latest.has(row.content_type_key)) latest.set(row.content_type_key, row);
        await emit({
          type: 'video.imported',
          userId: video.user_id,
          factKey: video.id,
          data: {
            videoId: video.id,
            youtubeVideoId: video.youtube_video_id,
            title: video.title,
            channelTitle: video.channel_title,
            durationSeconds: video.duration_seconds,
            contents: [...latest.values()].map((row) => ({ contentId: row.id, contentType: row.content_type_key, version: row.version })),
            completedAt: isoOrNull(video.processed_at),
          },
        });
      });
    },

    /** Title, channel, duration, stats, tags and thumbnail into the videos row; live and over-long videos are refused. */
    async fetchVideoMetadata(input: { videoId: string; maxDurationSeconds: number }): Promise<{ title: string; durationSeconds: number }> {
      const video = await requireVideo(input.videoId);
      if (!video.youtube_video_id) throw nonRetryable(`video ${input.videoId} is not a YouTube video`, FailureType.InvalidInput);
      const meta = await providers.youtube.getVideo(video.youtube_video_id);
      if (meta.liveBroadcastContent !== 'none') {
        throw nonRetryable(
          `YouTube video ${meta.id} is a ${meta.liveBroadcastContent} broadcast; import it once the stream has ended`,
          FailureType.InvalidInput,
        );
      }
      if (meta.durationSeconds > input.maxDurationSeconds) {
        throw nonRetryable(
          `YouTube video ${meta.id} is ${Math.ceil(meta.durationSeconds / 60)} minutes long; your plan allows up to ${Math.floor(input.maxDurationSeconds / 60)} minutes`,
          FailureType.InvalidInput,
        );
      }
      await saveYoutubeDetails(db, input.videoId, {
        title: meta.title,
        description: meta.description,
        channelId: meta.channelId || null,
        channelTitle: meta.channelTitle || null,
        durationSeconds: meta.durationSeconds,
        viewCount: meta.viewCount,
        likeCount: meta.likeCount,
        commentCount: meta.commentCount,
        tags: meta.tags,
        category: meta.categoryId,
        language: meta.defaultLanguage,
        thumbnailUrl: Object.values(meta.thumbnails)[0]?.url ?? null,
        publishedAt: meta.publishedAt,
      });
      return { title: meta.title, durationSeconds: meta.durationSeconds };
    },

    /** The transcript chain (owner's captions, else the supplied transcript) into the videos row; TranscriptUnavailable when neither exists. */
    async fetchVideoTranscript(input: {
      videoId: string;
      userId: string;
    }): Promise<{ source: string; characters: number; needsCondensing: boolean }> {
      const video = await requireVideo(input.videoId);
      const stored = (source: string, characters: number) => ({ source, characters, needsCondensing: characters > maxTranscriptChars });
      if (video.transcript) return stored(video.transcript_source ?? 'manual', video.transcript.length);
      const supplied = videoMetadata(video).supplied_transcript;
      const transcript = await providers.youtube.getTranscript({
        videoId: video.youtube_video_id ?? '',
        accessToken: await youtubeOwnerToken(input.userId, video.channel_id),
        preferredLanguage: video.language ?? undefined,
        supplied,
      });
      const source = storedTranscriptSource(transcript, supplied?.format);
      await saveVideoTranscript(db, input.videoId, {
        text: transcript.text,
        source,
        segments: transcript.segments,
        language: video.language ?? transcript.language,
      });
      return stored(source, transcript.text.length);
    },

    /** Map-reduce for transcripts beyond the model's context: notes per chunk, kept as the video's digest for every content type. */
    async condenseTranscript(input: { videoId: string; userId: string }): Promise<{ characters: number }> {
      const video = await requireVideo(input.videoId);
      const existing = videoMetadata(video).transcript_digest;
      if (existing) return { characters: existing.length };
      if (!video.transcript) throw nonRetryable(`video ${input.videoId} has no transcript to condense`, FailureType.InvalidInput);
      const digest = await condense(video.transcript, video, input.userId, currentRunId());
      await saveTranscriptDigest(db, input.videoId, digest);
      return { characters: digest.length };
    },

    /**
     * One content type, one version: prompt, system message, temperature and max_tokens from
     * the type's active ai_prompts row. Idempotent on video_content(video_id, content_type_id,
     * version): a version already written is returned without calling the model again.
     */
    async generateVideoContent(input: GenerateContentInput): Promise<GeneratedContent> {
      const contentType = await findActiveContentType(db, input.contentType);
      if (!contentType) throw nonRetryable(`unknown content type ${input.contentType}`, FailureType.InvalidInput);
      const written = () => findContentVersion(db, input.videoId, contentType.id, input.version);
      const done = (row: WrittenContent): GeneratedContent => ({
        contentId: row.id,
        contentType: input.contentType,
        version: input.version,
        tokensUsed: row.tokens_used ?? 0,
      });
      const existing = await written();
      if (existing) return done(existing);

      const video = await requireVideo(input.videoId);
      if (!video.transcript) throw nonRetryable(`video ${input.videoId} has no transcript yet`, FailureType.InvalidInput);
      const runId = currentRunId();
      const startedAt = new Date();
      let generated: { content: string; provider: string | null; model: string | null; promptId: string | null; tokens: number };
      if (!contentType.requires_ai) {
        // The transcript content type is stored, not generated.
        generated = { content: video.transcript, provider: null, model: null, promptId: null, tokens: 0 };
      } else {
        const prompt = await getActivePrompt(db, contentType.key, 'anthropic');
        if (!prompt) throw nonRetryable(`content type ${input.contentType} has no active Anthropic prompt`, FailureType.InvalidInput);
        const generation = providers.anthropic.generate({
          model: prompt.model,
          system: prompt.systemPrompt,
          prompt: fillPromptTemplate(prompt.userPromptTemplate, {
            title: video.title ?? '',
            channel: video.channel_title ?? '',
            transcript:
              videoMetadata(video).transcript_digest ??
              transcriptForPrompt(video.transcript, video.transcript_segments as Array<{ start: number; text: string }> | null),
            instructions: input.instructions,
          }),
          maxTokens: prompt.maxTokens,
          userId: input.userId,
          runId,
          operation: `content.${input.contentType}`,
        });
        const result = await heartbeating(() => unlessCancelled(generation));
        generated = {
          content: result.text,
          provider: 'anthropic',
          model: result.model,
          promptId: prompt.id,
          tokens: result.usage.inputTokens + result.usage.outputTokens,
        };
      }
      const completedAt = new Date();
      // The version and content.generated (one per content row) commit together; a losing attempt records neither.
      const inserted = await inTransactionWithEvents(deps, async (tx, emit) => {
        const inserted = await insertVideoContent(tx, {
          video_id: input.videoId,
          content_type_id: contentType.id,
          version: input.version,
          parent_content_id: input.parentContentId,
          content: generated.content,
          instructions: input.instructions ?? null,
          ai_provider: generated.provider,
          model: generated.model,
          prompt_used_id: generated.promptId,
          tokens_used: generated.tokens,
          response_length: generated.content.length,
          generation_started_at: startedAt,
          generation_completed_at: completedAt,
          generation_duration_ms: completedAt.getTime() - startedAt.getTime(),
          run_id: runId,
          created_by_user_id: input.userId,
        });
        if (!inserted) return inserted;
        await emit({
          type: 'content.generated',
          userId: input.userId,
          factKey: inserted.id,
          data: {
            contentId: inserted.id,
            videoId: input.videoId,
            contentType: input.contentType,
            version: input.version,
            parentContentId: input.parentContentId,
            model: generated.model,
            tokensUsed: generated.tokens,
          },
        });
        return inserted;
      });
      // Another attempt wrote this version first: its row is the one result.
      return done(inserted ?? (await written())!);
    },

    /** The latest version of each content type of the video (all types, or these), for an export. */
    async listExportableContent(input: { videoId: string; contentTypes?: string[] }): Promise<string[]> {
      return listLatestContentIds(db, input.videoId, input.contentTypes);
    },

    /**
     * Renders each content item in each format and uploads it to the user's Google Drive, into
     * folders from cloud_storage_credentials.folder_naming_pattern. One cloud_storage_uploads row
     * per item and format (retry_count counts attempts); completed uploads are never repeated.
     * Revoked authorization fails the uploads with the reason and keeps the content.
     */
    async exportVideoContent(input: {
      videoId: string;
      userId: string;
      contentIds: string[];
      formats: ExportFormat[];
    }): Promise<ExportOutcome> {
      const ctx = Context.current();
      const total = input.contentIds.length * input.formats.length;
      const credential = await findDriveCredential(db, input.userId);
      const unusable = !credential
        ? 'Google Drive is not connected'
        : credential.status !== 'active'
          ? `the Google Drive connection is ${credential.status}; reconnect it`
          : !deps.secrets
            ? 'stored tokens cannot be opened (no encryption key configured)'
            : undefined;
      if (!credential || unusable || !deps.secrets) return { status: 'skipped', uploaded: 0, failed: total, reason: unusable };

      const video = await requireVideo(input.videoId);
      const items = await listContentForExport(db, input.videoId, input.contentIds);
      const uploads = items.flatMap((item) => input.formats.map((format) => ({ item, format })));
      const uploadOf = ({ item, format }: (typeof uploads)[number]): DriveUpload => ({
        userId: input.userId,
        credentialId: credential.id,
        videoId: input.videoId,
        videoContentId: item.id,
        contentType: item.key,
        fileFormat: format,
        fileName: `${sanitizeName(`${video.title ?? 'video'} - ${item.name} v${item.version}`)}.${format}`,
      });

      const markFailed = async (targets: typeof uploads, reason: string) => {
        for (const upload of targets) await recordDriveUploadFailed(db, uploadOf(upload), reason);
      };

      let accessToken: string;
      try {
        accessToken = await googleAccessToken('cloud_storage_credentials', credential, deps.secrets);
      } catch (err) {
        if (!isAuthFailure(err)) throw err;
        const reason = `Google Drive authorization was revoked; reconnect Google Drive and export again (${(err as Error).message})`;
        await markFailed(uploads, reason);
        return { status: 'failed', uploaded: 0, failed: total, reason };
      }

      const folders = new Map<string, { id: string; path: string }>();
      const folderFor = async (contentType: string) => {
        const now = new Date();
        const names = folderPath(credential.folder_naming_pattern, {
          content_type: contentType,
          video_code: video.youtube_video_id ?? video.id.slice(0, 8),
          video_id: video.id,
          video_title: sanitizeName(video.title ?? 'video'),
          yyyy: now.getUTCFullYear(),
          mm: String(now.getUTCMonth() + 1).padStart(2, '0'),
          dd: String(now.getUTCDate()).padStart(2, '0'),
        }).map(sanitizeName);
        const key = names.join('/');
        const cached = folders.get(key);
        if (cached) return cached;
        let parentId = credential.root_folder_id ?? undefined;
        for (const name of names) parentId = (await providers.drive.findOrCreateFolder({ accessToken, name, parentId })).id;
        const folder = { id: parentId ?? 'root', path: [credential.root_folder_path ?? '', ...names].filter(Boolean).join('/') };
        folders.set(key, folder);
        return folder;
      };

      let failedReason: string | undefined;
      for (const [index, upload] of uploads.entries()) {
        const { item, format } = upload;
        const row = uploadOf(upload);
        const claimed = await claimDriveUpload(db, row);
        if (!claimed) continue; // uploaded by an earlier attempt
        try {
          const folder = await folderFor(item.key);
          const file = renderExport({ title: `${video.title ?? 'Video'} — ${item.name}`, body: item.content ?? '' }, format);
          const uploaded = await providers.drive.uploadFile({
            accessToken,
            folderId: folder.id,
            name: row.fileName,
            mimeType: file.mimeType,
            body: file.data,
            idempotencyKey: `video_content:${item.id}:${format}`,
          });
          await completeDriveUpload(db, claimed.id, {
            cloudFileId: uploaded.id,
            cloudFileUrl: uploaded.webViewLink,
            folderId: folder.id,
            folderPath: folder.path,
            sizeBytes: file.data.length,
          });
        } catch (err) {
          const message = (err as Error).message;
          if (isAuthFailure(err)) {
            failedReason = `Google Drive authorization was revoked; reconnect Google Drive and export again (${message})`;
            await markGoogleCredentialRevoked(db, 'cloud_storage_credentials', credential.id, message);
            await markFailed(uploads.slice(index), failedReason);
            break;
          }
          await failDriveUpload(db, claimed.id, message);
          // Transient failures are retried by Temporal; the retry resumes after the completed uploads.
          if (!(err instanceof ApplicationFailure && err.nonRetryable)) throw err;
          failedReason ??= message;
        }
        ctx.heartbeat({ done: index + 1, of: uploads.length });
      }
      await markDriveCredentialUsed(db, credential.id);

      const files = await completedDriveUploads(db, input.contentIds, input.formats);
      const uploaded = files.length;
      const failed = total - uploaded;
      if (failed > 0) logger.warn({ videoId: input.videoId, failed, reason: failedReason }, 'Drive export incomplete');
      const status = failed === 0 ? 'completed' : uploaded === 0 ? 'failed' : 'partial';
      const execution = ctx.info.workflowExecution;
      if (status !== 'failed' && execution) {
        // One export.completed per run execution: a retried activity re-finds the same event.
        const { workflowId, runId } = execution;
        await inTransactionWithEvents(deps, (_tx, emit) =>
          emit({
            type: 'export.completed',
            userId: input.userId,
            factKey: `${workflowId}:${runId}`,
            data: {
              videoId: input.videoId,
              runId: workflowId,
              status,
              uploaded,
              failed,
              files: files.map((file) => ({
                contentId: file.video_content_id,
                contentType: file.content_type,
                format: file.file_format,
                fileUrl: file.cloud_file_url,
              })),
            },
          }),
        );
      }
      return { status, uploaded, failed, ...(failedReason ? { reason: failedReason } : {}) };
    },
  };
}

export type VideoImportActivities = ReturnType<typeof createVideoImportActivities>;
