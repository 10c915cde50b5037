import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';

/**
 * Every external provider adapter, built once per worker process. Each points at the real
 * service when its key is configured, or at its local sandbox (URL from `sandboxUrls`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Providers {}

export interface ProviderContext {
  config: Config;
  logger: Logger;
  /** Provider name → sandbox base URL, for providers running sandboxed. */
  sandboxUrls: Record<string, string>;
}

export function createProviders(_ctx: ProviderContext): Providers {
  return {};
}
