import { ApplicationFailure } from '@temporalio/common';
import { findChannelForSync, listChannelsDueForSync, recordChannelSync } from '../db/repositories/google-connections';
import { getPlanForUser } from '../db/repositories/plans';
import { findActiveAutoExport } from '../db/repositories/user-preferences';
import { findImportedYoutubeVideos, openImportVideo, VideoQuotaExceededError } from '../db/repositories/video-import';
import { isAuthFailure } from '../providers/errors';
import { createGoogleTokens } from '../providers/google/tokens';
import type { YoutubeChannel } from '../providers/youtube/adapter';
import type { VideoImportInput } from '../schemas/video-import';
import type { ActivityDeps } from './deps';

/** Upload pages read per sync (50 uploads, 1 quota unit each): uploads beyond the 200 newest since the last sweep are left to import by hand. */
const MAX_UPLOAD_PAGES = 4;

export type ChannelSyncListing =
  | { status: 'skipped'; reason: 'auto-import-off' | 'not-in-plan' | 'expired' }
  | {
      status: 'listed';
      /** One import per new upload, its row opened and its quota slot reserved (the run adopts it). */
      imports: VideoImportInput[];
      /** Uploads published up to here are handled: the sync's start, or just before the first upload the quota refused. */
      syncedThrough: string;
      subscriberCount: number;
      videoCount: number;
    };

export function createChannelSyncActivities(deps: ActivityDeps) {
  const { db, providers, logger } = deps;
  return {
    async listChannelsDueForSync(input: { afterId: string | null; limit: number }): Promise<string[]> {
      return listChannelsDueForSync(db, input.afterId, input.limit);
    },

    /**
     * Lists the channel's uploads published since its last sync (YouTube quota spent through
     * provider_quota_usage: out of budget the activity waits for the Pacific-time reset) and opens
     * an import for each one the user does not have yet, through the same quota gate as
     * POST /v1/videos/import. Retrying finds the rows it opened and opens them again, never twice.
     */
    async listNewChannelUploads(input: { channelRowId: string }): Promise<ChannelSyncListing> {
      const channel = await findChannelForSync(db, input.channelRowId);
      if (!channel) return { status: 'skipped', reason: 'auto-import-off' };
      const plan = await getPlanForUser(db, channel.user_id);
      if (!plan?.features.youtubeAutoImport) return { status: 'skipped', reason: 'not-in-plan' };
      if (!deps.secrets)
        throw ApplicationFailure.nonRetryable('the worker has no encryption key to open YouTube channel tokens', 'Configuration');

      const startedAt = new Date();
      const since = channel.last_synced_at ?? startedAt;
      let accessToken: string;
      // Providers are built on first use: a stack without Google configured still starts.
      const youtube = providers.youtube;
      let details: YoutubeChannel;
      const uploads: Array<{ videoId: string; publishedAt: Date }> = [];
      try {
        accessToken = await createGoogleTokens({ db, providers, secrets: deps.secrets, logger })('youtube_oauth_tokens', {
          id: channel.token_id,
          encrypted_tokens: channel.encrypted_tokens,
          token_expires_at: channel.token_expires_at,
        });
        details = await youtube.getChannel({ mine: true, accessToken });
        let pageToken: string | undefined;
        for (let page = 0; page < MAX_UPLOAD_PAGES; page += 1) {
          const listed = await youtube.listUploads({
            uploadsPlaylistId: details.uploadsPlaylistId,
            pageToken,
            maxResults: 50,
            accessToken,
          });
          const fresh = listed.items
            .map((item) => ({ videoId: item.videoId, publishedAt: new Date(item.publishedAt ?? 0) }))
            .filter((item) => item.publishedAt > since);
          uploads.push(...fresh);
          // Newest first: a page reaching back past the last sync is the last one needed.
          if (fresh.length < listed.items.length || !listed.nextPageToken) break;
          pageToken = listed.nextPageToken;
        }
      } catch (err) {
        // invalid_grant has expired the connection (and told the user): the sweep leaves it alone from now on.
        if (isAuthFailure(err)) return { status: 'skipped', reason: 'expired' };
        throw err;
      }

      const known = await findImportedYoutubeVideos(
        db,
        channel.user_id,
        uploads.map((u) => u.videoId),
      );
      const autoExport = await findActiveAutoExport(db, channel.user_id);
      const imports: VideoImportInput[] = [];
      let syncedThrough = startedAt;
      // Oldest first, so a quota refusal leaves the newer uploads for the next sync.
      for (const upload of uploads.reverse()) {
        const ours = known.get(upload.videoId);
        if (ours && ours.status !== 'pending') continue;
        try {
          const opening = await openImportVideo(db, {
            userId: channel.user_id,
            youtubeVideoId: upload.videoId,
            sourceUrl: `https://www.youtube.com/watch?v=${upload.videoId}`,
          });
          if (opening.outcome === 'already-imported') continue;
          imports.push({
            videoId: opening.video.id,
            userId: channel.user_id,
            contentTypes: [],
            ...(autoExport ? { export: autoExport } : {}),
            quotaReserved: true,
          });
        } catch (err) {
          if (!(err instanceof VideoQuotaExceededError)) throw err;
          logger.info({ channelRowId: channel.id, userId: channel.user_id }, 'video quota spent: newer uploads wait for the next sync');
          syncedThrough = new Date(upload.publishedAt.getTime() - 1);
          break;
        }
      }
      return {
        status: 'listed',
        imports,
        syncedThrough: syncedThrough.toISOString(),
        subscriberCount: details.subscriberCount,
        videoCount: details.videoCount,
      };
    },

    async recordChannelSynced(input: {
      channelRowId: string;
      syncedThrough: string;
      subscriberCount: number;
      videoCount: number;
    }): Promise<void> {
      await recordChannelSync(db, input.channelRowId, {
        syncedThrough: new Date(input.syncedThrough),
        subscriberCount: input.subscriberCount,
        videoCount: input.videoCount,
      });
    },
  };
}

export type ChannelSyncActivities = ReturnType<typeof createChannelSyncActivities>;
