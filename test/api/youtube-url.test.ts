import { parseYouTubeVideoId } from '../../api/youtube-url';

describe('parseYouTubeVideoId', () => {
  const id = 'dQw4w9WgXcQ';

  it.each([
    [`https://www.youtube.com/watch?v=${id}`],
    [`https://youtube.com/watch?v=${id}&t=42s&list=PL123`],
    [`https://m.youtube.com/watch?v=${id}`],
    [`https://music.youtube.com/watch?v=${id}`],
    [`http://www.youtube.com/watch/?v=${id}`],
    [`https://youtu.be/${id}`],
    [`https://youtu.be/${id}?si=abc&t=10`],
    [`https://www.youtube.com/shorts/${id}`],
    [`https://youtube.com/shorts/${id}/`],
    [`https://www.youtube.com/embed/${id}?autoplay=1`],
    [`https://www.youtube-nocookie.com/embed/${id}`],
    [`https://www.youtube.com/live/${id}`],
    [`  https://YOUTU.BE/${id}  `],
  ])('reads the id from %s', (url) => {
    expect(parseYouTubeVideoId(url)).toBe(id);
  });

  it.each([
    ['an id one character short', `https://youtu.be/${id.slice(1)}`],
    ['an id one character long', `https://youtu.be/${id}x`],
    ['an id with a forbidden character', 'https://youtu.be/dQw4w9WgXc!'],
    ['a look-alike host', `https://youtube.com.evil.example/watch?v=${id}`],
    ['a subdomain of youtu.be', `https://evil.youtu.be/${id}`],
    ['another host', `https://vimeo.com/${id}`],
    ['a watch URL without v', 'https://www.youtube.com/watch?list=PL123'],
    ['two v parameters', `https://www.youtube.com/watch?v=${id}&v=aaaaaaaaaaa`],
    ['a channel page', 'https://www.youtube.com/@creator'],
    ['extra path segments', `https://www.youtube.com/shorts/${id}/extra`],
    ['shorts on the nocookie host', `https://www.youtube-nocookie.com/shorts/${id}`],
    ['a port', `https://www.youtube.com:8443/watch?v=${id}`],
    ['credentials', `https://user:pass@www.youtube.com/watch?v=${id}`],
    ['another scheme', `javascript://www.youtube.com/watch?v=${id}`],
    ['a bare id', id],
    ['not a URL', 'youtube dot com'],
  ])('rejects %s', (_why, url) => {
    expect(parseYouTubeVideoId(url)).toBeNull();
  });
});
