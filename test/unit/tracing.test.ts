import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnTs } from '../helpers/processes';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpRequest {
  resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: OtlpValue }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

const OTLP_CLIENT_KIND = 3; // SpanKind.CLIENT + 1 in OTLP's enum
const attribute = (attributes: OtlpSpan['attributes'], key: string) => attributes.find((a) => a.key === key)?.value.stringValue;

/**
 * Tracing in a real process (test/unit/fixtures/tracing-process.ts): off by default at no cost, and
 * with OTEL_EXPORTER_OTLP_ENDPOINT the provider calls and their HTTP requests (node:http and fetch)
 * reach an OTLP/HTTP receiver as one trace.
 */
describe('tracing: off by default, OTLP/HTTP export when configured', () => {
  const exports: OtlpRequest[] = [];
  const requested: string[] = [];
  let server: Server;
  let url: string;

  beforeAll(async () => {
    // One local server: the OTLP receiver (/v1/traces, JSON) and the "provider" the fixture calls.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') exports.push(JSON.parse(body) as OtlpRequest);
        else requested.push(`${req.url} traceparent=${req.headers.traceparent?.toString() ?? 'none'}`);
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('loads nothing when off; exports provider calls and their HTTP requests as one trace when on', async () => {
    const fixture = spawnTs('test/unit/fixtures/tracing-process.ts', {
      TARGET_URL: url,
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_SERVICE_NAME: 'fixture-from-env',
    });
    expect(await fixture.exited).toBe(0);
    const off = (JSON.parse(/^\{"off".*$/m.exec(fixture.output())![0]) as { off: unknown }).off;
    expect(off).toEqual({ configured: false, sdkModules: 0, client: {}, worker: {} });
    // The untraced call carried no trace context; the traced ones did.
    expect(requested[0]).toBe('/untraced traceparent=none');
    expect(requested.slice(1)).toEqual([
      expect.stringMatching(/^\/page traceparent=00-\w{32}-/),
      expect.stringMatching(/^\/fetched traceparent=00-/),
    ]);

    const resource = exports[0]!.resourceSpans[0]!.resource;
    expect(attribute(resource.attributes, 'service.name')).toBe('fixture-from-env'); // OTEL_SERVICE_NAME wins
    const spans = exports.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    const root = spans.find((s) => s.name === 'activity')!;
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([root.traceId]));
    const providerCalls = spans.filter((s) => s.name === 'provider shop');
    expect(providerCalls.map((s) => s.parentSpanId)).toEqual([root.spanId, root.spanId]);
    const httpRequests = spans
      .filter((s) => s.kind === OTLP_CLIENT_KIND)
      .map((s) => ({ url: attribute(s.attributes, 'url.full') ?? attribute(s.attributes, 'http.url'), parent: s.parentSpanId }));
    expect(httpRequests).toEqual(
      expect.arrayContaining([
        { url: `${url}/page`, parent: providerCalls[0]!.spanId },
        { url: `${url}/fetched`, parent: providerCalls[1]!.spanId },
      ]),
    );
  });
});
