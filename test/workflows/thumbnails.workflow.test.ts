import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunClosure } from '../../db/repositories/runs';
import type {
  RenderThumbnailInput,
  ThumbnailJobEnding,
  ThumbnailJobSettlement,
  ThumbnailsInput,
  ThumbnailsResult,
} from '../../schemas/thumbnails';
import type { RunProgressWrite } from '../../schemas/runs';
import { progressQuery } from '../../workflows/common/progress';
import { thumbnailsWorkflowId } from '../../workflows/thumbnails/contract';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { failureOf, recordingActivities, workerRunner } from '../helpers/workflow-tests';

const STYLES = ['bold_contrast', 'clean_minimal', 'vibrant_pop'];
const LAYOUT = {
  position: 'top',
  align: 'center',
  uppercase: true,
  fontScale: 1,
  textColor: '#ffffff',
  strokeColor: '#000000',
  box: false,
  boxColor: '#ff0000',
  gradient: 'vertical',
} as const;

/** The thumbnail workflow's decisions with mocked activities on the time-skipping server (retry backoff takes no real time). */
describe('thumbnailsWorkflow (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());

  type Impl = (...args: any[]) => unknown;

  /** Activities that record their calls; finishThumbnailJob settles like the repository does, from what was rendered. */
  function fakeActivities(overrides: Record<string, Impl> = {}) {
    const settle = ({ ending }: { ending: ThumbnailJobEnding }): ThumbnailJobSettlement => {
      const rendered = recorder.named('renderThumbnail').filter((c) => c.settled === 'returned').length;
      const status =
        ending === 'canceled' ? 'canceled' : rendered === 0 ? 'failed' : rendered === STYLES.length ? 'completed' : 'completed_with_errors';
      return { status, produced: rendered, charged: rendered > 0 };
    };
    const recorder = recordingActivities(
      {
        recordRunStarted: () => undefined,
        recordRunProgress: () => undefined,
        recordRunClosed: () => undefined,
        startThumbnailJob: () => ({ styles: STYLES }),
        writeThumbnailCopy: ({ style }: { style: string }) => ({ overlayText: `Text for ${style}`, layout: LAYOUT }),
        renderThumbnail: (r: RenderThumbnailInput) => ({
          thumbnailId: `t-${r.style}`,
          style: r.style,
          width: 1280,
          height: 720,
          bytes: 1000,
          format: 'png',
        }),
        finishThumbnailJob: settle,
        uploadThumbnailToYoutube: () => ({ url: null }),
      },
      overrides,
    );
    /** The attempt numbers of one style's renders, in order. */
    const attempts = (style: string) =>
      recorder
        .named('renderThumbnail')
        .filter((c) => c.input.style === style)
        .map((c) => c.attempt);
    return { ...recorder, attempts };
  }

  const withWorker = workerRunner(() => env, 'thumbnails-wf');

  type JobInput = Omit<ThumbnailsInput, 'mediaTaskQueue'>;
  const input = (jobId: string, overrides: Partial<JobInput> = {}): JobInput => ({
    jobId,
    userId: 'u1',
    videoId: 'v1',
    version: 1,
    ...overrides,
  });
  // One test worker serves both queues' activities, so the renders go to its queue too.
  const start = (taskQueue: string, i: JobInput) =>
    env.client.workflow.start('thumbnailsWorkflow', {
      workflowId: thumbnailsWorkflowId(i.jobId),
      taskQueue,
      args: [{ ...i, mediaTaskQueue: taskQueue }],
    });

  it('renders every style in order, reporting the current style through the query and the job row, then settles once', async () => {
    const { activities, calls, named, args } = fakeActivities();
    const result: ThumbnailsResult = await withWorker(activities, async (tq) => {
      const handle = await start(tq, input('job-ok'));
      const r: ThumbnailsResult = await handle.result();
      expect(await handle.query(progressQuery)).toMatchObject({
        stage: 'done',
        progress: 100,
        counters: { stylesTotal: 3, stylesDone: 3, stylesFailed: 0 },
      });
      return r;
    });
    expect(result).toMatchObject({ jobId: 'job-ok', status: 'completed', failedStyles: [], charged: true });
    expect(result.thumbnails.map((t) => t.style)).toEqual(STYLES);
    // The job row's style and progress travel with the run's progress, in one write per style.
    const jobRows = args<RunProgressWrite>('recordRunProgress', 1).flatMap((w) =>
      w.row?.kind === 'thumbnail_job' ? [{ ...w.row, progress: w.progress }] : [],
    );
    expect(jobRows.map((p) => p.currentStyle)).toEqual(STYLES);
    const progress = jobRows.map((p) => p.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const stages = args<{ stage: string }>('recordRunProgress', 1).map((p) => p.stage);
    expect(stages).toEqual([
      'preparing',
      'generating:bold_contrast',
      'generating:clean_minimal',
      'generating:vibrant_pop',
      'finishing',
      'completed',
    ]);
    // Each render gets its own copy, its position and the job's version.
    expect(args<RenderThumbnailInput>('renderThumbnail').map((r) => [r.style, r.generationOrder, r.version, r.copy.overlayText])).toEqual(
      STYLES.map((s, i) => [s, i, 1, `Text for ${s}`]),
    );
    expect(named('finishThumbnailJob').map((c) => c.args)).toEqual([[{ jobId: 'job-ok', ending: 'finished', errorMessage: null }]]);
    const order = calls.map((c) => c.name);
    expect(order.lastIndexOf('renderThumbnail')).toBeLessThan(order.indexOf('finishThumbnailJob'));
    expect((named('recordRunClosed')[0]!.args[1] as RunClosure).status).toBe('completed');
  });

  it("a YouTube upload out of the day's quota waits for the reset and then succeeds, instead of failing", async () => {
    const { activities, named } = fakeActivities({
      uploadThumbnailToYoutube: () => {
        if (Context.current().info.attempt === 1) {
          throw ApplicationFailure.create({ message: 'YouTube daily quota used up', type: 'QuotaExceeded', nextRetryDelay: '9 hours' });
        }
        return { url: 'https://i.ytimg.test/t.jpg' };
      },
    });
    const result = await withWorker(activities, (tq) =>
      env.client.workflow.execute('thumbnailYoutubeUploadWorkflow', {
        workflowId: `thumbnail-youtube:quota-${tq}`,
        taskQueue: tq,
        args: [{ thumbnailId: 't1', userId: 'u1' }],
      }),
    );
    expect(result).toEqual({ url: 'https://i.ytimg.test/t.jpg' });
    const uploads = named('uploadThumbnailToYoutube');
    expect(uploads.map((c) => c.attempt)).toEqual([1, 2]);
  });

  it('retries a style whose upload fails twice with backoff and keeps one result for it', async () => {
    let failures = 0;
    const { activities, named, attempts } = fakeActivities({
      renderThumbnail: (r: RenderThumbnailInput) => {
        if (r.style === 'clean_minimal' && failures < 2) {
          failures += 1;
          throw ApplicationFailure.retryable('cloudinary: unavailable (HTTP 500)', 'ProviderUnavailable');
        }
        return { thumbnailId: `t-${r.style}`, style: r.style, width: 1280, height: 720, bytes: 1000, format: 'png' };
      },
    });
    const result: ThumbnailsResult = await withWorker(activities, (tq) => start(tq, input('job-retry')).then((h) => h.result()));
    expect(attempts('clean_minimal')).toEqual([1, 2, 3]);
    expect(attempts('bold_contrast')).toEqual([1]);
    expect(result.status).toBe('completed');
    expect(result.thumbnails.map((t) => t.style)).toEqual(STYLES);
    // The retried render reuses the copy: the model was asked once per style.
    expect(named('writeThumbnailCopy')).toHaveLength(3);
  });

  it('a style failing for good does not stop the others: completed_with_errors, no retry of the permanent failure', async () => {
    const { activities, args, attempts } = fakeActivities({
      renderThumbnail: (r: RenderThumbnailInput) => {
        if (r.style === 'bold_contrast') throw ApplicationFailure.nonRetryable('the file has no video stream', 'InvalidMedia');
        return { thumbnailId: `t-${r.style}`, style: r.style, width: 720, height: 1280, bytes: 1000, format: 'png' };
      },
    });
    const result: ThumbnailsResult = await withWorker(activities, (tq) => start(tq, input('job-partial')).then((h) => h.result()));
    expect(attempts('bold_contrast')).toEqual([1]);
    expect(result.status).toBe('completed_with_errors');
    expect(result.thumbnails.map((t) => t.style)).toEqual(['clean_minimal', 'vibrant_pop']);
    expect(result.failedStyles).toEqual([{ style: 'bold_contrast', error: 'the file has no video stream' }]);
    expect(args('finishThumbnailJob')[0]).toMatchObject({
      ending: 'finished',
      errorMessage: 'bold_contrast: the file has no video stream',
    });
  });

  it('gives up after the bounded attempts and fails with GenerationFailed when no style is produced', async () => {
    const { activities, named, attempts } = fakeActivities({
      renderThumbnail: () => {
        throw ApplicationFailure.retryable('cloudinary: unavailable (HTTP 503)', 'ProviderUnavailable');
      },
    });
    const failure = await withWorker(activities, (tq) => failureOf(start(tq, input('job-none')).then((h) => h.result())));
    expect(failure.type).toBe('GenerationFailed');
    expect(attempts('bold_contrast')).toEqual([1, 2, 3, 4, 5]);
    expect(named('finishThumbnailJob')).toHaveLength(1);
    expect(named('recordRunClosed')[0]!.args[1]).toMatchObject({ status: 'failed', error: { type: 'GenerationFailed' } });
  });

  it('canceled during a render: pending styles never start, the job settles as canceled and the run closes canceled', async () => {
    const { activities, named, args } = fakeActivities({
      renderThumbnail: async (r: RenderThumbnailInput) => {
        if (r.style === 'bold_contrast') return { thumbnailId: 't-1', style: r.style, width: 1280, height: 720, bytes: 1, format: 'png' };
        const ctx = Context.current();
        const beat = setInterval(() => ctx.heartbeat(), 100);
        try {
          return await ctx.cancelled;
        } finally {
          clearInterval(beat);
        }
      },
    });
    await withWorker(activities, async (tq) => {
      const handle = await start(tq, input('job-cancel'));
      while (named('renderThumbnail').length < 2) await new Promise((r) => setTimeout(r, 20));
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
    });
    expect(args<RenderThumbnailInput>('renderThumbnail').map((r) => r.style)).toEqual(['bold_contrast', 'clean_minimal']);
    expect(args<{ style: string }>('writeThumbnailCopy').map((c) => c.style)).not.toContain('vibrant_pop');
    expect(named('finishThumbnailJob').map((c) => c.args)).toEqual([
      [{ jobId: 'job-cancel', ending: 'canceled', errorMessage: 'canceled by request' }],
    ]);
    expect(named('recordRunClosed')[0]!.args[1]).toMatchObject({ status: 'canceled' });
  });

  it('a refinement passes the parent and instruction to the copy and the render, with the new version', async () => {
    const refinement = { parentThumbnailId: 'parent-1', instruction: 'shorter text' };
    const { activities, args } = fakeActivities({ startThumbnailJob: () => ({ styles: ['vibrant_pop'] }) });
    const result: ThumbnailsResult = await withWorker(activities, (tq) =>
      start(tq, input('job-refine', { version: 2, refinement })).then((h) => h.result()),
    );
    expect(result.thumbnails).toHaveLength(1);
    expect(args('writeThumbnailCopy')[0]).toEqual({ jobId: 'job-refine', style: 'vibrant_pop', refinement });
    expect(args('renderThumbnail')[0]).toMatchObject({ version: 2, refinement, generationOrder: 0 });
  });
});
