/**
 * The committed TypeScript client types are what the API's document generates now: a change to an
 * endpoint without `npm run client:generate` fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { clientSchemaPath, generateClientTypes } from '../../scripts/lib/client-types.js';

describe('clients/typescript', () => {
  it('is generated from the current API document (run `npm run client:generate` when this fails)', async () => {
    const committed = readFileSync(clientSchemaPath, 'utf8');
    const generated = await generateClientTypes();
    if (committed !== generated) {
      const a = committed.split('\n');
      const b = generated.split('\n');
      const line = a.findIndex((text, index) => text !== b[index]);
      throw new Error(
        `${clientSchemaPath} is out of date with the API (first difference at line ${line + 1}: ` +
          `committed ${JSON.stringify(a[line])}, generated ${JSON.stringify(b[line])}); run \`npm run client:generate\``,
      );
    }
    expect(generated).toContain('export interface paths');
  });

  it('is deterministic', async () => {
    expect(await generateClientTypes()).toBe(await generateClientTypes());
  });
});
