import { segmentsFromWords } from '../../activities/video-ingest/transcribe';
import { ASSEMBLYAI_WEBHOOK_HEADER, AssemblyAiAdapter } from '../../providers/assemblyai';
import { WebhookVerificationError } from '../../providers/jobs';
import { speechOver } from '../../sandbox/assemblyai';

const word = (text: string, start: number, end = start + 0.3) => ({ word: text, start, end, confidence: 0.9 });

describe('segmentsFromWords (speech-to-text words → transcript cues)', () => {
  it('ends a cue at a sentence end, at a pause of a second or more, and after 15 words', () => {
    const words = [
      word('Hello', 0),
      word('there.', 0.4),
      word('after', 0.8),
      word('a', 1.2),
      word('pause', 2.6), // 1.1 s after the previous word ended
      ...Array.from({ length: 16 }, (_, i) => word(`w${i}`, 3 + i * 0.4)),
    ];
    const segments = segmentsFromWords(words);
    expect(segments.map((s) => s.text)).toEqual([
      'Hello there.',
      'after a',
      `pause ${Array.from({ length: 14 }, (_, i) => `w${i}`).join(' ')}`,
      'w14 w15',
    ]);
    expect(segments[0]).toMatchObject({ start: 0, words: [{ word: 'Hello', start: 0, end: 0.3 }, expect.anything()] });
    expect(segments[0]!.end).toBeCloseTo(0.7);
    expect(segments.flatMap((s) => s.words ?? [])).toHaveLength(words.length);
  });
});

describe('AssemblyAI sandbox speech', () => {
  it('puts words only inside the voiced stretches, deterministically, with sentence ends', () => {
    const words = speechOver([
      [0, 4],
      [8, 10],
    ]);
    expect(words.every((w) => (w.start >= 0 && w.end <= 4000) || (w.start >= 8000 && w.end <= 10_000))).toBe(true);
    expect(words.length).toBe(15);
    expect(words[11]!.text.endsWith('.')).toBe(true);
    expect(speechOver([[0, 4]])).toEqual(words.slice(0, 10));
  });
});

describe('AssemblyAI webhook verification', () => {
  const secret = 'a-long-random-secret';
  const adapter = new AssemblyAiAdapter({
    apiKey: 'key',
    baseUrl: 'http://127.0.0.1:9',
    webhookSecret: secret,
    call: () => Promise.reject(new Error('no provider call expected')),
  });
  const body = Buffer.from(JSON.stringify({ transcript_id: 't-1', status: 'completed' }));
  const headers = (value?: string) => (name: string) => (name === ASSEMBLYAI_WEBHOOK_HEADER ? value : undefined);

  it('accepts our auth header and normalises the notification (delivery keyed by transcript and status)', async () => {
    await expect(adapter.verify(body, headers(secret))).resolves.toEqual({
      deliveryId: 't-1:completed',
      update: { provider: 'assemblyai', jobId: 't-1', status: 'succeeded', progress: 100 },
    });
  });

  it('refuses a missing or wrong header and a body that is not a transcript notification', async () => {
    await expect(adapter.verify(body, headers(undefined))).rejects.toBeInstanceOf(WebhookVerificationError);
    await expect(adapter.verify(body, headers(`${secret}x`))).rejects.toBeInstanceOf(WebhookVerificationError);
    await expect(adapter.verify(Buffer.from('{"status":"completed"}'), headers(secret))).rejects.toBeInstanceOf(WebhookVerificationError);
  });
});
