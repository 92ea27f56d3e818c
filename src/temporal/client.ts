import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config.js';
import { tracingClientInterceptors, type Tracing } from '../observability/tracing.js';

/** With `tracing`, workflow starts, signals and updates are spans whose context travels to the workflow in the headers. */
export async function connectTemporalClient(temporal: Config['temporal'], tracing?: Tracing): Promise<Client> {
  const connection = await Connection.connect({ address: temporal.address });
  const interceptors = tracingClientInterceptors(tracing);
  return new Client({ connection, namespace: temporal.namespace, ...(interceptors ? { interceptors } : {}) });
}
