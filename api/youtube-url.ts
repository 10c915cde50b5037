/** A YouTube video id: exactly 11 characters of the base64url alphabet. */
export const YOUTUBE_VIDEO_ID = /^[A-Za-z0-9_-]{11}$/;

const WATCH_HOSTS = new Set(['youtube.com', 'www.youtube.com', 'm.youtube.com', 'music.youtube.com']);
const EMBED_HOSTS = new Set([...WATCH_HOSTS, 'youtube-nocookie.com', 'www.youtube-nocookie.com']);
/** Path forms whose second segment is the id: /shorts/<id>, /embed/<id>, /live/<id>. */
const ID_PATH = /^\/(shorts|embed|live)\/([^/]+)\/?$/;

/**
 * The 11-character video id of a YouTube video URL (watch, youtu.be, shorts, embed, live
 * forms), or null for anything else: other hosts, other paths, ports, credentials, playlists
 * without a video, ids of the wrong length or alphabet.
 */
export function parseYouTubeVideoId(input: string): string | null {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return null;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.port !== '' || url.username !== '' || url.password !== '') return null;
  const host = url.hostname.toLowerCase();
  let id: string | null = null;
  if (host === 'youtu.be') {
    id = /^\/([^/]+)\/?$/.exec(url.pathname)?.[1] ?? null;
  } else if (WATCH_HOSTS.has(host) && url.pathname.replace(/\/$/, '') === '/watch') {
    const ids = url.searchParams.getAll('v');
    id = ids.length === 1 ? ids[0]! : null;
  } else {
    const match = ID_PATH.exec(url.pathname);
    if (match && (match[1] === 'embed' ? EMBED_HOSTS : WATCH_HOSTS).has(host)) id = match[2]!;
  }
  return id !== null && YOUTUBE_VIDEO_ID.test(id) ? id : null;
}
