import { dimensionsFor } from '../../lib/media';
import { MediaRequestError } from '../../lib/media/errors';
import { assColor, ffmpegColor, filter, parseColor, reframeFilters } from '../../lib/media/filters';
import { parseProgressTime } from '../../lib/media/run-ffmpeg';
import { estimateTextWidth, layoutThumbnailText, wrapWords } from '../../lib/media/thumbnail-layout';

describe('dimensionsFor', () => {
  it.each([
    ['9:16', 1080, { width: 1080, height: 1920 }],
    ['9:16', 720, { width: 720, height: 1280 }],
    ['16:9', 1080, { width: 1920, height: 1080 }],
    ['1:1', 720, { width: 720, height: 720 }],
    ['9:16', 240, { width: 240, height: 426 }],
  ] as const)('%s with short side %d is %o', (ratio, shortSide, expected) => {
    expect(dimensionsFor(ratio, shortSide)).toEqual(expected);
  });

  it('rejects odd or tiny short sides', () => {
    expect(() => dimensionsFor('9:16', 721)).toThrow(MediaRequestError);
    expect(() => dimensionsFor('1:1', 8)).toThrow(MediaRequestError);
  });
});

describe('filter', () => {
  it('escapes option values for the option parser and the graph parser', () => {
    expect(filter('ass', { filename: "/tmp/it's: a, [b];c\\d.ass" })).toBe(
      "ass=filename=/tmp/it\\\\\\'s\\\\: a\\, \\[b\\]\\;c\\\\\\\\d.ass",
    );
    expect(filter('crop', { w: 'min(iw,ih*9/16)' })).toBe('crop=w=min(iw\\,ih*9/16)');
    expect(filter('hflip')).toBe('hflip');
  });

  it('builds a centre crop or a letterbox for the target frame', () => {
    expect(reframeFilters({ width: 720, height: 1280 }, 'crop')).toEqual([
      'crop=w=min(iw\\,ih*720/1280):h=min(ih\\,iw*1280/720)',
      'scale=w=720:h=1280',
      'setsar=sar=1',
    ]);
    expect(reframeFilters({ width: 720, height: 720 }, 'pad')).toEqual([
      'scale=w=720:h=720:force_original_aspect_ratio=decrease',
      'pad=w=720:h=720:x=(ow-iw)/2:y=(oh-ih)/2:color=black',
      'setsar=sar=1',
    ]);
  });
});

describe('colours', () => {
  it('parses #rgb, #rrggbb and #rrggbbaa', () => {
    expect(parseColor('#f80')).toEqual({ r: 255, g: 136, b: 0, alpha: 1 });
    expect(parseColor('#1E3A8A')).toEqual({ r: 30, g: 58, b: 138, alpha: 1 });
    expect(parseColor('#00000080').alpha).toBeCloseTo(0.502, 3);
    expect(() => parseColor('red')).toThrow(MediaRequestError);
  });

  it('converts to ffmpeg (0xRRGGBB@a) and ASS (&HAABBGGRR, AA = transparency) syntax', () => {
    expect(ffmpegColor('#ffd400')).toBe('0xFFD400@1');
    expect(ffmpegColor('#000000', 0.6)).toBe('0x000000@0.6');
    expect(assColor('#ffd400')).toBe('&H0000D4FF');
    expect(assColor('#000000', 0.6)).toBe('&H66000000');
  });
});

describe('thumbnail text layout', () => {
  it('wraps greedily and keeps an over-long word on its own line', () => {
    expect(wrapWords('a bb ccc dddddddd e', (line) => line.length <= 6)).toEqual(['a bb', 'ccc', 'dddddddd', 'e']);
  });

  it('estimates capitals wider than lower case, and bold wider than regular', () => {
    expect(estimateTextWidth('ABC', 100, true)).toBeGreaterThan(estimateTextWidth('abc', 100, true));
    expect(estimateTextWidth('abc', 100, true)).toBeGreaterThan(estimateTextWidth('abc', 100, false));
  });

  it('shrinks the font until the text fits the line limit, and places the block', () => {
    const image = { width: 1280, height: 720 };
    const text = 'The one habit that quietly doubled my productivity this year';
    const layout = layoutThumbnailText({ text, maxLines: 2, position: 'bottom' }, image);
    expect(layout.lines).toHaveLength(2);
    expect(layout.lines.join(' ')).toBe(text);
    expect(layout.fontSize).toBeLessThan(86);
    for (const line of layout.lines) expect(estimateTextWidth(line, layout.fontSize, true)).toBeLessThanOrEqual(1280 * 0.9);
    const blockBottom = layout.top + layout.lineHeight + layout.fontSize;
    expect(blockBottom).toBe(720 - Math.round(720 * 0.08));
  });

  it('centres a short title at the default size', () => {
    const layout = layoutThumbnailText({ text: 'Wow', uppercase: true }, { width: 720, height: 1280 });
    expect(layout).toMatchObject({ lines: ['WOW'], fontSize: 86, top: Math.round((1280 - 86) / 2), boxPadding: 0 });
  });
});

describe('parseProgressTime', () => {
  it('reads the time= field of an ffmpeg stats line', () => {
    expect(parseProgressTime('frame=  45 fps=0.0 q=28.0 size=     256kB time=00:01:02.50 bitrate= 1.2kbits/s speed=2x')).toBe(62.5);
    expect(parseProgressTime('Stream #0:0: Video: h264')).toBeUndefined();
  });
});
