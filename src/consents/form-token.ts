import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The consent page's per-page form token (CSRF): an HMAC over the link's token and the time the
 * page was rendered. A form posted from anywhere but a page we rendered for this very link, or
 * rendered too long ago, carries no valid token and records nothing. Stateless: nothing is stored.
 */

/** How long a rendered page can be answered. */
export const FORM_TOKEN_SECONDS = 3_600;

function sign(linkToken: string, issuedSeconds: number, secret: string): string {
  return createHmac('sha256', secret).update(`consent-form.${linkToken}.${issuedSeconds}`).digest('base64url');
}

export function createFormToken(linkToken: string, secret: string, now: Date): string {
  const issued = Math.floor(now.getTime() / 1000);
  return `${issued}.${sign(linkToken, issued, secret)}`;
}

export function verifyFormToken(formToken: unknown, linkToken: string, secret: string, now: Date): boolean {
  if (typeof formToken !== 'string') return false;
  const [issuedText, signature, ...rest] = formToken.split('.');
  const issued = Number(issuedText);
  if (!signature || rest.length > 0 || !Number.isInteger(issued)) return false;
  const age = now.getTime() / 1000 - issued;
  if (age < -60 || age > FORM_TOKEN_SECONDS) return false;
  const expected = Buffer.from(sign(linkToken, issued, secret));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
