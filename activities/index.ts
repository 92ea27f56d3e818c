import type { MikroORM } from '@mikro-orm/postgresql';
import { createSeatActivities } from './seats.js';

export interface ActivityDependencies {
  orm: MikroORM;
}

/** All activities the worker registers, bound to their dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createSeatActivities(deps.orm),
  };
}

/** The shape workflows proxy: `proxyActivities<Activities>(...)`. */
export type Activities = ReturnType<typeof createActivities>;
