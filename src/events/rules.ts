/**
 * Rules about an event's own data. Pure: they take values and answer the violations found, each
 * naming the field at fault, so the API can report all of them at once (422).
 */
import { checkNotificationTexts } from '../notifications/placeholders.js';
import type { AgeRules, NotificationTexts, Price, RefundPolicy } from './event-data.js';

export interface RuleViolation {
  field: string;
  message: string;
}

export interface EventSchedule {
  startsAt: Date;
  endsAt: Date;
  announceAt?: Date | null;
  signupOpensAt?: Date | null;
  signupClosesAt?: Date | null;
  cancellationDeadline?: Date | null;
}

/** announce <= signup opens < signup closes <= start < end; cancellation deadline <= start. */
export function checkEventSchedule(schedule: EventSchedule): RuleViolation[] {
  const violations: RuleViolation[] = [];
  const { startsAt, endsAt, announceAt, signupOpensAt, signupClosesAt, cancellationDeadline } = schedule;
  const before = (a: Date, b: Date) => a.getTime() < b.getTime();
  if (!before(startsAt, endsAt)) violations.push({ field: 'endsAt', message: 'must be after startsAt' });
  if (signupClosesAt && before(startsAt, signupClosesAt)) {
    violations.push({ field: 'signupClosesAt', message: 'must not be after startsAt' });
  }
  if (signupOpensAt && signupClosesAt && !before(signupOpensAt, signupClosesAt)) {
    violations.push({ field: 'signupOpensAt', message: 'must be before signupClosesAt' });
  }
  if (signupOpensAt && !signupClosesAt && !before(signupOpensAt, startsAt)) {
    violations.push({ field: 'signupOpensAt', message: 'must be before startsAt' });
  }
  const firstSignupDate = signupOpensAt ?? signupClosesAt ?? startsAt;
  if (announceAt && before(firstSignupDate, announceAt)) {
    violations.push({ field: 'announceAt', message: 'must not be after the signup window opens (or the start)' });
  }
  if (cancellationDeadline && before(startsAt, cancellationDeadline)) {
    violations.push({ field: 'cancellationDeadline', message: 'must not be after startsAt' });
  }
  return violations;
}

/** A capacity may never drop below the seats already taken. */
export function checkCapacity(capacity: number, seatsTaken: number, field = 'capacity'): RuleViolation[] {
  return capacity < seatsTaken
    ? [{ field, message: `must be at least ${seatsTaken}, the seats already held or confirmed` }]
    : [];
}

export function checkAgeRules(rules: AgeRules): RuleViolation[] {
  if (rules.minAge !== undefined && rules.maxAge !== undefined && rules.minAge > rules.maxAge) {
    return [{ field: 'ageRules.maxAge', message: 'must not be below minAge' }];
  }
  return [];
}

/** The currency each market sells in. Prices in another currency are refused. */
export const marketCurrencies: Readonly<Record<string, string>> = {
  AT: 'EUR', AU: 'AUD', BE: 'EUR', BR: 'BRL', CA: 'CAD', CH: 'CHF', CN: 'CNY', CZ: 'CZK', DE: 'EUR',
  DK: 'DKK', ES: 'EUR', FI: 'EUR', FR: 'EUR', GB: 'GBP', IE: 'EUR', IN: 'INR', IT: 'EUR', JP: 'JPY',
  KR: 'KRW', MX: 'MXN', NL: 'EUR', NO: 'NOK', NZ: 'NZD', PL: 'PLN', PT: 'EUR', SE: 'SEK', SG: 'SGD',
  US: 'USD', ZA: 'ZAR',
};

export function checkMarket(market: string): RuleViolation[] {
  return marketCurrencies[market] ? [] : [{ field: 'market', message: `market ${market} is not served` }];
}

export function checkPrices(market: string, prices: readonly Price[], field: string): RuleViolation[] {
  const currency = marketCurrencies[market];
  const violations: RuleViolation[] = [];
  prices.forEach((price, index) => {
    if (currency && price.currency !== currency) {
      violations.push({ field: `${field}.${index}.currency`, message: `market ${market} sells in ${currency}` });
    }
  });
  const currencies = prices.map((price) => price.currency);
  if (new Set(currencies).size !== currencies.length) {
    violations.push({ field, message: 'one price per currency' });
  }
  return violations;
}

export function checkRefundPolicy(policy: RefundPolicy, hasCancellationDeadline: boolean): RuleViolation[] {
  if (policy.kind === 'full-before-deadline' && !hasCancellationDeadline) {
    return [{ field: 'cancellationDeadline', message: 'is required by the refund policy full-before-deadline' }];
  }
  if (policy.kind === 'tiered') {
    const hours = policy.tiers.map((tier) => tier.hoursBeforeStart);
    if (new Set(hours).size !== hours.length) return [{ field: 'refundPolicy.tiers', message: 'one tier per hoursBeforeStart' }];
  }
  return [];
}

export function isValidTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

export function spotsLeft(event: { capacity: number; heldCount: number; confirmedCount: number }): number {
  return Math.max(0, event.capacity - event.heldCount - event.confirmedCount);
}

/** Everything about an event that the rules look at, as it would be after a create or an edit. */
export interface EventRulesInput extends EventSchedule {
  market: string;
  defaultLocale: string;
  translations: Readonly<Record<string, unknown>>;
  notificationTexts?: NotificationTexts;
  capacity: number;
  ageRules: AgeRules;
  refundPolicy: RefundPolicy;
  ticketTypes: readonly { code: string; prices: readonly Price[]; capacity?: number | null }[];
  promoCodes: readonly {
    code: string;
    kind: 'percent' | 'fixed';
    value: number;
    currency?: string | null;
    validFrom?: Date | null;
    validUntil?: Date | null;
  }[];
}

/** Every rule an event must satisfy; `seatsTaken` is what signups already hold or confirmed. */
export function checkEvent(event: EventRulesInput, seatsTaken = 0): RuleViolation[] {
  const violations = [
    ...checkEventSchedule(event),
    ...checkCapacity(event.capacity, seatsTaken),
    ...checkAgeRules(event.ageRules),
    ...checkMarket(event.market),
    ...checkRefundPolicy(event.refundPolicy, Boolean(event.cancellationDeadline)),
    ...checkNotificationTexts(event.notificationTexts),
  ];
  if (!Object.hasOwn(event.translations, event.defaultLocale)) {
    violations.push({ field: 'translations', message: `must include the default locale ${event.defaultLocale}` });
  }
  const ticketCodes = event.ticketTypes.map((ticket) => ticket.code);
  if (new Set(ticketCodes).size !== ticketCodes.length) violations.push({ field: 'ticketTypes', message: 'codes must be unique' });
  event.ticketTypes.forEach((ticket, index) => {
    violations.push(...checkPrices(event.market, ticket.prices, `ticketTypes.${index}.prices`));
    if (ticket.capacity != null && ticket.capacity > event.capacity) {
      violations.push({ field: `ticketTypes.${index}.capacity`, message: 'must not exceed the event capacity' });
    }
  });
  const promoCodes = event.promoCodes.map((promo) => promo.code);
  if (new Set(promoCodes).size !== promoCodes.length) violations.push({ field: 'promoCodes', message: 'codes must be unique' });
  event.promoCodes.forEach((promo, index) => {
    const field = `promoCodes.${index}`;
    if (promo.kind === 'percent' && promo.value > 100) violations.push({ field: `${field}.value`, message: 'a percentage is at most 100' });
    if (promo.kind === 'fixed' && promo.currency !== marketCurrencies[event.market]) {
      violations.push({ field: `${field}.currency`, message: `a fixed discount is in the market's currency (${marketCurrencies[event.market] ?? '?'})` });
    }
    if (promo.validFrom && promo.validUntil && promo.validFrom.getTime() >= promo.validUntil.getTime()) {
      violations.push({ field: `${field}.validUntil`, message: 'must be after validFrom' });
    }
  });
  return violations;
}
