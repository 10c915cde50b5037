import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Our Prometheus metrics (prom-client). Each API app and each worker composition gets its own
 * Registry (tests build several per process); a process serves its registries on one metrics
 * listener (METRICS_PORT), apart from the public API port. The Temporal SDK's own metrics are
 * served by its core runtime on TEMPORAL_METRICS_PORT (worker/temporal-runtime.ts).
 */

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface ApiMetrics {
  registry: Registry;
  /** One finished request: the route pattern (`/v1/videos/:id`), not the raw path. */
  request(method: string, route: string, status: number, seconds: number): void;
  /** A 429: `requests` (per-key/user/IP budget) or `concurrency` (running-jobs cap). */
  rateLimited(limit: 'requests' | 'concurrency', route: string): void;
}

export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'API requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'API request latency by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const rejections = new Counter({
    name: 'api_rate_limit_rejections_total',
    help: 'Requests refused with 429 by the rate limits (requests) or the running-jobs cap (concurrency)',
    labelNames: ['limit', 'route'],
    registers,
  });
  return {
    registry,
    request(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
    rateLimited(limit, route) {
      rejections.inc({ limit, route });
    },
  };
}

/** What provider adapters report (providers/call.ts, the Anthropic adapter). */
export interface ProviderMetrics {
  /** One provider SDK call: `outcome` is `ok` or the failure type it was classified as (schemas/failures.ts). */
  providerCall(provider: string, outcome: string, seconds: number): void;
  aiUsage(provider: string, model: string, usage: { inputTokens: number; outputTokens: number; costUsd: number }): void;
}

/** What the media toolkit reports (lib/media). */
export interface MediaMetrics {
  /** User + system CPU time of one ffmpeg process (ffmpeg's own `-benchmark` accounting). */
  ffmpegCpuSeconds(operation: string, seconds: number): void;
}

/** The worker side: runs (from the workflow interceptor's sinks), activities, providers, AI, ffmpeg. */
export interface WorkerMetrics extends ProviderMetrics, MediaMetrics {
  registry: Registry;
  runStarted(workflowType: string): void;
  runClosed(workflowType: string, outcome: 'completed' | 'failed' | 'cancelled'): void;
  /** A Schedule-started run: seconds between its scheduled time and the start of its run. */
  scheduleLag(workflowType: string, seconds: number): void;
  activity(
    activityType: string,
    taskQueue: string,
    outcome: 'completed' | 'failed' | 'cancelled',
    seconds: number,
    failureType?: string,
  ): void;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const runsStarted = new Counter({
    name: 'runs_started_total',
    help: 'Workflow runs started, by workflow type',
    labelNames: ['type'],
    registers,
  });
  const runsCompleted = new Counter({
    name: 'runs_completed_total',
    help: 'Workflow runs completed, by workflow type',
    labelNames: ['type'],
    registers,
  });
  const runsFailed = new Counter({
    name: 'runs_failed_total',
    help: 'Workflow runs failed or cancelled, by workflow type',
    labelNames: ['type', 'outcome'],
    registers,
  });
  const scheduleLag = new Histogram({
    name: 'schedule_lag_seconds',
    help: 'Schedule-started runs: delay between the scheduled time (TemporalScheduledStartTime) and the run start',
    labelNames: ['type'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers,
  });
  const activityDuration = new Histogram({
    name: 'activity_duration_seconds',
    help: 'Activity execution time (one attempt), by activity type, task queue and outcome',
    labelNames: ['activity_type', 'task_queue', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const activityFailures = new Counter({
    name: 'activity_failures_total',
    help: 'Failed activity attempts, by activity type and failure type',
    labelNames: ['activity_type', 'failure_type'],
    registers,
  });
  const providerDuration = new Histogram({
    name: 'provider_call_duration_seconds',
    help: 'Provider SDK calls (limiter wait included), by provider and outcome (ok or failure type)',
    labelNames: ['provider', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const providerErrors = new Counter({
    name: 'provider_call_errors_total',
    help: 'Failed provider calls by provider and failure type',
    labelNames: ['provider', 'failure_type'],
    registers,
  });
  const providerRateLimited = new Counter({
    name: 'provider_rate_limited_total',
    help: 'Provider calls refused as rate limited (HTTP 429 or a Retry-After pause)',
    labelNames: ['provider'],
    registers,
  });
  const aiTokens = new Counter({
    name: 'ai_tokens_total',
    help: 'AI model tokens by provider, model and kind (input/output)',
    labelNames: ['provider', 'model', 'kind'],
    registers,
  });
  const aiCost = new Counter({
    name: 'ai_cost_usd_total',
    help: 'AI model cost in USD by provider and model',
    labelNames: ['provider', 'model'],
    registers,
  });
  const ffmpegCpu = new Counter({
    name: 'ffmpeg_cpu_seconds_total',
    help: 'CPU seconds (user + system) of ffmpeg processes, by media operation',
    labelNames: ['operation'],
    registers,
  });
  return {
    registry,
    runStarted: (type) => runsStarted.inc({ type }),
    runClosed: (type, outcome) => (outcome === 'completed' ? runsCompleted.inc({ type }) : runsFailed.inc({ type, outcome })),
    scheduleLag: (type, seconds) => scheduleLag.observe({ type }, Math.max(0, seconds)),
    activity(activityType, taskQueue, outcome, seconds, failureType) {
      activityDuration.observe({ activity_type: activityType, task_queue: taskQueue, outcome }, seconds);
      if (outcome === 'failed') activityFailures.inc({ activity_type: activityType, failure_type: failureType ?? 'Error' });
    },
    providerCall(provider, outcome, seconds) {
      providerDuration.observe({ provider, outcome }, seconds);
      if (outcome === 'ok') return;
      providerErrors.inc({ provider, failure_type: outcome });
      if (outcome === 'RateLimited') providerRateLimited.inc({ provider });
    },
    aiUsage(provider, model, usage) {
      aiTokens.inc({ provider, model, kind: 'input' }, usage.inputTokens);
      aiTokens.inc({ provider, model, kind: 'output' }, usage.outputTokens);
      aiCost.inc({ provider, model }, usage.costUsd);
    },
    ffmpegCpuSeconds: (operation, seconds) => ffmpegCpu.inc({ operation }, seconds),
  };
}

export interface MetricsServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format) with the given registries plus the process's own
 * metrics (CPU, memory, event loop lag), on host:port (0 = an ephemeral port).
 */
export async function serveMetrics(registries: Registry[], host: string, port: number): Promise<MetricsServer> {
  const processRegistry = new Registry();
  collectDefaultMetrics({ register: processRegistry });
  const merged = Registry.merge([processRegistry, ...registries]);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    merged.metrics().then(
      (text) => res.writeHead(200, { 'content-type': merged.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
