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
