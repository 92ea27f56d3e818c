import { defineEntity, p } from '@mikro-orm/core';

/**
 * The rate limiter's counters (rate-limiter-flexible's PostgreSQL store layout, src/limits/): one
 * row per budget key (`<class>-<user|address>:<id>`), points used in the current window and when it
 * ends (epoch ms). Written by the library's own upsert (refused tokens) and by the write budgets'
 * two-row upsert with the same semantics (src/limits/rate-limits.ts); declared here so the schema
 * diff keeps the table. Every API replica counts in the same rows, so a budget holds across replicas.
 */
export const RateLimitSchema = defineEntity({
  name: 'RateLimit',
  tableName: 'rate_limit',
  properties: {
    key: p.string().length(255).primary(),
    points: p.integer().default(0),
    expire: p.bigint().nullable(),
  },
});

export class RateLimit extends RateLimitSchema.class {}
RateLimitSchema.setClass(RateLimit);
