import { detectTranscriptFormat, parseSrt, parseTimestamp, parseTranscript, parseVtt } from '../../lib/transcript';
import { parseIsoDuration } from '../../providers/youtube/adapter';
import { pickTrack, type YoutubeCaptionTrack } from '../../providers/youtube/transcript-source';

describe('transcript parsing', () => {
  it('reads SRT and VTT timestamps, with or without hours', () => {
    expect(parseTimestamp('00:01:02,345')).toBeCloseTo(62.345);
    expect(parseTimestamp('01:00:00.5')).toBeCloseTo(3600.5);
    expect(parseTimestamp('02:03.040')).toBeCloseTo(123.04);
  });

  it('parses SRT cues, stripping formatting tags and positioning codes', () => {
    const srt =
      '1\r\n00:00:01,000 --> 00:00:03,500\r\n<i>Hello</i> there,\r\nfriends.\r\n\r\n2\r\n00:00:04,000 --> 00:00:06,000\r\n{\\an8}Second &amp; last cue.\r\n';
    expect(parseSrt(srt)).toEqual([
      { start: 1, end: 3.5, text: 'Hello there, friends.' },
      { start: 4, end: 6, text: 'Second & last cue.' },
    ]);
  });

  it('parses WebVTT, skipping header, NOTE and STYLE blocks, cue ids, settings and voice/word-timing tags', () => {
    const vtt = [
      'WEBVTT - talk',
      'Kind: captions',
      '',
      'NOTE produced by hand',
      '',
      'STYLE',
      '::cue { color: yellow }',
      '',
      'intro',
      '00:01.000 --> 00:04.000 align:start position:0%',
      '<v Maya>Welcome back<00:00:02.000><c> everyone</c>',
      '',
      '00:00:04.000 --> 00:00:06.000',
      'Welcome back everyone',
      'today we talk thumbnails',
    ].join('\n');
    expect(parseVtt(vtt)).toEqual([
      { start: 1, end: 4, text: 'Welcome back everyone' },
      // The rolling repeat of the previous line (YouTube auto-captions) is dropped.
      { start: 4, end: 6, text: 'today we talk thumbnails' },
    ]);
  });

  it('rejects a VTT document without its header', () => {
    expect(() => parseVtt('00:01.000 --> 00:02.000\nhi')).toThrow(/WEBVTT/);
  });

  it('detects the format and joins cues into paragraphs where the speaker pauses', () => {
    const srt =
      '1\n00:00:00,000 --> 00:00:02,000\nFirst idea.\n\n2\n00:00:02,100 --> 00:00:04,000\nSame paragraph.\n\n3\n00:00:07,000 --> 00:00:09,000\nAfter a pause.\n';
    expect(detectTranscriptFormat(srt)).toBe('srt');
    expect(detectTranscriptFormat('WEBVTT\n\n')).toBe('vtt');
    expect(detectTranscriptFormat('Just words someone pasted.')).toBe('text');
    expect(parseTranscript(srt).text).toBe('First idea. Same paragraph.\n\nAfter a pause.');
  });

  it('keeps plain text as is and invents no timings for it', () => {
    expect(parseTranscript('  Line one.\r\nLine   two.  ')).toEqual({ text: 'Line one.\nLine two.', segments: [] });
  });
});

describe('parseIsoDuration', () => {
  it.each([
    ['PT4M13S', 253],
    ['PT1H', 3600],
    ['PT1H0M5S', 3605],
    ['P1DT2H', 93_600],
    ['PT0S', 0],
    ['P0D', 0],
    ['garbage', 0],
  ])('%s → %i s', (iso, seconds) => {
    expect(parseIsoDuration(iso)).toBe(seconds);
  });
});

describe('caption track choice', () => {
  const track = (id: string, language: string, trackKind: string, isDraft = false): YoutubeCaptionTrack => ({
    id,
    language,
    name: '',
    trackKind,
    isDraft,
  });

  it("takes the video's language first, and within it the uploaded track before the automatic one; never a draft", () => {
    const tracks = [
      track('std-de', 'de', 'standard'),
      track('asr-en', 'en', 'asr'),
      track('std-en-draft', 'en', 'standard', true),
      track('std-en', 'en-GB', 'standard'),
    ];
    expect(pickTrack(tracks, 'en')?.id).toBe('std-en');
    expect(
      pickTrack(
        tracks.filter((t) => t.id !== 'std-en'),
        'en',
      )?.id,
    ).toBe('asr-en');
    expect(pickTrack(tracks, 'fr')?.id).toBe('std-de');
  });
});
