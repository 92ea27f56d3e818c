/**
 * Regenerates the TypeScript client's types (clients/typescript/src/schema.ts) from the API document.
 *   npm run client:generate
 */
import { writeFileSync } from 'node:fs';
import { clientSchemaPath, generateClientTypes } from './lib/client-types.js';

writeFileSync(clientSchemaPath, await generateClientTypes());
console.log(`wrote ${clientSchemaPath}`);
