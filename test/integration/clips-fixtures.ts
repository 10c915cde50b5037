/** A timed transcript for the generated 9-second test video: four sentences, each of five words or more. */
export const TALK_SRT = `1
00:00:00,200 --> 00:00:02,000
Batch filming saves me nine hours every week.

2
00:00:02,200 --> 00:00:04,200
The first step is writing down every audience question.

3
00:00:04,400 --> 00:00:06,400
Group those questions into three clear themes today.

4
00:00:06,600 --> 00:00:08,600
Each theme becomes a short series of videos.
`;

const CAPTION_PHRASES = [
  'so the thing nobody tells you about batch filming',
  'is that the planning takes longer than the shoot',
  'i write every hook on a card before i start',
  'then i film them all in one take each',
  'and the edit goes twice as fast because of it',
  'my audience asks the same questions every week',
  'so i group them into themes and make a series',
  'each series gets one thumbnail style and one color',
];

/**
 * An automatic-caption style SRT of a talk lasting `seconds`: lower case, no punctuation at all,
 * 3-second cues back to back, with a short pause after every fourth cue (a breath between ideas).
 */
export function unpunctuatedSrt(seconds: number): string {
  const cues: string[] = [];
  const stamp = (t: number) => {
    const ms = Math.round(t * 1000);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)},${pad(ms % 1000, 3)}`;
  };
  let start = 0.5;
  for (let i = 0; start + 3 <= seconds; i++) {
    const end = start + 3;
    cues.push(`${i + 1}\n${stamp(start)} --> ${stamp(end)}\n${CAPTION_PHRASES[i % CAPTION_PHRASES.length]}\n`);
    start = (i + 1) % 4 === 0 ? end + 0.8 : end;
  }
  return cues.join('\n');
}
