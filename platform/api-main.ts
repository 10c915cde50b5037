// `npm run api`: the HTTP API alone (production, compose).
import { runRole } from './run-role';

runRole('api', (platform) => [{ apiUrl: platform.apiUrl, metricsUrls: platform.metricsUrls }, 'api listening']);
