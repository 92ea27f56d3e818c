import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import { ensureSearchAttributes } from '../../scripts/register-search-attributes.js';
import { allSearchAttributeKeys } from '../../src/temporal/contract.js';
import { requireEnv } from '../support/environment.js';
import { eventually } from '../support/stack.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;

let connection: Connection;
// The generated type wants a Long; fromObject converts the plain number.
const oneDay = proto.google.protobuf.Duration.fromObject({ seconds: 86_400 });
const namespace = `sa-script-${randomUUID().slice(0, 8)}`;

async function registerNamespace(name: string): Promise<void> {
  await connection.workflowService.registerNamespace({ namespace: name, workflowExecutionRetentionPeriod: oneDay });
  // A new namespace may reach the frontend's cache a moment after it is registered.
  await eventually(`namespace ${name}`, async () => {
    try {
      await connection.operatorService.listSearchAttributes({ namespace: name });
      return true;
    } catch {
      return undefined;
    }
  }, 15_000, 200);
}

beforeAll(async () => {
  connection = await Connection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
  await registerNamespace(namespace);
});

afterAll(async () => {
  await connection?.close();
});

describe('npm run temporal:search-attributes (ensureSearchAttributes)', () => {
  it('adds every missing search attribute to a fresh namespace, then has nothing to do', async () => {
    const names = allSearchAttributeKeys.map((key) => key.name).sort();
    const before = await connection.operatorService.listSearchAttributes({ namespace });
    expect(Object.keys(before.customAttributes ?? {}).filter((name) => names.includes(name))).toEqual([]);

    const first = await ensureSearchAttributes(connection, namespace);
    expect([...first.added].sort()).toEqual(names);
    expect(first.present).toEqual([]);

    const after = await connection.operatorService.listSearchAttributes({ namespace });
    for (const key of allSearchAttributeKeys) {
      const type = key.type === SearchAttributeType.KEYWORD_LIST ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
      expect({ name: key.name, type: after.customAttributes?.[key.name] }).toEqual({ name: key.name, type });
    }

    const second = await ensureSearchAttributes(connection, namespace);
    expect(second.added).toEqual([]);
    expect([...second.present].sort()).toEqual(names);
  });

  it('refuses, adding nothing, when one of ours is registered with another type', async () => {
    const other = `sa-script-${randomUUID().slice(0, 8)}`;
    await registerNamespace(other);
    await connection.operatorService.addSearchAttributes({
      namespace: other,
      searchAttributes: { EventId: IndexedValueType.INDEXED_VALUE_TYPE_INT },
    });
    await expect(ensureSearchAttributes(connection, other)).rejects.toThrow('EventId is INT, we need KEYWORD');
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: other });
    expect(customAttributes?.SignupId).toBeUndefined();
  });
});
