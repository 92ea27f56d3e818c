import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { createPersonalDataExport } from './export.js';

/** The caller's own data: what is stored about them (export) and, later, its erasure. */
export function createPrivacyService(deps: { orm: MikroORM; temporal: Client; taskQueue: string }) {
  return {
    exportFor: createPersonalDataExport({ orm: deps.orm }),
  };
}

export type PrivacyService = ReturnType<typeof createPrivacyService>;
