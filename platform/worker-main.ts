// `npm run worker`: the worker alone (production, compose); crash tests spawn it as a real process.
import { runRole } from './run-role';

runRole('worker', (platform) => [{ metricsUrls: platform.metricsUrls }, 'worker running']);
