import { describe, expect, it } from '@jest/globals';
import {
  lifecyclePhase,
  lifecycleSteps,
  nextLifecycleStep,
  remindersSettledByMove,
  type LifecyclePlan,
} from '../../src/events/lifecycle-schedule.js';

const DAY = 86_400;
const plan = (dates: Partial<LifecyclePlan['dates']> = {}, offsets = [7 * DAY, DAY]): LifecyclePlan => ({
  dates: {
    announceAt: '2027-03-01T10:00:00.000Z',
    signupOpensAt: '2027-03-05T10:00:00.000Z',
    signupClosesAt: '2027-04-09T10:00:00.000Z',
    startsAt: '2027-04-10T10:00:00.000Z',
    endsAt: '2027-04-10T14:00:00.000Z',
    ...dates,
  },
  reminderOffsetsSeconds: offsets,
  retentionSeconds: 30 * DAY,
});

describe('the lifecycle schedule', () => {
  it('lists every step in the order it falls due', () => {
    expect(lifecycleSteps(plan()).map((step) => [step.key, step.at])).toEqual([
      ['announce', '2027-03-01T10:00:00.000Z'],
      ['open-signups', '2027-03-05T10:00:00.000Z'],
      [`remind:${7 * DAY}:2027-04-10T10:00:00.000Z`, '2027-04-03T10:00:00.000Z'],
      ['close-signups', '2027-04-09T10:00:00.000Z'],
      [`remind:${DAY}:2027-04-10T10:00:00.000Z`, '2027-04-09T10:00:00.000Z'],
      ['complete', '2027-04-10T14:00:00.000Z'],
      ['purge', '2027-05-10T14:00:00.000Z'],
    ]);
  });

  it('keeps the business order when steps fall at the same moment, and fills missing dates', () => {
    const steps = lifecycleSteps(plan({ announceAt: null, signupOpensAt: null, signupClosesAt: null }, []));
    expect(steps.map((step) => step.key)).toEqual(['announce', 'open-signups', 'close-signups', 'complete', 'purge']);
    expect(steps.find((step) => step.key === 'close-signups')?.at).toBe('2027-04-10T10:00:00.000Z');
  });

  it('picks the earliest step not done', () => {
    const done = new Set(['announce', 'open-signups']);
    expect(nextLifecycleStep(plan(), done, new Date('2027-03-06T00:00:00Z')).step?.key).toBe(`remind:${7 * DAY}:2027-04-10T10:00:00.000Z`);
    const all = new Set(lifecycleSteps(plan()).map((step) => step.key));
    expect(nextLifecycleStep(plan(), all, new Date('2027-06-01T00:00:00Z'))).toEqual({ step: undefined, skip: [] });
  });

  it('skips reminders once the event has started (a late worker does not remind after the fact)', () => {
    const done = new Set(['announce', 'open-signups', 'close-signups']);
    const { step, skip } = nextLifecycleStep(plan(), done, new Date('2027-04-10T11:00:00Z'));
    expect(step?.key).toBe('complete');
    expect(skip.map((s) => s.key)).toEqual([`remind:${7 * DAY}:2027-04-10T10:00:00.000Z`, `remind:${DAY}:2027-04-10T10:00:00.000Z`]);
  });

  it('does not repeat a sent reminder when the event moves a little, but does when the move makes it due again', () => {
    const sent = new Set(['announce', 'open-signups', `remind:${7 * DAY}:2027-04-10T10:00:00.000Z`]);
    const changedAt = new Date('2027-04-05T00:00:00Z');
    // One hour later: the 7-day reminder's new moment (Apr 3, 11:00) has passed: it counts as sent.
    expect(remindersSettledByMove(plan({ startsAt: '2027-04-10T11:00:00.000Z' }), sent, changedAt)).toEqual([
      `remind:${7 * DAY}:2027-04-10T11:00:00.000Z`,
    ]);
    // Three weeks later: its new moment is ahead, so it is due again.
    expect(remindersSettledByMove(plan({ startsAt: '2027-05-01T10:00:00.000Z', endsAt: '2027-05-01T14:00:00.000Z' }), sent, changedAt)).toEqual([]);
    // A reminder never sent is not settled by a move.
    expect(remindersSettledByMove(plan({ startsAt: '2027-04-10T11:00:00.000Z' }), new Set(['announce']), changedAt)).toEqual([]);
  });

  it('names the phase from what was done', () => {
    expect(lifecyclePhase(new Set())).toBe('scheduled');
    expect(lifecyclePhase(new Set(['announce']))).toBe('announced');
    expect(lifecyclePhase(new Set(['announce', 'open-signups']))).toBe('open');
    expect(lifecyclePhase(new Set(['announce', 'open-signups', 'close-signups']))).toBe('closed');
    expect(lifecyclePhase(new Set(['complete']))).toBe('completed');
    expect(lifecyclePhase(new Set(['complete', 'purge']))).toBe('purged');
  });
});
