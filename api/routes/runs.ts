import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { findUserRun, listUserRuns } from '../../db/repositories/run-listing';
import { findRun } from '../../db/repositories/runs';
import type { JobRun } from '../../db/types';
import {
  RunCancelAcceptedSchema,
  RunEventSchema,
  RunIdParamSchema,
  RunListQuerySchema,
  RunListSchema,
  RunViewSchema,
  type RunView,
} from '../../schemas/api-runs';
import { StreamTokenSchema } from '../../schemas/api-keys';
import type { ApiDeps } from '../deps';
import { caller, requireScope, streamTokenAuth } from '../auth';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { liveRunView, runRowToView } from '../run-view';
import { RunWatchers } from '../run-watch';
import { issueStreamToken } from '../stream-token';

/** How often a run followed by event streams is polled (once for all its streams), and how often a stream sends a keep-alive comment. */
export const SSE_POLL_MS = 300;
export const SSE_KEEPALIVE_MS = 15_000;
/** Event streams one user may hold open at once (per API process). */
export const SSE_MAX_STREAMS_PER_USER = 10;

const encodeCursor = (row: { started_at_exact: string; id: string }) =>
  Buffer.from(JSON.stringify([row.started_at_exact, row.id])).toString('base64url');

function decodeCursor(cursor: string): { startedAt: string; id: string } {
  try {
    const [startedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof startedAt === 'string' && !Number.isNaN(Date.parse(startedAt)) && typeof id === 'string') return { startedAt, id };
  } catch {
    // fall through to the problem below
  }
  throw new HttpProblem(400, 'validation', 'Validation failed', 'cursor: not a cursor this API returned', {
    errors: [{ field: 'cursor', message: 'not a cursor this API returned' }],
  });
}

/** The caller's run or a 404: ownership is checked in PostgreSQL before Temporal is touched. */
async function ownRun(deps: ApiDeps, res: Response, runId: string): Promise<JobRun> {
  const row = await findUserRun(deps.db, caller(res).userId, runId);
  if (!row) throw notFound('run');
  return row;
}

const fingerprint = (view: RunView) => JSON.stringify([view.status, view.stage, view.progress, view.counters ?? {}]);

function router(deps: ApiDeps): Router {
  const r = Router();
  const watchers = new RunWatchers(SSE_POLL_MS);
  /** Open event streams per user, in this process. */
  const openStreams = new Map<string, number>();

  r.get('/v1/runs', requireScope('runs:read'), async (req, res) => {
    const query = RunListQuerySchema.parse(req.query);
    const rows = await listUserRuns(deps.db, caller(res).userId, {
      type: query.type,
      status: query.status,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    res.json({ data: page.map(runRowToView), nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null });
  });

  r.get('/v1/runs/:runId', requireScope('runs:read'), async (req, res) => {
    const { runId } = RunIdParamSchema.parse(req.params);
    res.json(await liveRunView(deps, await ownRun(deps, res, runId)));
  });

  r.post('/v1/runs/:runId/cancel', requireScope('runs:write'), async (req, res) => {
    const { runId } = RunIdParamSchema.parse(req.params);
    const row = await ownRun(deps, res, runId);
    // A post is canceled through its update (the post row and its slot follow); a subscription ends with Stripe.
    if (row.long_lived)
      throw new HttpProblem(
        409,
        'run-not-cancelable',
        'Run Not Cancelable',
        `a ${row.type} run is not canceled here: cancel a post with DELETE /v1/posts/{id}, a subscription through Stripe`,
      );
    const view = await liveRunView(deps, row);
    if (view.status !== 'running') throw new HttpProblem(409, 'run-closed', 'Run Already Closed', `the run is already ${view.status}`);
    await deps.temporal.workflow.getHandle(runId).cancel();
    res.status(202).json({ runId, status: 'cancel_requested' });
  });

  r.post('/v1/stream-tokens', requireScope('runs:read'), (_req, res) => {
    const auth = caller(res);
    const { token, expiresAt } = issueStreamToken(deps.config, auth.keyId, auth.userId);
    res.status(201).json({ token, expiresAt: expiresAt.toISOString() });
  });

  /**
   * Server-Sent Events: the run's state as `progress` events whenever it changes, then one
   * `closed` event and the end of the stream. Event ids count up per run view sent; a client
   * reconnecting with Last-Event-ID continues the count and first receives the current state.
   */
  r.get('/v1/runs/:runId/events', streamTokenAuth(deps), requireScope('runs:read'), async (req, res) => {
    const { runId } = RunIdParamSchema.parse(req.params);
    const row = await ownRun(deps, res, runId);
    const { userId } = caller(res);
    const open = openStreams.get(userId) ?? 0;
    if (open >= SSE_MAX_STREAMS_PER_USER)
      throw new HttpProblem(
        429,
        'too-many-streams',
        'Too Many Streams',
        `at most ${SSE_MAX_STREAMS_PER_USER} event streams may be open per user; close one first`,
        { limit: SSE_MAX_STREAMS_PER_USER },
        { 'Retry-After': '5' },
      );
    openStreams.set(userId, open + 1);
    const lastEventId = Number.parseInt(req.header('last-event-id') ?? '', 10);
    let nextId = Number.isSafeInteger(lastEventId) && lastEventId >= 0 ? lastEventId + 1 : 1;

    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 2000\n\n');

    const send = (event: string, view: RunView) => res.write(`id: ${nextId++}\nevent: ${event}\ndata: ${JSON.stringify(view)}\n\n`);
    let last = '';
    await new Promise<void>((done) => {
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), SSE_KEEPALIVE_MS);
      let finished = false;
      let unsubscribe = () => {};
      const finish = () => {
        finished = true;
        clearInterval(keepAlive);
        unsubscribe();
        done();
      };
      res.on('close', finish);
      unsubscribe = watchers.subscribe(
        runId,
        async () => liveRunView(deps, (await findRun(deps.db, runId)) ?? row),
        (update) => {
          if ('error' in update) {
            // Headers are gone: the client sees the stream end and reconnects with Last-Event-ID.
            deps.logger.warn({ err: update.error, runId, requestId: req.id }, 'event stream failed');
            finish();
          } else if (update.view.status !== 'running') {
            send('closed', update.view);
            finish();
          } else if (fingerprint(update.view) !== last) {
            last = fingerprint(update.view);
            send('progress', update.view);
          }
        },
      );
      // The latest view may have closed the stream during subscribe, or the client left before it.
      if (finished || res.closed) finish();
    });
    const stillOpen = (openStreams.get(userId) ?? 1) - 1;
    if (stillOpen > 0) openStreams.set(userId, stillOpen);
    else openStreams.delete(userId);
    res.end();
  });

  return r;
}

function document(registry: OpenAPIRegistry): void {
  const params = RunIdParamSchema;
  registry.registerPath({
    method: 'get',
    path: '/v1/runs',
    tags: ['Runs'],
    summary: "The caller's runs, newest first",
    description:
      "Every run the caller owns, scheduled posts and subscriptions included; `type` filters by job type. Posts and subscriptions live for days and never count against the plan's concurrent-job limit.",
    security: bearer(),
    request: { query: RunListQuerySchema },
    responses: { '200': json(RunListSchema, 'A page of runs; pass nextCursor as cursor for the next'), ...problems(400, 401, 403, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/runs/{runId}',
    tags: ['Runs'],
    summary: 'One run: live from the workflow while running, from PostgreSQL once closed',
    security: bearer(),
    request: { params },
    responses: { '200': json(RunViewSchema, 'The run'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/runs/{runId}/cancel',
    tags: ['Runs'],
    summary: 'Request cancellation of a running run (posts and subscriptions: 409, they end through their own routes)',
    security: bearer(),
    request: { params },
    responses: { '202': json(RunCancelAcceptedSchema, 'Cancellation requested'), ...problems(400, 401, 403, 404, 409, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/stream-tokens',
    tags: ['Runs'],
    summary: 'A short-lived token for the events stream (EventSource cannot send headers)',
    security: bearer(),
    responses: { '201': json(StreamTokenSchema, 'Token valid for 10 minutes, for this key'), ...problems(401, 403, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/runs/{runId}/events',
    tags: ['Runs'],
    summary: 'Server-Sent Events: `progress` on every change, then `closed`',
    description: `Authenticate with the Authorization header or \`?access_token=\` from POST /v1/stream-tokens. Resumable with Last-Event-ID. At most ${SSE_MAX_STREAMS_PER_USER} open streams per user (429 beyond).`,
    security: [...bearer(), {}],
    request: {
      params,
      query: z.object({ access_token: z.string().optional() }),
      headers: z.object({ 'last-event-id': z.string().optional() }),
    },
    responses: {
      // Before OpenAPI 3.2, the schema of an event stream describes one event.
      '200': { description: 'text/event-stream of Run snapshots', content: { 'text/event-stream': { schema: RunEventSchema } } },
      ...problems(400, 401, 403, 404, 429),
    },
  });
}

export const runRoutes: RouteModule = { router, document };
