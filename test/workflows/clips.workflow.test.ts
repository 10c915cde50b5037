import { ApplicationFailure } from '@temporalio/common';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { RunClosure } from '../../db/repositories/runs';
import type { ClipsInput, PickMomentsInput, PlannedClip, RenderClipInput } from '../../schemas/clips';
import { progressQuery } from '../../workflows/common/progress';
import { clipsWorkflowId } from '../../workflows/clips/contract';
import { workflowBundle, createTimeSkippingEnv } from '../helpers/temporal';
import { recordingActivities, untilCancelled } from '../helpers/workflow-tests';

/** The clips workflow's decisions with mocked activities on the time-skipping server. */
describe('clipsWorkflow (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  let queueCount = 0;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());

  type Impl = (...args: any[]) => unknown;
  const planned = (count: number): PlannedClip[] =>
    Array.from({ length: count }, (_, i) => ({ clipId: `clip-${i}`, clipIndex: i, start: i * 10, end: i * 10 + 5, title: `moment ${i}` }));

  /** Main-queue and media-queue fakes, each recording its calls with the queue it ran on. */
  function fakeActivities(overrides: Record<string, Impl> = {}) {
    const { activities, calls, named } = recordingActivities(
      {
        recordRunStarted: () => undefined,
        recordRunProgress: () => undefined,
        recordRunClosed: () => undefined,
        pickClipMoments: (p: PickMomentsInput) => planned(p.count),
        failClip: () => undefined,
        settleUnfinishedClips: () => 0,
        prepareClipSource: () => ({ durationSeconds: 120, width: 1920, height: 1080, words: 300 }),
        renderClip: (r: RenderClipInput) => ({
          clipId: r.clipId,
          clipIndex: Number(r.clipId.split('-')[1]),
          durationSeconds: 5,
          fileUrls: Object.fromEntries(r.aspectRatios.map((ratio) => [ratio, `file:///${r.clipId}/${ratio}.mp4`])),
          thumbnailUrl: `file:///${r.clipId}/thumbnail.jpg`,
        }),
      },
      overrides,
    );
    const { prepareClipSource, renderClip, ...main } = activities;
    return { main, media: { prepareClipSource, renderClip }, calls, named };
  }

  /** Blocks like a long render: heartbeats until the activity is cancelled. */
  const blockUntilCancelled = () => untilCancelled({ percent: 50 });

  async function withWorkers(fakes: ReturnType<typeof fakeActivities>, fn: (queues: { main: string; media: string }) => Promise<void>) {
    queueCount += 1;
    const queues = { main: `clips-wf-${queueCount}`, media: `clips-wf-media-${queueCount}` };
    const bundle = await workflowBundle();
    const mainWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: queues.main,
      workflowBundle: bundle,
      activities: fakes.main,
    });
    const mediaWorker = await Worker.create({ connection: env.nativeConnection, taskQueue: queues.media, activities: fakes.media });
    await mediaWorker.runUntil(mainWorker.runUntil(fn(queues)));
  }

  const input = (media: string, overrides: Partial<ClipsInput> = {}): ClipsInput => ({
    videoId: 'video-1',
    userId: 'user-1',
    count: 3,
    aspectRatios: ['9:16', '1:1'],
    captionStyle: 'bold',
    minSeconds: 15,
    maxSeconds: 60,
    mediaTaskQueue: media,
    ...overrides,
  });
  const start = (queues: { main: string; media: string }, id: string, overrides: Partial<ClipsInput> = {}) =>
    env.client.workflow.start('clipsWorkflow', {
      workflowId: clipsWorkflowId('video-1', id),
      taskQueue: queues.main,
      args: [input(queues.media, overrides)],
    });

  it('probes, picks moments on the real duration and renders every clip on the media queue', async () => {
    const fakes = fakeActivities();
    await withWorkers(fakes, async (queues) => {
      const handle = await start(queues, 'ok');
      const result = await handle.result();
      expect(result.clips.map((c: { clipIndex: number }) => c.clipIndex)).toEqual([0, 1, 2]);
      expect(result.clips[0].fileUrls).toEqual({ '9:16': 'file:///clip-0/9:16.mp4', '1:1': 'file:///clip-0/1:1.mp4' });
      expect(result.failedClips).toEqual([]);
      expect(await handle.query(progressQuery)).toMatchObject({
        stage: 'done',
        progress: 100,
        counters: { clipsTotal: 3, clipsDone: 3, clipsFailed: 0 },
      });

      expect(fakes.named('prepareClipSource')[0]).toMatchObject({ queue: queues.media, args: [{ videoId: 'video-1', userId: 'user-1' }] });
      expect(fakes.named('pickClipMoments')[0]).toMatchObject({
        queue: queues.main,
        args: [{ count: 3, minSeconds: 15, maxSeconds: 60, durationSeconds: 120, captionStyle: 'bold' }],
      });
      const renders = fakes.named('renderClip');
      expect(renders.map((r) => r.queue)).toEqual([queues.media, queues.media, queues.media]);
      expect(renders.map((r) => r.args[0].clipId as string).sort()).toEqual(['clip-0', 'clip-1', 'clip-2']);
      expect(renders[0]!.args[0]).toMatchObject({ aspectRatios: ['9:16', '1:1'], captionStyle: 'bold' });
    });
    const stages = fakes.named('recordRunProgress').map((c) => c.args[1].stage as string);
    expect(stages.slice(0, 3)).toEqual(['probing', 'picking-moments', 'rendering']);
    expect(fakes.named('recordRunClosed')[0]!.args[1]).toMatchObject({ status: 'completed' });
    expect(fakes.named('settleUnfinishedClips')).toHaveLength(0);
  });

  it('a clip that cannot be rendered fails alone: the others finish and the run says so', async () => {
    const fakes = fakeActivities({
      renderClip: (r: RenderClipInput) => {
        if (r.clipId === 'clip-1') throw ApplicationFailure.nonRetryable('clip 5s + 5s does not fit', 'InvalidInput');
        return { clipId: r.clipId, clipIndex: Number(r.clipId.split('-')[1]), durationSeconds: 5, fileUrls: {}, thumbnailUrl: 'x' };
      },
    });
    await withWorkers(fakes, async (queues) => {
      const result = await (await start(queues, 'one-fails')).result();
      expect(result.clips.map((c: { clipId: string }) => c.clipId)).toEqual(['clip-0', 'clip-2']);
      expect(result.failedClips).toEqual([{ clipId: 'clip-1', clipIndex: 1, error: 'clip 5s + 5s does not fit' }]);
    });
    expect(fakes.named('renderClip').filter((c) => c.args[0].clipId === 'clip-1')).toHaveLength(1); // not retried
    expect(fakes.named('failClip')[0]!.args[0]).toEqual({ clipId: 'clip-1', error: 'clip 5s + 5s does not fit' });
    expect(fakes.named('recordRunProgress').at(-1)!.args[1]).toMatchObject({ stage: 'completed_with_errors', progress: 100 });
  });

  it('fails with TranscriptUnavailable before asking the AI when there is no timed transcript', async () => {
    const fakes = fakeActivities({
      prepareClipSource: () => {
        throw ApplicationFailure.nonRetryable('this video has no timed transcript', 'TranscriptUnavailable');
      },
    });
    await withWorkers(fakes, async (queues) => {
      await expect((await start(queues, 'no-transcript')).result()).rejects.toThrow();
    });
    expect(fakes.named('prepareClipSource')).toHaveLength(1);
    expect(fakes.named('pickClipMoments')).toHaveLength(0);
    expect(fakes.named('settleUnfinishedClips')).toHaveLength(1);
    const closure = fakes.named('recordRunClosed')[0]!.args[1] as RunClosure;
    expect(closure).toMatchObject({ status: 'failed', error: { type: 'TranscriptUnavailable' } });
  });

  it('cancel mid-render: waits for running renders to stop, keeps finished clips and marks the rest', async () => {
    const fakes = fakeActivities({
      renderClip: async (r: RenderClipInput) => {
        if (r.clipId !== 'clip-0') return blockUntilCancelled();
        return { clipId: r.clipId, clipIndex: 0, durationSeconds: 5, fileUrls: { '9:16': 'done' }, thumbnailUrl: 'x' };
      },
    });
    await withWorkers(fakes, async (queues) => {
      const handle = await start(queues, 'cancel');
      while ((await handle.query(progressQuery)).counters.clipsDone !== 1) await new Promise((r) => setTimeout(r, 20));
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
    });
    expect(fakes.named('settleUnfinishedClips')[0]!.args[0]).toEqual({ reason: 'canceled by request' });
    expect(fakes.named('failClip')).toHaveLength(0);
    expect(fakes.named('recordRunClosed')[0]!.args[1]).toMatchObject({ status: 'canceled' });
  });
});
