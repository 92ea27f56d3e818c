import { describe, expect, it } from '@jest/globals';
import { ageGroupOf, csvCell, initialsOf, participantsCsv, toCsv } from '../../src/events/participants.js';

describe('age groups', () => {
  it.each([
    [0, '0-5'], [5, '0-5'], [6, '6-9'], [9, '6-9'], [10, '10-12'], [12, '10-12'],
    [13, '13-17'], [17, '13-17'], [18, '18+'], [64, '18+'],
  ])('age %i is %s', (age, group) => {
    expect(ageGroupOf(age)).toBe(group);
  });
});

describe('initials', () => {
  it.each([
    ['Anna', 'A.'],
    ['anna maria', 'A. M.'],
    ['Jean-Luc', 'J. L.'],
    ['  Øyvind ', 'Ø.'],
  ])('%s -> %s', (name, initials) => {
    expect(initialsOf(name)).toBe(initials);
  });
});

describe('CSV cells', () => {
  it.each<[string | number | boolean | null, string]>([
    ['plain', 'plain'],
    [null, ''],
    [3, '3'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=SUM(A1:A2)', "'=SUM(A1:A2)"],
    ['+47 123', "'+47 123"],
    ['-1', "'-1"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
  ])('%j -> %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('writes a header and CRLF lines', () => {
    expect(toCsv(['a', 'b'], [[1, 'x'], [2, null]])).toBe('a,b\r\n1,x\r\n2,\r\n');
  });

  it('writes participants with their needs notes, without contact data', () => {
    const csv = participantsCsv([
      { signupId: 's1', firstName: '=cmd', ageGroup: '6-9', status: 'confirmed', seats: 2, ticketType: 'child', ticketCode: 'T1', checkedIn: true, checkedInAt: '2027-01-01T10:00:00.000Z', needsNote: 'nuts, "peanuts"' },
      { signupId: 's2', firstName: 'Ola', ageGroup: '10-12', status: 'held', seats: 1, ticketType: null, ticketCode: null, checkedIn: false, checkedInAt: null, needsNote: null },
    ]);
    expect(csv).toBe(
      'signup_id,first_name,age_group,status,seats,ticket_type,ticket_code,checked_in,checked_in_at,needs_note\r\n' +
        `s1,'=cmd,6-9,confirmed,2,child,T1,yes,2027-01-01T10:00:00.000Z,"nuts, ""peanuts"""\r\n` +
        's2,Ola,10-12,held,1,,,no,,\r\n',
    );
  });
});
