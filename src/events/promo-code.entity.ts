import { defineEntity, p } from '@mikro-orm/core';
import { LiveEvent } from './event.entity.js';

export const promoKinds = ['percent', 'fixed'] as const;

/** A discount code for one event. Codes compare case-insensitively (stored upper-case). */
export const PromoCodeSchema = defineEntity({
  name: 'PromoCode',
  tableName: 'promo_code',
  uniques: [{ properties: ['event', 'code'] }],
  checks: [{ name: 'promo_code_uses_within_max', expression: 'max_uses is null or used_count <= max_uses' }],
  properties: {
    id: p.uuid().primary(),
    event: () => p.manyToOne(LiveEvent).deleteRule('cascade'),
    code: p.string().length(64),
    kind: p.enum(promoKinds),
    /** Percent (1..100) for `percent`; an amount in minor units for `fixed`. */
    value: p.integer(),
    currency: p.string().length(3).nullable(),
    maxUses: p.integer().nullable(),
    usedCount: p.integer().default(0),
    validFrom: p.datetime().nullable(),
    validUntil: p.datetime().nullable(),
  },
});

export class PromoCode extends PromoCodeSchema.class {}
PromoCodeSchema.setClass(PromoCode);
