import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { trustProxySetting } from '../lib/config';
import { activeTracing } from '../lib/tracing';
import { authenticate } from './auth';
import { consoleRouter } from './console-routes';
import type { ApiDeps } from './deps';
import { errorHandler, unknownRoute } from './error-handler';
import { guardJsonBody, guardUrlInput, requireUtf8Body } from './input-guard';
import { anonymousRateLimit } from './rate-limit';
import { requestId, requestLog, requireJsonBody } from './middleware';
import { traceRequests } from './request-tracing';
import { requestMetrics } from './request-metrics';
import { allowedMethods } from './allowed-methods';
import { buildOpenApiDocument, docsRouter } from './openapi';
import type { RouteModule } from './route-module';
import { adminRoutes } from './routes/admin';
import { affiliateRoutes } from './routes/affiliates';
import { apiKeyRoutes } from './routes/api-keys';
import { billingRoutes } from './routes/billing';
import { codecRoutes } from './routes/codec';
import { clipRoutes, videoUploadRoutes } from './routes/clips';
import { connectionRoutes } from './routes/connections';
import { contentPlanRoutes } from './routes/content-plans';
import { healthRoutes } from './routes/health';
import { postRoutes } from './routes/posts';
import { productRoutes } from './routes/products';
import { providerWebhookRoutes } from './routes/provider-webhooks';
import { runRoutes } from './routes/runs';
import { socialAccountRoutes } from './routes/social-accounts';
import { socialInsightsRoutes } from './routes/social-insights';
import { smokeRoutes } from './routes/smoke';
import { sselfieRoutes, sselfieUploadRoutes } from './routes/sselfie';
import { sselfiePhotoshootRoutes } from './routes/sselfie-photoshoots';
import { stripeWebhookRoutes } from './routes/stripe-webhooks';
import { thumbnailRoutes } from './routes/thumbnails';
import { videoFileImportRoutes } from './routes/video-file-import';
import { videoExportRoutes } from './routes/video-exports';
import { videoRoutes } from './routes/videos';
import { webhookEndpointRoutes } from './routes/webhook-endpoints';

export const JSON_BODY_LIMIT = '256kb';

/**
 * Every domain's routes. Add a module here to serve it and publish it in /openapi.json.
 * Routes that must see the raw body (signed webhooks) go in RAW_BODY_ROUTE_MODULES instead.
 */
export const ROUTE_MODULES: readonly RouteModule[] = [
  healthRoutes,
  smokeRoutes,
  runRoutes,
  apiKeyRoutes,
  adminRoutes,
  videoRoutes,
  billingRoutes,
  thumbnailRoutes,
  socialAccountRoutes,
  socialInsightsRoutes,
  postRoutes,
  clipRoutes,
  videoFileImportRoutes,
  affiliateRoutes,
  connectionRoutes,
  videoExportRoutes,
  productRoutes,
  contentPlanRoutes,
  sselfieRoutes,
  sselfiePhotoshootRoutes,
  webhookEndpointRoutes,
];

/** Mounted before the JSON parser; they parse their own bodies (e.g. express.raw for Stripe). */
// The generic provider route comes after Stripe's own, whose path it would also match.
export const RAW_BODY_ROUTE_MODULES: readonly RouteModule[] = [stripeWebhookRoutes, providerWebhookRoutes];

/** Mounted before the JSON-only body check; they accept multipart/form-data and parse it themselves (uploads). */
export const MULTIPART_ROUTE_MODULES: readonly RouteModule[] = [sselfieUploadRoutes, videoUploadRoutes];

export const ALL_ROUTE_MODULES: readonly RouteModule[] = [...MULTIPART_ROUTE_MODULES, ...RAW_BODY_ROUTE_MODULES, ...ROUTE_MODULES];

function corsOrigins(setting: string | undefined): string[] | false {
  const origins = (setting ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return origins.length > 0 ? origins : false;
}

/** The Express app, built from its dependencies (used by npm start, npm run api and tests). */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxySetting(deps.config));
  app.use(requestId);
  if (activeTracing()) app.use(traceRequests);
  app.use(requestLog(deps.logger));
  if (deps.metrics) app.use(requestMetrics(deps.metrics));
  app.use(helmet());
  // The Temporal UI's codec server: its own CORS, token/origin check and body limit, outside /v1 and the OpenAPI document.
  app.use(codecRoutes(deps));
  const document = buildOpenApiDocument(ALL_ROUTE_MODULES);
  // Before cors, which would answer every OPTIONS request itself once origins are configured.
  app.use(allowedMethods(document));
  app.use(
    cors({
      origin: corsOrigins(deps.config.CORS_ORIGINS),
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'Idempotent-Replayed'],
      maxAge: 600,
    }),
  );
  app.use(guardUrlInput);
  app.use(docsRouter(document));
  // The web console (plain ES modules, no build step) and the local media store's files.
  app.use(consoleRouter(deps));
  const anonymous = anonymousRateLimit(deps.config.ANONYMOUS_RATE_LIMIT_PER_MINUTE);
  app.use(authenticate(deps, anonymous));
  for (const module of MULTIPART_ROUTE_MODULES) app.use(module.router(deps));
  app.use(requireJsonBody);
  for (const module of RAW_BODY_ROUTE_MODULES) app.use(module.router(deps));
  app.use(anonymous.unauthenticated);
  app.use(express.json({ limit: JSON_BODY_LIMIT, verify: requireUtf8Body }));
  app.use(guardJsonBody);
  for (const module of ROUTE_MODULES) app.use(module.router(deps));
  app.use(unknownRoute);
  app.use(errorHandler(deps.logger));
  return app;
}
