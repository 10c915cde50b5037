import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { startTracing, type Tracing } from '../../lib/tracing';
import { startShopSandbox, type ShopSandbox } from '../../sandbox/shop';
import { USER_SCOPES } from '../../schemas/api-keys';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * OpenTelemetry traces on the real stack (API, Temporal, PostgreSQL, workers) with the shop
 * sandbox: tracing on in this process (as OTEL_EXPORTER_OTLP_ENDPOINT turns it on in
 * startPlatform), spans kept in memory instead of exported over OTLP.
 */
describe('traces (API + real stack + shop sandbox, in-memory exporter)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let platform: TestPlatform;
  let shop: ShopSandbox;
  let dataDir: string;

  beforeAll(async () => {
    // Before the platform: its client, workers (and their workflow bundle) and app add tracing only when it is active.
    tracing = startTracing({ serviceName: 'tracing-test', processor: new SimpleSpanProcessor(exporter) });
    dataDir = await mkdtemp(join(tmpdir(), 'tracing-it-'));
    shop = await startShopSandbox();
    platform = await startTestPlatform({
      sandboxUrls: { shop: shop.url },
      env: { DATA_DIR: dataDir, SANDBOX_URLS: JSON.stringify({ shop: shop.url }), SCRAPE_DEFAULT_DELAY_MS: '0' },
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await shop?.stop();
    await tracing?.shutdown();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function newUser() {
    const user = await createUser(platform.database.db, { email: `tracer-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(platform.database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      api(platform.apiUrl, method, path, body, { authorization: `Bearer ${plaintext}`, ...headers });
  }

  const traceOf = (span: ReadableSpan) => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === span.spanContext().traceId);
  const parentOf = (span: ReadableSpan, spans: ReadableSpan[]) => spans.find((s) => s.spanContext().spanId === span.parentSpanId);

  it('follows one scrape in one trace: the API request, the workflow start and run, its activities and the provider HTTP call', async () => {
    const call = await newUser();
    const started = await call('POST', '/v1/products', { url: `${shop.url}${shop.pages['aurora-desk-lamp']!}` });
    expect(started.status).toBe(202);
    const workflowId = started.json.runId as string;
    // The workflow's own spans reach the exporter through a sink once the run has ended.
    const run = await eventually(
      async () =>
        exporter.getFinishedSpans().find((s) => s.name === 'RunWorkflow:productScrapeWorkflow' && s.attributes.workflowId === workflowId),
      (span) => span !== undefined,
      'the scrape workflow span',
      30_000,
    );
    const product = await call('GET', `/v1/products/${started.json.productId}`);
    expect(product.json.scrapingStatus).toBe('Success');

    const request = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.name === 'POST /v1/products');
    expect(request).toBeDefined();
    expect(request!.attributes).toMatchObject({ 'http.route': '/v1/products', 'http.response.status_code': 202 });
    const spans = traceOf(request!);
    // The run joined the request's trace: started from the request span, run under the start span.
    expect(run!.spanContext().traceId).toBe(request!.spanContext().traceId);
    const start = parentOf(run!, spans);
    expect(start?.name).toBe('StartWorkflow:productScrapeWorkflow');
    expect(parentOf(start!, spans)).toBe(request);

    // The page activity, scheduled by the workflow, ran in the trace and called the provider inside it.
    const activity = spans.find((s) => s.name === 'RunActivity:scrapeProductPage');
    expect(activity?.attributes).toMatchObject({ temporalWorkflowId: workflowId });
    expect(parentOf(activity!, spans)?.name).toBe('StartActivity:scrapeProductPage');
    // robots.txt and the page. (Their HTTP requests become child spans in a real process; jest's module
    // system hides `require` from the http instrumentation: test/unit/tracing.test.ts covers that.)
    const providerCalls = spans.filter((s) => s.name === 'provider web' && s.parentSpanId === activity!.spanContext().spanId);
    expect(providerCalls.length).toBeGreaterThanOrEqual(2);
    // The image activity on the media worker joined the same trace.
    expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['RunActivity:storeProductImages']));
  });

  it("continues a caller's W3C traceparent", async () => {
    const call = await newUser();
    const traceId = randomUUID().replaceAll('-', '');
    const res = await call('GET', '/v1/runs', undefined, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(res.status).toBe(200);
    const span = await eventually(
      async () => exporter.getFinishedSpans().find((s) => s.spanContext().traceId === traceId && s.kind === SpanKind.SERVER),
      (s) => s !== undefined,
      'the request span',
    );
    expect(span).toMatchObject({ name: 'GET /v1/runs', parentSpanId: '00f067aa0ba902b7' });
  });
});
