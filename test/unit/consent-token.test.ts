import { describe, expect, it } from '@jest/globals';
import { createConsentToken, InvalidConsentTokenError, verifyConsentToken } from '../../src/consents/consent-token.js';

const secret = 'a-test-secret-that-is-long-enough-1234';
const signupId = '6f1c3f5e-1b2a-4c3d-8e9f-0a1b2c3d4e5f';
const now = new Date('2026-11-21T12:00:00Z');

describe('guardian consent tokens', () => {
  const token = createConsentToken({ signupId, expiresAt: new Date('2026-11-22T12:00:00Z') }, secret);

  it('carry the signup and the expiry, verified by their signature', () => {
    expect(verifyConsentToken(token, secret, now)).toEqual({
      signupId,
      expiresAt: new Date('2026-11-22T12:00:00Z'),
      expired: false,
    });
  });

  it('say when they have expired', () => {
    expect(verifyConsentToken(token, secret, new Date('2026-11-22T12:00:00Z')).expired).toBe(true);
  });

  it.each([
    ['another secret', token, 'another-secret-that-is-long-enough-5678'],
    ['a changed payload', `${Buffer.from(`${signupId}.9999999999`).toString('base64url')}.${token.split('.')[1] ?? ''}`, secret],
    ['a cut signature', token.slice(0, -2), secret],
    ['no signature', token.split('.')[0] ?? '', secret],
    ['extra parts', `${token}.x`, secret],
  ])('refuse %s', (_case, candidate, key) => {
    expect(() => verifyConsentToken(candidate, key, now)).toThrow(InvalidConsentTokenError);
  });
});
