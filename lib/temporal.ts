import { Client, Connection } from '@temporalio/client';
import { ConfigError } from './config';

/** Connects a Temporal client, turning "unreachable" into one clear line. */
export async function connectTemporalClient(address: string, namespace: string, timeoutMs = 10_000): Promise<Client> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    const client = new Client({ connection, namespace });
    await connection.workflowService.describeNamespace({ namespace });
    return client;
  } catch (err) {
    throw new ConfigError(`Temporal unreachable at TEMPORAL_ADDRESS=${address} (namespace ${namespace}): ${(err as Error).message.split('\n')[0]}`);
  }
}
