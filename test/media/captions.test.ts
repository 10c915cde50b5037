import { type CaptionWord, buildAssScript, groupIntoCues, toSrt, toWebVtt, wordsInWindow } from '../../lib/media';
import { drawtextCaptionFilters } from '../../lib/media/captions';
import { MediaRequestError } from '../../lib/media/errors';

const timed = (text: string, start: number, step = 0.4, length = 0.3): CaptionWord[] =>
  text.split(' ').map((word, i) => ({ text: word, start: start + i * step, end: start + i * step + length }));

describe('groupIntoCues', () => {
  const limits = { maxWords: 3, maxChars: 20, maxGapSeconds: 0.6 };

  it('splits at the word limit, the character limit, a sentence end and a long pause', () => {
    const words = [
      ...timed('one two three four', 0),
      ...timed('Done. next', 1.6),
      ...timed('incomprehensibly lengthy', 2.4),
      ...timed('after pause', 5),
    ];
    expect(groupIntoCues(words, limits).map((cue) => cue.words.map((w) => w.text).join(' '))).toEqual([
      'one two three',
      'four Done.',
      'next',
      'incomprehensibly',
      'lengthy',
      'after pause',
    ]);
  });

  it('times a cue from its first word start to its last word end', () => {
    const [cue] = groupIntoCues(timed('a b', 1.5), limits);
    expect(cue?.start).toBe(1.5);
    expect(cue?.end).toBeCloseTo(2.2, 9);
  });

  it('rejects empty words, negative or reversed timings and out-of-order words', () => {
    expect(() => groupIntoCues([{ text: ' ', start: 0, end: 1 }], limits)).toThrow(MediaRequestError);
    expect(() => groupIntoCues([{ text: 'a', start: 2, end: 1 }], limits)).toThrow(MediaRequestError);
    expect(() => groupIntoCues([{ text: 'a', start: -1, end: 1 }], limits)).toThrow(MediaRequestError);
    expect(() => groupIntoCues([...timed('b', 2), ...timed('a', 1)], limits)).toThrow(/time order/);
  });
});

describe('wordsInWindow', () => {
  it('keeps words overlapping the clip, re-timed to it and clamped to its bounds', () => {
    const words = timed('before edge inside tail after', 0, 1, 0.8);
    expect(wordsInWindow(words, 1.5, 2)).toEqual([
      { text: 'edge', start: 0, end: 0.3 },
      { text: 'inside', start: 0.5, end: 1.3 },
      { text: 'tail', start: 1.5, end: 2 },
    ]);
  });
});

describe('SRT and WebVTT export', () => {
  const words = [...timed('Hello there, <friend> & all.', 0.5), ...timed('Second sentence', 62)];

  it('writes numbered SubRip cues with comma milliseconds', () => {
    expect(toSrt(words)).toBe(
      '1\n00:00:00,500 --> 00:00:02,400\nHello there, <friend> & all.\n\n' + '2\n00:01:02,000 --> 00:01:02,700\nSecond sentence\n',
    );
  });

  it('writes a WEBVTT file with dot milliseconds and escaped markup characters', () => {
    expect(toWebVtt(words)).toBe(
      'WEBVTT\n\n' +
        '00:00:00.500 --> 00:00:02.400\nHello there, &lt;friend&gt; &amp; all.\n\n' +
        '00:01:02.000 --> 00:01:02.700\nSecond sentence\n',
    );
  });

  it('formats hours', () => {
    expect(toSrt([{ text: 'late', start: 3723.25, end: 3724 }])).toContain('01:02:03,250 --> 01:02:04,000');
  });
});

describe('buildAssScript', () => {
  const frame = { width: 1080, height: 1920 };
  const events = (script: string) => script.split('\n').filter((line) => line.startsWith('Dialogue:'));

  it('sizes the style to the frame and writes one upper-case event per cue for bold', () => {
    const script = buildAssScript(timed('we ship {braces} and \\N today', 1), { style: 'bold', frame, fontFamily: 'DejaVu Sans' });
    expect(script).toContain('PlayResX: 1080\nPlayResY: 1920');
    // 7.5% of the short side, bold, white text, black outline, bottom-centre, 12% margin.
    expect(script).toContain(
      'Style: Caption,DejaVu Sans,81,&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,-1,0,0,0,100,100,0,0,1,6,0,2,54,54,230,1',
    );
    expect(events(script)).toEqual([
      'Dialogue: 0,0:00:01.00,0:00:02.10,Caption,,0,0,0,,WE SHIP (BRACES)',
      'Dialogue: 0,0:00:02.20,0:00:03.30,Caption,,0,0,0,,AND /N TODAY',
    ]);
  });

  it('draws minimal captions in a translucent box (BorderStyle 3)', () => {
    const script = buildAssScript(timed('quiet words', 0), {
      style: 'minimal',
      frame: { width: 640, height: 360 },
      fontFamily: 'DejaVu Sans',
    });
    expect(script).toMatch(/^Style: Caption,DejaVu Sans,18,&H00FFFFFF,&H00FFFFFF,&H66000000,&H80000000,0,0,0,0,100,100,0,0,3,/m);
    expect(events(script)).toEqual(['Dialogue: 0,0:00:00.00,0:00:00.70,Caption,,0,0,0,,quiet words']);
  });

  it('highlights the word being spoken in karaoke, one event per word, without gaps', () => {
    const script = buildAssScript(timed('one two three', 2), { style: 'karaoke', frame, fontFamily: 'DejaVu Sans' });
    const highlight = '{\\c&H0000D4FF&}';
    expect(events(script)).toEqual([
      `Dialogue: 0,0:00:02.00,0:00:02.40,Caption,,0,0,0,,${highlight}ONE{\\r} TWO THREE`,
      `Dialogue: 0,0:00:02.40,0:00:02.80,Caption,,0,0,0,,ONE ${highlight}TWO{\\r} THREE`,
      `Dialogue: 0,0:00:02.80,0:00:03.10,Caption,,0,0,0,,ONE TWO ${highlight}THREE{\\r}`,
    ]);
  });
});

describe('drawtextCaptionFilters', () => {
  it('shows each cue only during its time, reading its text from a file', () => {
    const { filters, files } = drawtextCaptionFilters(timed('hi there', 1), {
      style: 'minimal',
      frame: { width: 640, height: 360 },
      fontFile: (bold) => (bold ? '/fonts/b.ttf' : '/fonts/r.ttf'),
      textDir: '/tmp/x',
    });
    expect(files).toEqual([{ name: 'caption-0.txt', content: 'hi there' }]);
    expect(filters).toEqual([
      'drawtext=fontfile=/fonts/r.ttf:textfile=/tmp/x/caption-0.txt:expansion=none:fontsize=18:fontcolor=0xFFFFFF@1:box=1:boxcolor=0x000000@0.6:boxborderw=5:x=(w-text_w)/2:y=h-text_h-22:enable=between(t\\,1.000\\,1.700)',
    ]);
  });
});
