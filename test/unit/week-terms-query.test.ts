import { describe, expect, it } from '@jest/globals';
import { startWeekOf, weekTermsQuery } from '../../src/events/public-catalog.js';

describe('weekTermsQuery', () => {
  it('tags every lexeme with each week and ORs the weeks, operators kept', () => {
    expect(weekTermsQuery(`('digit' & 'concert') | ('digital' & !'jazz')`, [2974, 2975])).toBe(
      `(('digit@2974' & 'concert@2974') | ('digital@2974' & !'jazz@2974')) | (('digit@2975' & 'concert@2975') | ('digital@2975' & !'jazz@2975'))`,
    );
  });

  it('keeps quotes inside lexemes and phrase operators', () => {
    expect(weekTermsQuery(`'rock''n''roll' <-> 'night'`, [1])).toBe(`('rock''n''roll@1' <-> 'night@1')`);
  });

  it('numbers weeks from 1970-01-01 UTC, as the triggers do', () => {
    expect(startWeekOf(Date.parse('2027-01-01T00:00:00Z'))).toBe(2974);
    expect(startWeekOf(Date.parse('1970-01-07T23:59:59Z'))).toBe(0);
  });
});
