import { describe, expect, it } from '@jest/globals';
import type { Principal } from '../../src/auth/principal.js';
import { mayManageEvent } from '../../src/events/admin-service.js';

const event = { market: 'NO', category: 'workshop' };

describe('mayManageEvent', () => {
  it.each<[string, Principal, boolean]>([
    ['an admin, anywhere', { userId: 'a', roles: ['admin'], markets: [] }, true],
    ['an organizer of the market', { userId: 'o', roles: ['organizer'], markets: ['SE', 'NO'] }, true],
    ['an organizer of another market', { userId: 'o', roles: ['organizer'], markets: ['SE'] }, false],
    ['an organizer without markets', { userId: 'o', roles: ['organizer'], markets: [] }, false],
    ['an organizer of the market and category', { userId: 'o', roles: ['organizer'], markets: ['NO'], categories: ['workshop'] }, true],
    ['an organizer of the market, other category', { userId: 'o', roles: ['organizer'], markets: ['NO'], categories: ['concert'] }, false],
    ['an organizer with an empty categories claim', { userId: 'o', roles: ['organizer'], markets: ['NO'], categories: [] }, false],
  ])('%s: %s', (_name, principal, allowed) => {
    expect(mayManageEvent(principal, event)).toBe(allowed);
  });
});
