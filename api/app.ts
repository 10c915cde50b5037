import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { ApiDeps } from './deps';
import { errorHandler, unknownRoute } from './error-handler';
import { healthRouter } from './routes/health';
import { smokeRouter } from './routes/smoke';

export const JSON_BODY_LIMIT = '256kb';

/** The Express app, built from its dependencies (used by npm start, npm run api and tests). */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(helmet());
  app.use((req, res, next) => {
    const incoming = req.header('x-request-id');
    req.id = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    next();
  });
  app.use(healthRouter(deps));
  app.use(express.json({ limit: JSON_BODY_LIMIT }));
  app.use(smokeRouter(deps));
  app.use(unknownRoute);
  app.use(errorHandler(deps.logger));
  return app;
}
