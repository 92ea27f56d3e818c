import { describe, expect, it } from '@jest/globals';
import { ageOn, checkEligibility, needsGuardianConsent, type EligibilityEvent } from '../../src/signups/eligibility.js';

const at = (iso: string) => new Date(iso);
const event: EligibilityEvent = {
  status: 'published',
  announceAt: at('2027-01-01T00:00:00Z'),
  signupOpensAt: at('2027-02-01T00:00:00Z'),
  signupClosesAt: at('2027-03-01T00:00:00Z'),
  startsAt: at('2027-03-10T10:00:00Z'),
  platforms: ['web', 'ios'],
  minAge: 6,
  maxAge: 12,
  maxAttendeesPerSignup: 3,
};
const open = { now: at('2027-02-10T00:00:00Z'), platform: 'web' as const, attendeeAges: [8] };

describe('eligibility', () => {
  it.each([
    ['an open event, a fitting party', {}, {}, []],
    ['a draft', { status: 'draft' as const }, {}, ['event-not-open']],
    ['a cancelled event', { status: 'cancelled' as const }, {}, ['event-not-open']],
    ['a completed event', { status: 'completed' as const }, {}, ['event-not-open']],
    ['an event not announced yet', {}, { now: at('2026-12-31T00:00:00Z') }, ['event-not-open']],
    ['before the window', {}, { now: at('2027-01-15T00:00:00Z') }, ['signup-not-open-yet']],
    ['at the closing instant', {}, { now: at('2027-03-01T00:00:00Z') }, ['signup-closed']],
    ['after the start with no closing time', { signupClosesAt: null }, { now: at('2027-03-10T10:00:00Z') }, ['signup-closed']],
    ['a platform not offered', {}, { platform: 'unity' as const }, ['platform-not-offered']],
    ['a party too large', {}, { attendeeAges: [6, 7, 8, 9] }, ['party-too-large']],
    ['a child too young', {}, { attendeeAges: [8, 5] }, ['attendee-too-young']],
    ['a child too old', {}, { attendeeAges: [13] }, ['attendee-too-old']],
    ['the age limits themselves', {}, { attendeeAges: [6, 12] }, []],
    ['no age limits', { minAge: null, maxAge: null }, { attendeeAges: [1, 99] }, []],
  ])('%s', (_name, eventChange, factsChange, codes) => {
    const refusals = checkEligibility({ ...event, ...eventChange }, { ...open, ...factsChange });
    expect(refusals.map((refusal) => refusal.code)).toEqual(codes);
  });

  it('names the attendee at fault', () => {
    expect(checkEligibility(event, { ...open, attendeeAges: [8, 4] })[0]?.field).toBe('attendees.1');
  });
});

describe('age on a day', () => {
  it.each([
    ['2015-03-10', '2027-03-10T10:00:00Z', 12],
    ['2015-03-11', '2027-03-10T10:00:00Z', 11],
    ['2015-12-31', '2027-03-10T10:00:00Z', 11],
    ['2016-02-29', '2027-02-28T10:00:00Z', 10],
    ['2016-02-29', '2027-03-01T10:00:00Z', 11],
  ])('born %s is %i... on %s', (birth, day, age) => {
    expect(ageOn(birth, at(day))).toBe(age);
  });
});

describe('guardian consent', () => {
  it.each([
    [13, 12, true],
    [13, 13, false],
    [null, 8, false],
    [13, undefined, true],
    [null, undefined, false],
  ])('consent below %s, requester %s: %s', (below, age, needed) => {
    expect(needsGuardianConsent(below, age)).toBe(needed);
  });

  it.each([
    ['ask-guardian', 13, undefined, true],
    ['adult', 13, undefined, false],
    ['adult', 13, 12, true],
    ['adult', null, undefined, false],
  ] as const)('unknown age set to %s, consent below %s, requester %s: %s', (setting, below, age, needed) => {
    expect(needsGuardianConsent(below, age, setting)).toBe(needed);
  });
});
