/**
 * What a signup costs. Pure: amounts are integers in the currency's minor unit, so no rounding
 * drift; a percentage discount rounds half up, and no discount takes the total below zero.
 */
import type { Price } from '../events/event-data.js';

export interface PromoTerms {
  code: string;
  kind: 'percent' | 'fixed';
  value: number;
  currency?: string | null;
  maxUses?: number | null;
  usedCount: number;
  validFrom?: Date | null;
  validUntil?: Date | null;
}

export type PromoRefusal = 'promo-not-started' | 'promo-expired' | 'promo-used-up' | 'promo-wrong-currency';

export function checkPromo(promo: PromoTerms, now: Date, currency: string | null): PromoRefusal | undefined {
  if (promo.validFrom && now < promo.validFrom) return 'promo-not-started';
  if (promo.validUntil && now >= promo.validUntil) return 'promo-expired';
  if (promo.maxUses != null && promo.usedCount >= promo.maxUses) return 'promo-used-up';
  if (promo.kind === 'fixed' && currency !== null && promo.currency !== currency) return 'promo-wrong-currency';
  return undefined;
}

export type Quote =
  | { free: true; totalMinor: 0 }
  | {
      free: false;
      currency: string;
      unitAmountMinor: number;
      quantity: number;
      subtotalMinor: number;
      discountMinor: number;
      totalMinor: number;
      promoCode?: string;
    };

export class PricingError extends Error {
  override name = 'PricingError';
}

/**
 * The price of `quantity` tickets of a type in a market's currency. A ticket type without prices is
 * free; one priced, but not in this currency, cannot be sold here (a configuration error).
 */
export function quoteSignup(input: {
  prices: readonly Price[];
  currency: string;
  quantity: number;
  promo?: Pick<PromoTerms, 'code' | 'kind' | 'value'>;
}): Quote {
  if (input.prices.length === 0) return { free: true, totalMinor: 0 };
  const price = input.prices.find((candidate) => candidate.currency === input.currency);
  if (!price) throw new PricingError(`no price in ${input.currency}`);
  const subtotalMinor = price.amountMinor * input.quantity;
  const discountMinor = input.promo ? discountOf(input.promo, subtotalMinor) : 0;
  return {
    free: false,
    currency: input.currency,
    unitAmountMinor: price.amountMinor,
    quantity: input.quantity,
    subtotalMinor,
    discountMinor,
    totalMinor: subtotalMinor - discountMinor,
    ...(input.promo ? { promoCode: input.promo.code } : {}),
  };
}

function discountOf(promo: Pick<PromoTerms, 'kind' | 'value'>, subtotalMinor: number): number {
  const discount = promo.kind === 'percent' ? Math.round((subtotalMinor * promo.value) / 100) : promo.value;
  return Math.min(Math.max(discount, 0), subtotalMinor);
}
