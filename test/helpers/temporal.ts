import { TestWorkflowEnvironment } from '@temporalio/testing';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';
import { resolveTimeSkippingServer } from '../../lib/runtime/temporal-binary';
import { taskQueues, type TaskQueues } from '../../lib/task-queues';
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

/** The production workflow bundle global setup built for this run (the workers load it; no webpack per file). */
export async function workflowBundle(): Promise<{ codePath: string }> {
  quietTemporalRuntime();
  return { codePath: stackValue('workflowBundlePath') };
}

/** Unique task queues, so test files sharing the dev server never steal each other's tasks. */
export function uniqueTaskQueues(): TaskQueues & { prefix: string } {
  const prefix = `t${randomBytes(4).toString('hex')}-`;
  return { prefix, ...taskQueues(prefix) };
}

export async function testClient(address = stackValue('temporalAddress')): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace: 'default' });
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
