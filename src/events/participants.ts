/**
 * What an organizer may see about participants, and the CSV export. Pure.
 * Minimal personal data on purpose: first name (or initials), age group, never contact data or user ids.
 * The needs note (allergies, accessibility) is there because the organizer must act on it; every
 * read of notes is logged (needs-note-read.entity.ts).
 */

import type { SignupStatus } from '../signups/status.js';

export const ageGroups = ['0-5', '6-9', '10-12', '13-17', '18+'] as const;
export type AgeGroup = (typeof ageGroups)[number];

/** Age groups rather than ages: enough to plan a workshop, less to leak. */
export function ageGroupOf(age: number): AgeGroup {
  if (age <= 5) return '0-5';
  if (age <= 9) return '6-9';
  if (age <= 12) return '10-12';
  if (age <= 17) return '13-17';
  return '18+';
}

/** "Anna Maria" -> "A. M." */
export function initialsOf(firstName: string): string {
  return firstName
    .trim()
    .split(/[\s-]+/)
    .filter(Boolean)
    .map((part) => `${[...part][0]?.toUpperCase() ?? ''}.`)
    .join(' ');
}

/**
 * One CSV cell. Values starting with = + - @ (or a tab / carriage return, which some spreadsheets
 * strip before looking) get a leading quote so a spreadsheet shows them as text instead of running
 * them as formulas; then RFC 4180 quoting.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** RFC 4180: CRLF line ends, a header row. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | boolean | null | undefined)[])[]): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

export interface ParticipantRow {
  signupId: string;
  firstName: string | null;
  ageGroup: AgeGroup | null;
  status: SignupStatus;
  seats: number;
  ticketType: string | null;
  ticketCode: string | null;
  checkedIn: boolean;
  checkedInAt: string | null;
  /** What the participant told the organizer (allergies, accessibility); null when nothing. */
  needsNote: string | null;
}

export const participantCsvHeader = [
  'signup_id',
  'first_name',
  'age_group',
  'status',
  'seats',
  'ticket_type',
  'ticket_code',
  'checked_in',
  'checked_in_at',
  'needs_note',
] as const;

export function participantsCsv(rows: readonly ParticipantRow[]): string {
  return toCsv(
    participantCsvHeader,
    rows.map((row) => [
      row.signupId,
      row.firstName,
      row.ageGroup,
      row.status,
      row.seats,
      row.ticketType,
      row.ticketCode,
      row.checkedIn ? 'yes' : 'no',
      row.checkedInAt,
      row.needsNote,
    ]),
  );
}
