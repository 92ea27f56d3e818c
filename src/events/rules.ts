/**
 * Rules about an event's own data. Pure: they take values and answer the violations found, each
 * naming the field at fault, so the API can report all of them at once.
 */

export interface EventScheduleInput {
  startsAt: Date;
  endsAt: Date;
}

export interface RuleViolation {
  field: string;
  message: string;
}

export function checkEventSchedule(input: EventScheduleInput): RuleViolation[] {
  const violations: RuleViolation[] = [];
  if (input.endsAt.getTime() <= input.startsAt.getTime()) {
    violations.push({ field: 'endsAt', message: 'must be after startsAt' });
  }
  return violations;
}

/** A capacity may never drop below the seats already taken. */
export function checkCapacity(capacity: number, seatsTaken: number): RuleViolation[] {
  return capacity < seatsTaken
    ? [{ field: 'capacity', message: `must be at least ${seatsTaken}, the seats already held or confirmed` }]
    : [];
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
