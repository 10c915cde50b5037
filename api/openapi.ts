import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { BEARER, type RouteModule } from './route-module';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

/** The OpenAPI 3.1 document of the given route modules, generated from their zod schemas. */
export function buildOpenApiDocument(modules: readonly RouteModule[]): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', BEARER, {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `Authorization: Bearer cjp_…`',
  });
  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    tags: ['Docs'],
    summary: 'This document',
    responses: { '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } },
  });
  for (const module of modules) module.document(registry);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Creator jobs platform API',
      version: '1.0.0',
      description:
        'Durable jobs for creator-content products. Errors are RFC 9457 application/problem+json. ' +
        'POSTs that start work accept an Idempotency-Key header.',
    },
    servers: [{ url: '/' }],
  });
}

/** GET /openapi.json and Swagger UI at /docs, its assets served from the npm package (no CDN). */
export function docsRouter(document: OpenApiDocument): Router {
  const r = Router();
  r.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  // The UI's HTML loads its assets relative to itself, so it must be served at /docs/.
  r.get('/docs', (req, res, next) => (req.originalUrl === '/docs' ? res.redirect(301, '/docs/') : next()));
  const uiOptions = { swaggerOptions: { url: '/openapi.json' }, customSiteTitle: 'Creator jobs platform API' };
  r.use('/docs', swaggerUi.serveFiles(undefined, uiOptions), swaggerUi.setup(undefined, uiOptions));
  return r;
}
