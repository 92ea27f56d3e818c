import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Guardian consent links carry a signed token: the signup it is about and when it expires, with an
 * HMAC over both. Nothing is stored for it; single use is enforced where the decision is recorded
 * (only a signup still awaiting consent, with no decision yet, accepts one).
 */

export interface ConsentClaim {
  signupId: string;
  expiresAt: Date;
}

export class InvalidConsentTokenError extends Error {
  override name = 'InvalidConsentTokenError';
}

function sign(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(`consent.${payload}`).digest('base64url');
}

export function createConsentToken(claim: ConsentClaim, secret: string): string {
  const payload = Buffer.from(`${claim.signupId}.${Math.floor(claim.expiresAt.getTime() / 1000)}`).toString('base64url');
  return `${payload}.${sign(payload, secret)}`;
}

/** The claim of a genuine, unexpired token; anything else throws InvalidConsentTokenError. */
export function verifyConsentToken(token: string, secret: string, now: Date): ConsentClaim & { expired: boolean } {
  const [payload, signature, ...rest] = token.split('.');
  if (!payload || !signature || rest.length > 0) throw new InvalidConsentTokenError('malformed token');
  const expected = Buffer.from(sign(payload, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new InvalidConsentTokenError('bad signature');
  }
  const [signupId, expiresEpoch] = Buffer.from(payload, 'base64url').toString().split('.');
  const seconds = Number(expiresEpoch);
  if (!signupId || !Number.isInteger(seconds)) throw new InvalidConsentTokenError('malformed token');
  const expiresAt = new Date(seconds * 1000);
  return { signupId, expiresAt, expired: now >= expiresAt };
}
