/**
 * May this signup go ahead? Pure rules over the event and the request, each refusal with a stable
 * code (it becomes the problem type or the `rejected` reason) and the field at fault.
 */
import type { Platform } from '../events/event-data.js';
import type { EventStatus } from '../events/event.entity.js';

export interface EligibilityEvent {
  /** Only a published event takes signups (not a draft, a completed or a cancelled one). */
  status: EventStatus;
  announceAt?: Date | null;
  signupOpensAt?: Date | null;
  signupClosesAt?: Date | null;
  startsAt: Date;
  platforms: readonly Platform[];
  minAge?: number | null;
  maxAge?: number | null;
  maxAttendeesPerSignup: number;
}

export interface SignupFacts {
  now: Date;
  platform: Platform;
  /** Age of each attendee on the day the event starts. */
  attendeeAges: readonly number[];
}

export type RefusalCode =
  | 'event-not-open'
  | 'signup-not-open-yet'
  | 'signup-closed'
  | 'platform-not-offered'
  | 'party-too-large'
  | 'attendee-too-young'
  | 'attendee-too-old';

export interface Refusal {
  code: RefusalCode;
  /**
   * The request value at fault, for the problem's `errors` (never empty: clients key their forms on
   * it). Refusals about the event itself (not open, outside its signup window) name the path's event id.
   */
  field: string;
  /** Where that value is; the body unless said. */
  in?: 'body' | 'path';
  message: string;
}

/** When signups close if the event names no closing time: at the start. */
export function signupWindow(event: EligibilityEvent): { opensAt: Date | null; closesAt: Date } {
  return { opensAt: event.signupOpensAt ?? event.announceAt ?? null, closesAt: event.signupClosesAt ?? event.startsAt };
}

export function checkEligibility(event: EligibilityEvent, facts: SignupFacts): Refusal[] {
  const visible = event.status === 'published' && (!event.announceAt || event.announceAt <= facts.now);
  if (!visible) return [{ code: 'event-not-open', in: 'path', field: 'eventId', message: 'the event does not take signups' }];

  const refusals: Refusal[] = [];
  const { opensAt, closesAt } = signupWindow(event);
  if (opensAt && facts.now < opensAt) {
    refusals.push({ code: 'signup-not-open-yet', in: 'path', field: 'eventId', message: `signups open at ${opensAt.toISOString()}` });
  } else if (facts.now >= closesAt) {
    refusals.push({ code: 'signup-closed', in: 'path', field: 'eventId', message: 'signups are closed' });
  }
  if (!event.platforms.includes(facts.platform)) {
    refusals.push({ code: 'platform-not-offered', field: 'platform', message: `not offered on ${facts.platform}` });
  }
  if (facts.attendeeAges.length > event.maxAttendeesPerSignup) {
    refusals.push({
      code: 'party-too-large',
      field: 'attendees',
      message: `at most ${event.maxAttendeesPerSignup} attendees per signup`,
    });
  }
  facts.attendeeAges.forEach((age, index) => {
    if (event.minAge != null && age < event.minAge) {
      refusals.push({ code: 'attendee-too-young', field: `attendees.${index}`, message: `must be at least ${event.minAge}` });
    }
    if (event.maxAge != null && age > event.maxAge) {
      refusals.push({ code: 'attendee-too-old', field: `attendees.${index}`, message: `must be at most ${event.maxAge}` });
    }
  });
  return refusals;
}

/** Whole years between a birth date (YYYY-MM-DD) and a day, as people count birthdays. */
export function ageOn(birthDate: string, day: Date): number {
  const [year, month, date] = birthDate.split('-').map(Number) as [number, number, number];
  let age = day.getUTCFullYear() - year;
  const beforeBirthday =
    day.getUTCMonth() + 1 < month || (day.getUTCMonth() + 1 === month && day.getUTCDate() < date);
  if (beforeBirthday) age -= 1;
  return age;
}

export type UnknownAgeConsent = 'ask-guardian' | 'adult';

/**
 * A requester younger than the consent age needs a guardian's approval before any seat is taken.
 * A requester of unknown age (no birthdate claim) is treated as a minor unless the setting
 * (CONSENT_UNKNOWN_AGE) says `adult`.
 */
export function needsGuardianConsent(
  consentBelowAge: number | null | undefined,
  requesterAge: number | undefined,
  unknownAge: UnknownAgeConsent = 'ask-guardian',
): boolean {
  if (consentBelowAge == null) return false;
  if (requesterAge === undefined) return unknownAge === 'ask-guardian';
  return requesterAge < consentBelowAge;
}
