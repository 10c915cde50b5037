import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { listFailedRuns } from '../db/repositories/runs';
import type { RedriveBody, RedriveReport } from '../schemas/operations';
import { animationRun } from '../workflows/animation/contract';
import { clipsRun } from '../workflows/clips/contract';
import type { RunDefinition } from '../workflows/common/run-definition';
import { contentPlanRun } from '../workflows/content-plans/contract';
import { imageGenerationRun } from '../workflows/image-generation/contract';
import { modelTrainingRun } from '../workflows/model-training/contract';
import { payoutsRun } from '../workflows/payouts/contract';
import { photoshootRun } from '../workflows/photoshoot/contract';
import { postRun } from '../workflows/posts/contract';
import { productScrapeRun } from '../workflows/product-scrape/contract';
import { productVideoRun } from '../workflows/product-video/contract';
import { smokeRun } from '../workflows/smoke/contract';
import { subscriptionRun } from '../workflows/subscription/contract';
import { thumbnailsRun, thumbnailYoutubeRun } from '../workflows/thumbnails/contract';
import { videoExportRun } from '../workflows/video-export/contract';
import { contentRegenerateRun, videoImportRun } from '../workflows/video-import/contract';
import { videoIngestRun } from '../workflows/video-ingest/contract';
import { HttpProblem } from './problem';
import { startRun } from './run-starter';
import type { ApiDeps } from './deps';

type RedriveDeps = Pick<ApiDeps, 'db' | 'temporal' | 'logger' | 'taskQueues'>;

interface Redrivable {
  /** Starts the run again under its own workflow id, through the contract's definition (job_runs row reopened, cap, priority). */
  start(deps: RedriveDeps, workflowId: string, args: unknown[]): Promise<unknown>;
}

/**
 * A type whose failed run may simply run again: its id reuse policy is ALLOW_DUPLICATE_FAILED_ONLY,
 * so the same workflow id (the domain id) starts a new execution, and the job_runs row reopens.
 * `adapt` changes what the original input can no longer promise.
 */
function redrivable<W extends Workflow>(
  definition: RunDefinition<W>,
  adapt: (input: Parameters<W>[0]) => Parameters<W>[0] = (input) => input,
): [string, Redrivable] {
  if (definition.idReusePolicy !== 'ALLOW_DUPLICATE_FAILED_ONLY' || !definition.registersJobRun || definition.longLived)
    throw new Error(`${definition.jobType} cannot be redriven`);
  return [
    definition.jobType,
    {
      start: (deps, workflowId, [input, ...rest]) =>
        startRun(deps, definition, { workflowId, args: [adapt(input as Parameters<W>[0]), ...rest] as Parameters<W> }),
    },
  ];
}

/** Job types `redrive` starts again. */
const REDRIVABLE = new Map<string, Redrivable>([
  redrivable(smokeRun),
  redrivable(clipsRun),
  redrivable(contentPlanRun),
  redrivable(contentRegenerateRun),
  redrivable(payoutsRun),
  redrivable(productScrapeRun),
  redrivable(thumbnailYoutubeRun),
  redrivable(videoExportRun),
  // The slot the API reserved with the video row was given back when the run failed: the new run takes one itself.
  redrivable(videoImportRun, (input) => ({ ...input, quotaReserved: false })),
]);

const ONE_SHOT =
  'its workflow id never runs again (REJECT_DUPLICATE): the credits it held were refunded when it failed, so only a new request (new id, new hold) runs it again';
/** Job types with a job_runs row that redrive refuses, and why. */
const REFUSED = new Map<string, string>([
  [animationRun.jobType, ONE_SHOT],
  [imageGenerationRun.jobType, ONE_SHOT],
  [modelTrainingRun.jobType, ONE_SHOT],
  [photoshootRun.jobType, ONE_SHOT],
  [postRun.jobType, 'a post runs once per post id (REJECT_DUPLICATE) and is long-lived: schedule a new post'],
  [subscriptionRun.jobType, 'subscription runs are long-lived and started by Stripe events, which start them again'],
  [
    videoIngestRun.jobType,
    "the plan's video slot the API opened with the video row was refunded when the run failed: upload or import the file again",
  ],
  [
    thumbnailsRun.jobType,
    'the thumbnail iteration the API reserved with the job row was given back when the run failed: request the thumbnails again',
  ],
  [
    productVideoRun.jobType,
    'the credit hold is keyed by the video id and was refunded when the run failed, so a rerun would hold none: request a new video',
  ],
]);

export const redrivableTypes = (): string[] => [...REDRIVABLE.keys()].sort();

const typeProblem = (message: string): HttpProblem =>
  new HttpProblem(422, 'not-redrivable', 'Not Redrivable', `type: ${message}`, {
    errors: [{ field: 'type', message }],
    redrivableTypes: redrivableTypes(),
  });

/** The arguments the failed execution's chain was first started with (a continued-as-new run carries its state, not its input). */
async function originalArgs(client: Client, workflowId: string, runId: string): Promise<unknown[]> {
  const firstEvent = async (id: string) => {
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId: id },
      maximumPageSize: 1,
    });
    const started = history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!started) throw new Error(`run ${workflowId} (${id}) has no start event`);
    return started;
  };
  let started = await firstEvent(runId);
  if (started.firstExecutionRunId && started.firstExecutionRunId !== runId) started = await firstEvent(started.firstExecutionRunId);
  return decodeArrayFromPayloads(client.options.loadedDataConverter, started.input?.payloads);
}

/**
 * Starts the failed runs of one type in a window again with their original input, one every
 * 1/startsPerSecond s. A run is skipped (with the reason) when Temporal no longer keeps it, when
 * a newer run of its id exists, or when the start is refused (the owner's concurrency cap).
 */
export async function redriveRuns(deps: RedriveDeps, body: RedriveBody): Promise<RedriveReport> {
  const from = new Date(body.from);
  const to = new Date(body.to);
  if (!(from < to))
    throw new HttpProblem(400, 'validation', 'Validation failed', 'to: must be after from', {
      errors: [{ field: 'to', message: 'must be after from' }],
    });
  const redrive = REDRIVABLE.get(body.type);
  if (!redrive) throw typeProblem(REFUSED.get(body.type) ?? `unknown or not redrivable job type ${body.type}`);

  const { runs, more } = await listFailedRuns(deps.db, { type: body.type, errorType: body.errorType, from, to, limit: body.limit });
  const report: RedriveReport = { dryRun: body.dryRun, matched: runs.length, more, restarted: [], skipped: [] };
  const interval = 1000 / body.startsPerSecond;
  let nextStartAt = 0;
  for (const { id } of runs) {
    const skip = (reason: string) => report.skipped.push({ runId: id, reason });
    const handle = deps.temporal.workflow.getHandle(id);
    try {
      const failed = await handle.describe();
      if (failed.status.name !== 'FAILED') {
        skip(`newer-run: the latest run of this id is ${failed.status.name.toLowerCase()}`);
        continue;
      }
      const args = await originalArgs(deps.temporal, id, failed.runId);
      if (body.dryRun) {
        report.restarted.push({ runId: id, old: failed.runId, new: null });
        continue;
      }
      await sleep(Math.max(0, nextStartAt - Date.now()));
      nextStartAt = Date.now() + interval;
      await redrive.start(deps, id, args);
      const started = await handle.describe();
      report.restarted.push({ runId: id, old: failed.runId, new: started.runId });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) skip('history-gone: Temporal no longer keeps this run (past the namespace retention)');
      else if (err instanceof HttpProblem) skip(`${err.slug}: ${err.detail ?? err.title}`);
      else {
        deps.logger.warn({ err, runId: id }, 'redrive of a run failed');
        skip(`error: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  deps.logger.info(
    {
      type: body.type,
      errorType: body.errorType,
      dryRun: body.dryRun,
      matched: report.matched,
      restarted: report.restarted.length,
      skipped: report.skipped.length,
    },
    'redrive done',
  );
  return report;
}
