import { TestWorkflowEnvironment } from '@temporalio/testing';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';
import type { DataConverter, Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { createPayloadCodec, payloadDataConverter } from '../../lib/payload-codec';
import { resolveTimeSkippingServer } from '../../lib/runtime/temporal-binary';
import { loadPayloadKeyring } from '../../lib/secrets';
import { taskQueues, type TaskQueues } from '../../lib/task-queues';
import { activeTracing, tracingClientOptions } from '../../lib/tracing';
import { WORKFLOWS_PATH } from '../../worker/create-worker';
import { productionBundleOptions } from '../../worker/workflow-bundle';
import { tracingBundleOptions } from '../../worker/tracing';
import { stackValue } from './stack-env';

let runtimeInstalled = false;
/** Keeps the SDK's own logs to warnings so test output stays readable. */
export function quietTemporalRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
    });
  } catch {
    /* already installed in this process */
  }
}

let tracingBundle: Promise<{ code: string }> | undefined;

/**
 * The production workflow bundle global setup built for this run (the workers load it; no webpack per
 * file). A file that traces (startTracing) gets one with the tracing interceptors, built once on demand.
 */
export async function workflowBundle(): Promise<{ codePath: string } | { code: string }> {
  quietTemporalRuntime();
  if (activeTracing())
    return (tracingBundle ??= bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      ...productionBundleOptions(tracingBundleOptions()),
      logger: new DefaultLogger('WARN'),
    }));
  return { codePath: stackValue('workflowBundlePath') };
}

/** Unique task queues, so test files sharing the dev server never steal each other's tasks. */
export function uniqueTaskQueues(): TaskQueues & { prefix: string } {
  const prefix = `t${randomBytes(4).toString('hex')}-`;
  return { prefix, ...taskQueues(prefix) };
}

/**
 * The payload keys of every test stack (PAYLOAD_ENCRYPTION_KEYS): tests run encrypted, the production
 * path. A constant, not per run: the histories recorded into test/replay/histories are encrypted
 * with it and replay must open them (scripts/replay-histories.ts).
 */
export const TEST_PAYLOAD_ENCRYPTION_KEYS = 'test1:ahmGyzQlY90TFe9zwW8UZOdmWCjwWJA8Lb/cy6NhXMk=';

const testKeyring = (keys: string) => loadPayloadKeyring({ PAYLOAD_ENCRYPTION_KEYS: keys, NODE_ENV: 'test', dataDir: '/nonexistent' });

/**
 * The data converter of clients and workers on the shared test stack: the production codec with the
 * test keys. (Time-skipping workflow tests run plaintext: an in-memory server with mocked activities.)
 */
export function testDataConverter(keys = TEST_PAYLOAD_ENCRYPTION_KEYS): DataConverter {
  return payloadDataConverter(testKeyring(keys));
}

/** A payload read from a raw history (fetchHistory), decrypted and parsed as the workers see it. */
export async function decodedPayload(payload: Payload): Promise<unknown> {
  const [decoded] = await createPayloadCodec(testKeyring(TEST_PAYLOAD_ENCRYPTION_KEYS)).decode([payload]);
  return defaultPayloadConverter.fromPayload(decoded!);
}

export async function testClient(address = stackValue('temporalAddress'), dataConverter = testDataConverter()): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace: 'default', dataConverter, ...tracingClientOptions() });
}

export function testNativeConnection(address = stackValue('temporalAddress')): Promise<NativeConnection> {
  quietTemporalRuntime();
  return NativeConnection.connect({ address });
}

/** The Java time-skipping test server (from .tools/bin), for workflow tests with mocked activities. */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietTemporalRuntime();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: resolveTimeSkippingServer() } },
  });
}
