import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { ConfigError } from './config';
import { tracingClientOptions } from './tracing';

/**
 * The SDK retries an unavailable server 10 times over ~20 s; our callers (API requests, start-up
 * probes) would rather hear "unavailable" within about a second: the API then answers 503 with
 * Retry-After instead of holding the request.
 */
const FAIL_FAST_RETRIES = makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 4 }));

export interface TemporalClientOptions {
  timeoutMs?: number;
  /** The payload codec (lib/payload-codec.ts): every client that starts, signals or reads workflows needs it; reachability probes do not. */
  dataConverter?: DataConverter;
}

/** Connects a Temporal client, turning "unreachable" into one clear line. */
export async function connectTemporalClient(
  address: string,
  namespace: string,
  { timeoutMs = 10_000, dataConverter }: TemporalClientOptions = {},
): Promise<Client> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs, interceptors: [FAIL_FAST_RETRIES] });
    const client = new Client({ connection, namespace, dataConverter, ...tracingClientOptions() });
    await connection.workflowService.describeNamespace({ namespace });
    return client;
  } catch (err) {
    throw new ConfigError(
      `Temporal unreachable at TEMPORAL_ADDRESS=${address} (namespace ${namespace}): ${(err as Error).message.split('\n')[0]}`,
    );
  }
}
