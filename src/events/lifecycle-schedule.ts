/**
 * What an event's lifecycle does and when: pure, so the workflow (which may not read clocks or
 * databases) and the tests share one answer. Every step has a key that says what was done; a step
 * whose key is in `done` is never done again. Reminder keys carry the start time they were computed
 * from, so moving the event makes a reminder due again, and an unchanged start does not.
 */

export interface LifecycleDates {
  /** When the event becomes public; null means at once (publish time). */
  announceAt: string | null;
  signupOpensAt: string | null;
  signupClosesAt: string | null;
  startsAt: string;
  endsAt: string;
}

export interface LifecyclePlan {
  dates: LifecycleDates;
  /** Reminders to confirmed participants, seconds before the start (e.g. 7 days and 1 day). */
  reminderOffsetsSeconds: readonly number[];
  /** Personal data of attendees is purged this long after the end. */
  retentionSeconds: number;
}

export type LifecycleAction =
  | { kind: 'announce' }
  | { kind: 'open-signups' }
  | { kind: 'close-signups' }
  | { kind: 'remind'; offsetSeconds: number; startsAt: string }
  | { kind: 'complete' }
  | { kind: 'purge' };

export interface LifecycleStep {
  key: string;
  /** ISO instant the step is due. */
  at: string;
  action: LifecycleAction;
}

/** Every step of the plan, in the order they fall due (ties keep the business order). */
export function lifecycleSteps(plan: LifecyclePlan): LifecycleStep[] {
  const { dates } = plan;
  const startsAtMs = Date.parse(dates.startsAt);
  const endsAtMs = Date.parse(dates.endsAt);
  const announceAt = dates.announceAt ?? new Date(0).toISOString();
  const steps: LifecycleStep[] = [
    { key: 'announce', at: announceAt, action: { kind: 'announce' } },
    { key: 'open-signups', at: dates.signupOpensAt ?? announceAt, action: { kind: 'open-signups' } },
    { key: 'close-signups', at: dates.signupClosesAt ?? dates.startsAt, action: { kind: 'close-signups' } },
    ...[...new Set(plan.reminderOffsetsSeconds)]
      .sort((a, b) => b - a)
      .map((offsetSeconds) => ({
        key: `remind:${offsetSeconds}:${dates.startsAt}`,
        at: new Date(startsAtMs - offsetSeconds * 1000).toISOString(),
        action: { kind: 'remind' as const, offsetSeconds, startsAt: dates.startsAt },
      })),
    { key: 'complete', at: dates.endsAt, action: { kind: 'complete' } },
    { key: 'purge', at: new Date(endsAtMs + plan.retentionSeconds * 1000).toISOString(), action: { kind: 'purge' } },
  ];
  const order = (step: LifecycleStep) => ['announce', 'open-signups', 'close-signups', 'remind', 'complete', 'purge'].indexOf(step.action.kind);
  return steps
    .map((step, index) => ({ step, index }))
    .sort((a, b) => Date.parse(a.step.at) - Date.parse(b.step.at) || order(a.step) - order(b.step) || a.index - b.index)
    .map(({ step }) => step);
}

/**
 * The next step to take: the earliest one not done yet. A reminder whose moment has already passed
 * when it is next in line is skipped if the event has started (a reminder after the start helps
 * nobody); `skip` lists such steps so the caller can record them as done without acting.
 */
export function nextLifecycleStep(
  plan: LifecyclePlan,
  done: ReadonlySet<string>,
  now: Date,
): { step: LifecycleStep | undefined; skip: LifecycleStep[] } {
  const skip: LifecycleStep[] = [];
  for (const step of lifecycleSteps(plan)) {
    if (done.has(step.key)) continue;
    if (step.action.kind === 'remind' && now.getTime() >= Date.parse(plan.dates.startsAt)) {
      skip.push(step);
      continue;
    }
    return { step, skip };
  }
  return { step: undefined, skip };
}

/** Which phase the event is in, for the Temporal UI: the last kind of step done. */
export function lifecyclePhase(done: ReadonlySet<string>): 'scheduled' | 'announced' | 'open' | 'closed' | 'completed' | 'purged' {
  if (done.has('purge')) return 'purged';
  if (done.has('complete')) return 'completed';
  if (done.has('close-signups')) return 'closed';
  if (done.has('open-signups')) return 'open';
  if (done.has('announce')) return 'announced';
  return 'scheduled';
}

/**
 * After the event moved: reminders already sent for the old start are not sent again unless the
 * move makes them due again, i.e. their new moment is still ahead. Answers the new reminder keys to
 * count as done (the ones whose new moment has already passed at the time of the change).
 */
export function remindersSettledByMove(plan: LifecyclePlan, done: ReadonlySet<string>, changedAt: Date): string[] {
  // Keys are `remind:<offset>:<start>`: the offsets already reminded of, for whatever start.
  const remindedOffsets = new Set([...done].filter((key) => key.startsWith('remind:')).map((key) => key.split(':')[1]));
  return lifecycleSteps(plan)
    .filter(
      (step) =>
        step.action.kind === 'remind' &&
        !done.has(step.key) &&
        remindedOffsets.has(String(step.action.offsetSeconds)) &&
        Date.parse(step.at) <= changedAt.getTime(),
    )
    .map((step) => step.key);
}
