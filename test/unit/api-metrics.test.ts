import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import { createApp } from '../../api/app';
import type { Db } from '../../db/database';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { createApiMetrics, serveMetrics, type ApiMetrics, type MetricsServer } from '../../lib/metrics';

// Routes that answer before touching PostgreSQL or Temporal: the app needs neither here.
describe('API metrics (prom-client, one Registry per app)', () => {
  let metrics: ApiMetrics;
  let server: Server;
  let apiUrl: string;

  beforeAll(async () => {
    metrics = createApiMetrics();
    const config = loadConfig({ NODE_ENV: 'test', ANONYMOUS_RATE_LIMIT_PER_MINUTE: '3' });
    const app = createApp({
      db: {} as Db,
      temporal: {} as Client,
      logger: createLogger('silent'),
      config,
      taskQueues: { main: 'main', media: 'media' },
      metrics,
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = server.address();
    apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('counts requests by route pattern and status, times them, and counts 429s of the rate limit', async () => {
    expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);
    // Without a key a run lookup is refused inside its route: the label is the pattern, never the id.
    expect((await fetch(`${apiUrl}/v1/runs/smoke%3Aabc`)).status).toBe(401);
    expect((await fetch(`${apiUrl}/v1/runs/smoke%3Adef`)).status).toBe(401);
    // The anonymous budget (3 a minute) is spent: the next request is a 429.
    expect((await fetch(`${apiUrl}/healthz`)).status).toBe(429);

    const text = await metrics.registry.metrics();
    expect(text).toContain('http_requests_total{method="GET",route="/healthz",status="200"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="/v1/runs/:runId",status="401"} 2');
    // Refused before routing: no route pattern yet.
    expect(text).toContain('http_requests_total{method="GET",route="(unmatched)",status="429"} 1');
    expect(text).not.toMatch(/smoke:abc|smoke%3Aabc/);
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/v1\/runs\/:runId"\} 2/);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/healthz"\} 1/);
    expect(text).toContain('api_rate_limit_rejections_total{limit="requests",route="(unmatched)"} 1');
  });

  it('serves the registry in Prometheus text format on its own listener, apart from the API', async () => {
    const listener: MetricsServer = await serveMetrics([metrics.registry], '127.0.0.1', 0);
    try {
      const res = await fetch(listener.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).toContain('# TYPE http_requests_total counter');
      expect(text).toContain('# TYPE process_cpu_seconds_total counter');
      expect((await fetch(listener.url.replace('/metrics', '/other'))).status).toBe(404);
      // The public API has no /metrics.
      expect((await fetch(`${apiUrl}/metrics`)).status).not.toBe(200);
    } finally {
      await listener.stop();
    }
  });
});
