import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';

const tracer = trace.getTracer('creator-jobs/api');

/**
 * One SERVER span per request (mounted only when tracing is on), continuing a caller's W3C
 * `traceparent`. The rest of the request runs inside it, so a run it starts (the Temporal client
 * interceptor) and everything that run does join the same trace. Named `METHOD /route` once
 * routed; the path is recorded without its query string (it may carry a stream token). Attribute
 * names are the OTel HTTP semantic conventions', spelt out (that package stays unloaded when off).
 */
export const traceRequests: RequestHandler = (req, res, next) => {
  const parent = propagation.extract(context.active(), req.headers);
  const span = tracer.startSpan(
    req.method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path, 'request.id': req.id } },
    parent,
  );
  const active = trace.setSpan(parent, span);
  // Body parsing and the response run on the request's own event emitters: keep them in the span too.
  context.bind(active, req);
  context.bind(active, res);
  res.once('close', () => {
    if (req.route) {
      const route = `${req.baseUrl}${String((req.route as { path: unknown }).path)}`;
      span.setAttribute('http.route', route);
      span.updateName(`${req.method} ${route}`);
    }
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(active, next);
};
