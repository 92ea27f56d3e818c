/**
 * Registers our custom search attributes (src/temporal/contract.ts) on a real Temporal cluster's
 * namespace: the ones missing are added, the ones there are left alone, so it is safe to rerun.
 *   TEMPORAL_ADDRESS=temporal:7233 TEMPORAL_NAMESPACE=eventbook npm run temporal:search-attributes
 * The dev server gets them as flags (scripts/lib/temporal-server.ts) and docker-compose registers
 * them with the admin-tools image; this is for clusters we do not start ourselves.
 */
import { pathToFileURL } from 'node:url';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
// CommonJS without named exports Node can see: the default import is its module.exports.
import proto, { type temporal } from '@temporalio/proto';
import { configOrExit } from '../src/main-support.js';
import { allSearchAttributeKeys } from '../src/temporal/contract.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;
type IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** The server's type for each SDK search attribute type (KEYWORD → INDEXED_VALUE_TYPE_KEYWORD, …). */
export function indexedValueType(type: SearchAttributeType): IndexedValueType {
  const value = IndexedValueType[`INDEXED_VALUE_TYPE_${type}` as keyof typeof IndexedValueType];
  if (typeof value !== 'number') throw new Error(`no IndexedValueType for search attribute type ${type}`);
  return value;
}

/** `INDEXED_VALUE_TYPE_KEYWORD` → `Keyword`-ish text for people; the enum name when unknown. */
function typeName(value: IndexedValueType | string): string {
  const name = typeof value === 'number' ? IndexedValueType[value] : value;
  return String(name ?? value).replace(/^INDEXED_VALUE_TYPE_/, '');
}

export interface SearchAttributeReport {
  namespace: string;
  /** Added by this call. */
  added: string[];
  /** Already registered with the right type. */
  present: string[];
}

/**
 * Adds the custom search attributes the namespace lacks. Throws, adding nothing, when one of ours
 * is registered with another type (a cluster-side fix, which this must not guess).
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<SearchAttributeReport> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const existing = customAttributes ?? {};
  const missing: Record<string, IndexedValueType> = {};
  const present: string[] = [];
  const conflicts: string[] = [];
  for (const key of allSearchAttributeKeys) {
    const wanted = indexedValueType(key.type);
    const have = existing[key.name];
    if (have === undefined) missing[key.name] = wanted;
    else if (have === wanted || have === (IndexedValueType[wanted] as unknown)) present.push(key.name);
    else conflicts.push(`${key.name} is ${typeName(have)}, we need ${typeName(wanted)}`);
  }
  if (conflicts.length > 0) {
    throw new Error(`search attributes with the wrong type in namespace ${namespace}: ${conflicts.join('; ')}`);
  }
  const added = Object.keys(missing);
  if (added.length > 0) {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  }
  return { namespace, added, present };
}

async function main(): Promise<void> {
  const config = configOrExit();
  const { address, namespace } = config.temporal;
  let connection: Connection;
  try {
    connection = await Connection.connect({ address });
  } catch (error) {
    console.error(`cannot reach Temporal at ${address}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  try {
    const report = await ensureSearchAttributes(connection, namespace);
    const types = Object.fromEntries(allSearchAttributeKeys.map((key) => [key.name, key.type]));
    for (const name of report.added) console.log(`added    ${name} (${types[name]})`);
    for (const name of report.present) console.log(`present  ${name} (${types[name]})`);
    console.log(
      report.added.length > 0
        ? `\n${report.added.length} search attribute(s) added to namespace ${namespace} at ${address}`
        : `\nnothing to do: namespace ${namespace} at ${address} has all ${report.present.length} search attributes`,
    );
  } finally {
    await connection.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
