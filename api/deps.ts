import type { Client } from '@temporalio/client';
import { createProviders, type Providers } from '../providers';
import type { Db } from '../db/database';
import { sandboxUrlsFrom, type Config } from '../lib/config';
import { createSecretBox, loadEncryptionKey, type SecretBox } from '../lib/secrets';
import type { Logger } from '../lib/logger';
import type { ApiMetrics } from '../lib/metrics';
import type { TaskQueues } from '../lib/task-queues';

/** Everything the API needs; the composition root builds real ones, tests may swap pieces. */
export interface ApiDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  config: Config;
  taskQueues: TaskQueues;
  /** Provider name → URL of its running sandbox (npm start); else SANDBOX_URLS from the config. */
  sandboxUrls?: Record<string, string>;
  /** Reachability probes for /readyz. */
  ready?: () => Promise<void>;
  /** Request metrics (served on METRICS_PORT by the composition root); none recorded without. */
  metrics?: ApiMetrics;
}

/** The sandboxes the API's own provider calls (Drive import, OAuth connect) use. */
export const sandboxUrlsOf = (deps: Pick<ApiDeps, 'config' | 'sandboxUrls'>): Record<string, string> =>
  deps.sandboxUrls ?? sandboxUrlsFrom(deps.config);

const apiProviders = new WeakMap<ApiDeps, Providers>();
/**
 * The provider adapters of the API's own calls, one set per app (so their rate limiters are
 * shared), built on first use: adapters need a provider key or a running sandbox.
 */
export function providersOf(deps: ApiDeps): Providers {
  let providers = apiProviders.get(deps);
  if (!providers)
    apiProviders.set(
      deps,
      (providers = createProviders({ config: deps.config, logger: deps.logger, db: deps.db, sandboxUrls: sandboxUrlsOf(deps) })),
    );
  return providers;
}

const apiSecrets = new WeakMap<ApiDeps, SecretBox>();
/** The box sealing stored OAuth tokens, built on first use: only routes storing or opening tokens need the key. */
export function secretsOf(deps: ApiDeps): SecretBox {
  let secrets = apiSecrets.get(deps);
  if (!secrets) apiSecrets.set(deps, (secrets = createSecretBox(loadEncryptionKey(deps.config))));
  return secrets;
}
