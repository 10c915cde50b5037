import { ApplicationFailure } from '@temporalio/common';
import { parseTranscript, type ParsedTranscript, type TranscriptFormat } from '../../lib/transcript';
import { FailureType } from '../../schemas/failures';

export type TranscriptSource = 'youtube_captions' | 'user_supplied';

export interface YoutubeCaptionTrack {
  id: string;
  language: string;
  name: string;
  /** 'standard' (uploaded), 'asr' (automatic) or 'forced'. */
  trackKind: string;
  isDraft: boolean;
}

/** The YouTube adapter's caption calls: all this module needs of it. */
export interface YoutubeCaptions {
  listCaptionTracks(videoId: string, accessToken: string): Promise<YoutubeCaptionTrack[]>;
  downloadCaption(trackId: string, accessToken: string, format?: 'vtt' | 'srt'): Promise<string>;
}

export interface Transcript extends ParsedTranscript {
  source: TranscriptSource;
  language: string | null;
}

export interface TranscriptRequest {
  videoId: string;
  /** The channel owner's token: YouTube serves caption files only to the video's owner. */
  accessToken?: string;
  preferredLanguage?: string;
  /** A transcript the user pasted or uploaded (SRT, WebVTT or plain text). */
  supplied?: { content: string; format?: TranscriptFormat; language?: string };
}

/** The video's language first; within it, uploaded tracks before automatic ones; drafts never count. */
export function pickTrack(tracks: YoutubeCaptionTrack[], preferredLanguage?: string): YoutubeCaptionTrack | undefined {
  const lang = preferredLanguage?.toLowerCase().split('-')[0];
  const score = (t: YoutubeCaptionTrack) =>
    (lang && t.language.toLowerCase().split('-')[0] === lang ? 2 : 0) + (t.trackKind === 'asr' ? 0 : 1);
  return tracks.filter((t) => !t.isDraft).sort((a, b) => score(b) - score(a))[0];
}

/** YouTube serves caption files to the video's owner only: what a user without them must do (the API says the same up front). */
export const NOT_OWNED_TRANSCRIPT_HINT = 'connect the channel that owns it or supply a transcript';

/** Failures that mean "no captions for us here", so the chain moves on; anything transient propagates. */
const FALL_THROUGH = new Set<string>([FailureType.NotFound, FailureType.ProviderAuth, FailureType.InvalidInput]);

async function fromYoutubeCaptions(youtube: YoutubeCaptions, request: TranscriptRequest): Promise<Transcript | undefined> {
  if (!request.accessToken) return undefined;
  try {
    const track = pickTrack(await youtube.listCaptionTracks(request.videoId, request.accessToken), request.preferredLanguage);
    if (!track) return undefined;
    const parsed = parseTranscript(await youtube.downloadCaption(track.id, request.accessToken, 'vtt'), 'vtt');
    return parsed.segments.length > 0 ? { ...parsed, source: 'youtube_captions', language: track.language || null } : undefined;
  } catch (err) {
    if (err instanceof ApplicationFailure && err.nonRetryable && FALL_THROUGH.has(err.type ?? '')) return undefined;
    throw err;
  }
}

function fromSupplied(request: TranscriptRequest): Transcript | undefined {
  if (!request.supplied?.content.trim()) return undefined;
  let parsed: ParsedTranscript;
  try {
    parsed = parseTranscript(request.supplied.content, request.supplied.format);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`the supplied transcript could not be read: ${(err as Error).message}`, FailureType.InvalidInput);
  }
  return parsed.text ? { ...parsed, source: 'user_supplied', language: request.supplied.language ?? null } : undefined;
}

/** The transcript-source chain: the owner's YouTube captions, else the user's own transcript; nothing is invented. */
export async function resolveTranscript(youtube: YoutubeCaptions, request: TranscriptRequest): Promise<Transcript> {
  const transcript = (await fromYoutubeCaptions(youtube, request)) ?? fromSupplied(request);
  if (transcript) return transcript;
  const why = request.accessToken ? 'the video has no usable caption track; supply a transcript' : NOT_OWNED_TRANSCRIPT_HINT;
  throw ApplicationFailure.nonRetryable(`no transcript for video ${request.videoId}: ${why}`, FailureType.TranscriptUnavailable);
}
