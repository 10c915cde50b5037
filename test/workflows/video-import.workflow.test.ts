import { ApplicationFailure } from '@temporalio/common';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { RunClosure } from '../../db/repositories/runs';
import type { RunProgressWrite } from '../../schemas/runs';
import type { GenerateContentInput, QuotaReservation, VideoImportInput, VideoImportResult } from '../../schemas/video-import';
import { progressQuery } from '../../workflows/common/progress';
import { contentRegenerateWorkflowId, videoImportWorkflowId } from '../../workflows/video-import/contract';
import { createTimeSkippingEnv, testClient, testDataConverter, testNativeConnection, workflowBundle } from '../helpers/temporal';
import { failureOf, recordingActivities, untilCancelled, workerRunner } from '../helpers/workflow-tests';

/** The import workflow's decisions with mocked activities on the time-skipping server. */
describe('videoImportWorkflow (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());

  const PLAN: QuotaReservation = {
    gate: 'plan',
    plan: 'basic',
    allowedContentTypes: ['transcript', 'summary', 'blog_post', 'quotes'],
    maxDurationSeconds: 1800,
  };

  let cancelledGenerations = 0;
  const blockUntilCancelled = () =>
    untilCancelled(undefined, (type) => {
      if (type === 'generateVideoContent') cancelledGenerations += 1;
    });

  function fakeActivities(overrides: Record<string, (...args: any[]) => unknown> = {}) {
    return recordingActivities(
      {
        recordRunStarted: () => undefined,
        recordRunProgress: () => undefined,
        recordRunClosed: () => undefined,
        reserveVideoQuota: () => PLAN,
        commitVideoQuota: () => true,
        releaseVideoQuota: () => true,
        updateVideoStatus: () => undefined,
        fetchVideoMetadata: () => ({ title: 'A talk', durationSeconds: 600 }),
        fetchVideoTranscript: () => ({ source: 'youtube_captions', characters: 5000, needsCondensing: false }),
        condenseTranscript: () => ({ characters: 100 }),
        generateVideoContent: (g: GenerateContentInput) => ({
          contentId: `c-${g.contentType}`,
          contentType: g.contentType,
          version: g.version,
          tokensUsed: 10,
        }),
        exportVideoContent: (e: { contentIds: string[]; formats: string[] }) => ({
          status: 'completed',
          uploaded: e.contentIds.length * e.formats.length,
          failed: 0,
        }),
      },
      overrides,
    );
  }

  const withWorker = workerRunner(() => env, 'video-import-wf');

  const input = (videoId: string, overrides: Partial<VideoImportInput> = {}): VideoImportInput => ({
    videoId,
    userId: 'u1',
    contentTypes: [],
    ...overrides,
  });

  const start = (taskQueue: string, i: VideoImportInput) =>
    env.client.workflow.start('videoImportWorkflow', { workflowId: videoImportWorkflowId(i.videoId), taskQueue, args: [i] });

  it('generates the requested types the plan allows, commits the quota once and walks the stages in order', async () => {
    const { activities, calls, named, args } = fakeActivities();
    const result: VideoImportResult = await withWorker(activities, async (tq) => {
      const handle = await start(tq, input('v-ok', { contentTypes: ['summary', 'blog_post', 'ebook'] }));
      const r: VideoImportResult = await handle.result();
      expect(await handle.query(progressQuery)).toMatchObject({ stage: 'done', progress: 100 });
      return r;
    });
    expect(result).toEqual({
      videoId: 'v-ok',
      generatedContentTypes: ['summary', 'blog_post'],
      failedContentTypes: [],
      contentIds: { summary: 'c-summary', blog_post: 'c-blog_post' },
      quota: 'committed',
    });
    // 'ebook' is outside the plan: never generated.
    const generations = args<GenerateContentInput>('generateVideoContent');
    expect(generations.map((g) => g.contentType).sort()).toEqual(['blog_post', 'summary']);
    expect(generations.every((g) => g.version === 1 && g.parentContentId === null)).toBe(true);
    expect(named('commitVideoQuota')).toHaveLength(1);
    expect(named('releaseVideoQuota')).toHaveLength(0);
    expect(named('condenseTranscript')).toHaveLength(0);
    const reported = args<{ stage: string; progress: number }>('recordRunProgress', 1);
    expect([...new Set(reported.map((p) => p.stage))]).toEqual([
      'checking_quota',
      'fetching_metadata',
      'fetching_transcript',
      'generating',
      'completed',
    ]);
    const progress = reported.map((p) => p.progress);
    // Progress writes of parallel generations are separate activities and may run in any order;
    // each stage reports a higher value than the last (the row keeps the greatest).
    const sorted = [...progress].sort((a, b) => a - b);
    expect(new Set(sorted).size).toBe(sorted.length);
    expect(sorted.at(-1)).toBe(100);
    const order = calls.map((c) => c.name);
    expect(order.indexOf('reserveVideoQuota')).toBeLessThan(order.indexOf('fetchVideoMetadata'));
    expect(order.lastIndexOf('generateVideoContent')).toBeLessThan(order.indexOf('commitVideoQuota'));
    expect(named('updateVideoStatus').at(-1)!.args).toEqual(['v-ok', { status: 'completed', progress: 100 }]);
    expect((named('recordRunClosed')[0]!.args[1] as RunClosure).status).toBe('completed');
  });

  it('writes each stage change and the videos row as one local activity, with no separate status write while processing', async () => {
    const { activities, named, args } = fakeActivities();
    await withWorker(activities, (tq) =>
      start(tq, input('v-one-write', { contentTypes: ['summary', 'blog_post'] })).then((h) => h.result()),
    );
    const writes = args<RunProgressWrite>('recordRunProgress', 1);
    const advances = writes.filter((w) => w.stage !== 'completed');
    expect(advances.map((w) => w.stage)).toEqual([
      'checking_quota',
      'fetching_metadata',
      'fetching_transcript',
      'generating',
      'generating',
      'generating',
    ]);
    expect(advances.every((w) => w.row?.kind === 'video' && w.row.videoId === 'v-one-write')).toBe(true);
    expect(named('recordRunProgress').every((c) => c.local)).toBe(true);
    expect(named('updateVideoStatus').map((c) => c.args[1].status)).toEqual(['completed']);
  });

  it('defaults to every plan-allowed type and condenses an over-long transcript once before generating', async () => {
    const { activities, named } = fakeActivities({
      fetchVideoTranscript: () => ({ source: 'manual', characters: 900_000, needsCondensing: true }),
    });
    const result = await withWorker(activities, (tq) => start(tq, input('v-all')).then((h) => h.result()));
    expect(result.generatedContentTypes.sort()).toEqual([...PLAN.allowedContentTypes].sort());
    expect(named('condenseTranscript')).toHaveLength(1);
  });

  it('fails with QuotaExceeded when the gate refuses, touching neither YouTube nor the model', async () => {
    const { activities, named } = fakeActivities({
      reserveVideoQuota: () => {
        throw ApplicationFailure.nonRetryable('the free plan includes one video, and it has been used', 'QuotaExceeded');
      },
    });
    const failure = await withWorker(activities, (tq) => failureOf(start(tq, input('v-quota')).then((h) => h.result())));
    expect(failure.type).toBe('QuotaExceeded');
    expect(named('fetchVideoMetadata')).toHaveLength(0);
    expect(named('generateVideoContent')).toHaveLength(0);
    expect(named('commitVideoQuota')).toHaveLength(0);
    expect(named('updateVideoStatus').at(-1)!.args[1]).toMatchObject({ status: 'failed', error: expect.stringContaining('free plan') });
    expect(named('recordRunClosed')[0]!.args[1]).toMatchObject({ status: 'failed', error: { type: 'QuotaExceeded' } });
  });

  it("hands the API's reservation to the quota activity to adopt, and asks for a reservation only without one", async () => {
    const { activities, args } = fakeActivities();
    await withWorker(activities, async (tq) => {
      for (const handle of await Promise.all([start(tq, input('v-adopt', { quotaReserved: true })), start(tq, input('v-own'))]))
        await handle.result();
    });
    const byVideo = new Map(args<{ videoId: string; reserved?: boolean }>('reserveVideoQuota').map((a) => [a.videoId, a]));
    expect(byVideo.get('v-adopt')).toMatchObject({ reserved: true });
    expect(byVideo.get('v-own')?.reserved).toBeUndefined();
  });

  it('fails with TranscriptUnavailable and releases the reserved slot', async () => {
    const { activities, named } = fakeActivities({
      fetchVideoTranscript: () => {
        throw ApplicationFailure.nonRetryable('no transcript for video x', 'TranscriptUnavailable');
      },
    });
    const failure = await withWorker(activities, (tq) => failureOf(start(tq, input('v-notranscript')).then((h) => h.result())));
    expect(failure.type).toBe('TranscriptUnavailable');
    expect(named('releaseVideoQuota')).toHaveLength(1);
    expect(named('commitVideoQuota')).toHaveLength(0);
    expect(named('generateVideoContent')).toHaveLength(0);
  });

  it('completes with failedContentTypes when one type fails for good, keeping and charging for the others', async () => {
    const { activities, named } = fakeActivities({
      generateVideoContent: (g: GenerateContentInput) => {
        if (g.contentType === 'quotes') throw ApplicationFailure.nonRetryable('model refused', 'InvalidInput');
        return { contentId: `c-${g.contentType}`, contentType: g.contentType, version: 1, tokensUsed: 5 };
      },
    });
    const result = await withWorker(activities, (tq) =>
      start(tq, input('v-partial', { contentTypes: ['summary', 'quotes', 'blog_post'] })).then((h) => h.result()),
    );
    expect(result.failedContentTypes).toEqual(['quotes']);
    expect(result.generatedContentTypes.sort()).toEqual(['blog_post', 'summary']);
    expect(named('commitVideoQuota')).toHaveLength(1);
    expect(named('releaseVideoQuota')).toHaveLength(0);
  });

  it('fails with GenerationFailed and releases the slot when every type fails', async () => {
    const { activities, named } = fakeActivities({
      generateVideoContent: () => {
        throw ApplicationFailure.nonRetryable('model refused', 'InvalidInput');
      },
    });
    const failure = await withWorker(activities, (tq) =>
      failureOf(start(tq, input('v-allfail', { contentTypes: ['summary'] })).then((h) => h.result())),
    );
    expect(failure.type).toBe('GenerationFailed');
    expect(named('releaseVideoQuota')).toHaveLength(1);
    expect(named('commitVideoQuota')).toHaveLength(0);
  });

  it('canceled before any content: releases the slot and closes the run as canceled', async () => {
    const { activities, named } = fakeActivities({ fetchVideoMetadata: blockUntilCancelled });
    await withWorker(activities, async (tq) => {
      const handle = await start(tq, input('v-cancel-early'));
      while (named('fetchVideoMetadata').length === 0) await new Promise((r) => setTimeout(r, 20));
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
    });
    expect(named('releaseVideoQuota')).toHaveLength(1);
    expect(named('commitVideoQuota')).toHaveLength(0);
    expect(named('updateVideoStatus').at(-1)!.args[1]).toMatchObject({ status: 'canceled' });
    expect(named('recordRunClosed')[0]!.args[1]).toMatchObject({ status: 'canceled' });
  });

  // On the real dev server: the time-skipping server does not deliver a cancel to a heartbeating
  // activity the workflow waits for (WAIT_CANCELLATION_COMPLETED), so this one runs in real time.
  it('canceled mid-generation: stops unfinished types, keeps the finished one and commits the slot', async () => {
    const { activities, named } = fakeActivities({
      generateVideoContent: async (g: GenerateContentInput) => {
        if (g.contentType !== 'summary') return blockUntilCancelled();
        return { contentId: 'c-summary', contentType: 'summary', version: 1, tokensUsed: 5 };
      },
    });
    const taskQueue = `video-import-wf-dev-${Date.now()}`;
    const [connection, client] = await Promise.all([testNativeConnection(), testClient()]);
    try {
      const worker = await Worker.create({
        connection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities,
        dataConverter: testDataConverter(),
      });
      await worker.runUntil(async () => {
        const i = input(`v-cancel-mid-${Date.now()}`, { contentTypes: ['summary', 'blog_post', 'quotes'] });
        const handle = await client.workflow.start('videoImportWorkflow', {
          workflowId: videoImportWorkflowId(i.videoId),
          taskQueue,
          args: [i],
        });
        // Cancel once the summary is done (its completion moves the generating counters).
        while ((await handle.query(progressQuery)).counters.contentDone !== 1) await new Promise((r) => setTimeout(r, 20));
        await handle.cancel();
        await expect(handle.result()).rejects.toThrow(/cancel/i);
      });
    } finally {
      await Promise.allSettled([connection.close(), client.connection.close()]);
    }
    expect(cancelledGenerations).toBe(2);
    expect(named('generateVideoContent')).toHaveLength(3);
    expect(named('commitVideoQuota')).toHaveLength(1);
    expect(named('releaseVideoQuota')).toHaveLength(0);
    expect(named('updateVideoStatus').at(-1)!.args[1]).toMatchObject({ status: 'canceled' });
    expect(named('recordRunClosed')[0]!.args[1]).toMatchObject({ status: 'canceled' });
  });

  it('an export failure is reported in the result; the run still completes with its content', async () => {
    const { activities, named, args } = fakeActivities({
      exportVideoContent: () => {
        throw ApplicationFailure.nonRetryable('Google Drive rejected the upload', 'InvalidInput');
      },
    });
    const result = await withWorker(activities, (tq) =>
      start(
        tq,
        input('v-export', { contentTypes: ['summary', 'blog_post'], export: { provider: 'google_drive', formats: ['md', 'pdf'] } }),
      ).then((h) => h.result()),
    );
    expect(result.export).toMatchObject({
      status: 'failed',
      uploaded: 0,
      failed: 4,
      reason: expect.stringContaining('rejected the upload'),
    });
    expect(result.generatedContentTypes).toHaveLength(2);
    expect(named('commitVideoQuota')).toHaveLength(1);
    expect(args<{ stage: string }>('recordRunProgress', 1).map((p) => p.stage)).toContain('exporting');
  });

  it('regenerateContentWorkflow writes the requested version with its parent', async () => {
    const { activities, named } = fakeActivities();
    const regen: GenerateContentInput = {
      videoId: 'v-ok',
      userId: 'u1',
      contentType: 'summary',
      version: 2,
      parentContentId: 'c-summary',
      instructions: 'shorter',
    };
    const result = await withWorker(activities, (tq) =>
      env.client.workflow.execute('regenerateContentWorkflow', {
        workflowId: contentRegenerateWorkflowId('v-ok', 'summary', 2),
        taskQueue: tq,
        args: [regen],
      }),
    );
    expect(result).toMatchObject({ contentType: 'summary', version: 2 });
    expect(named('generateVideoContent')[0]!.input).toEqual(regen);
  });
});
