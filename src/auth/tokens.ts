import { createRemoteJWKSet, errors, importSPKI, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { Config } from '../config.js';
import { roles, type Principal, type Role } from './principal.js';

/**
 * We are a resource server: tokens come from an external identity provider and are only verified
 * here (signature, issuer, audience, expiry). Dev tokens are HS256 with a local secret.
 */

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(200),
  roles: z.array(z.enum(roles)).min(1),
  markets: z.array(z.string().min(1).max(8)).default([]),
  categories: z.array(z.string().min(1).max(64)).optional(),
  // Profile claims are optional and, when malformed, ignored rather than locking the user out.
  email: z.email().max(320).optional().catch(undefined),
  locale: z.string().regex(/^[a-z]{2,3}(-[A-Za-z]{2})?$/).optional().catch(undefined),
  birthdate: z.iso.date().optional().catch(undefined),
  guardian_email: z.email().max(320).optional().catch(undefined),
});

export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * Clocks of the identity provider and ours may differ by this much for the start of a token's
 * life (nbf, iat); its end (exp) is kept exactly, as before.
 */
export const CLOCK_TOLERANCE_SECONDS = 60;

/**
 * Why a token was refused, in our words: the token library's messages name its internals (which
 * key type is configured, which check ran), which helps whoever forges tokens more than a user.
 * A claim error means the signature verified with that key, so it says more than a signature
 * failure with another key: it wins when several keys were tried.
 */
function refusal(error: unknown): { rank: number; message: string } {
  if (error instanceof InvalidTokenError) return { rank: 3, message: error.message };
  if (error instanceof errors.JWTExpired) return { rank: 2, message: 'the token has expired' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return { rank: 2, message: 'the token is not valid yet' };
    if (error.claim === 'iss' || error.claim === 'aud') return { rank: 2, message: 'the token is not issued for this API' };
    return { rank: 2, message: 'the token lacks a required claim or has an invalid one' };
  }
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return { rank: 1, message: 'the token is not a well-formed JWT' };
  return { rank: 0, message: 'the token signature does not verify' };
}

/**
 * jose checks nbf (and exp) with one tolerance and never looks for an iat in the future; here a
 * token issued in the future is refused, and exp is held exactly.
 */
function refuseFutureIssue(payload: JWTPayload): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  if (payload.iat !== undefined && payload.iat > now + CLOCK_TOLERANCE_SECONDS) throw new InvalidTokenError('the token is issued in the future');
  if (payload.exp !== undefined && payload.exp <= now) throw new InvalidTokenError('the token has expired');
  return payload;
}

export async function createTokenVerifier(jwt: Config['jwt']): Promise<TokenVerifier> {
  const options = { issuer: jwt.issuer, audience: jwt.audience, requiredClaims: ['exp', 'sub'], clockTolerance: CLOCK_TOLERANCE_SECONDS };
  const verifiers: ((token: string) => Promise<JWTPayload>)[] = [];
  if (jwt.jwksUrl) {
    const jwks = createRemoteJWKSet(jwt.jwksUrl);
    verifiers.push(async (token) => refuseFutureIssue((await jwtVerify(token, jwks, options)).payload));
  }
  if (jwt.publicKeyPem) {
    const key = await importSPKI(jwt.publicKeyPem, jwt.publicKeyAlgorithm);
    verifiers.push(async (token) => refuseFutureIssue((await jwtVerify(token, key, options)).payload));
  }
  if (jwt.devSecret) {
    // Imported once: given the raw bytes, jose imports the key again for every token.
    const secret = await crypto.subtle.importKey('raw', new TextEncoder().encode(jwt.devSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    verifiers.push(async (token) => refuseFutureIssue((await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] })).payload));
  }
  if (verifiers.length === 0) throw new Error('no JWT verification key configured');

  return async (token) => {
    let best = { rank: -1, message: 'the token signature does not verify' };
    for (const verify of verifiers) {
      try {
        return principalFrom(await verify(token));
      } catch (error) {
        const why = refusal(error);
        if (why.rank > best.rank) best = why;
      }
    }
    throw new InvalidTokenError(best.message);
  };
}

function principalFrom(payload: JWTPayload): Principal {
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw new InvalidTokenError('token lacks a subject or a known role');
  const { sub, roles: granted, markets, categories } = claims.data;
  const profile = Object.fromEntries(
    Object.entries({
      email: claims.data.email,
      locale: claims.data.locale,
      birthDate: claims.data.birthdate,
      guardianEmail: claims.data.guardian_email,
    }).filter(([, value]) => value !== undefined),
  );
  return { userId: sub, roles: granted, markets, ...(categories ? { categories } : {}), profile };
}

export interface DevTokenRequest {
  sub: string;
  roles: Role[];
  markets?: string[];
  /** Lifetime in seconds (negative makes an already expired token, for tests). */
  ttlSeconds?: number;
  extraClaims?: Record<string, unknown>;
}

/** Mints a token the API accepts when JWT_DEV_SECRET (or the built-in dev secret) is in use. */
export async function mintDevToken(jwt: Config['jwt'], request: DevTokenRequest): Promise<string> {
  if (!jwt.devSecret) throw new Error('dev tokens need JWT_DEV_SECRET (never available in production)');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: request.roles, markets: request.markets ?? [], ...request.extraClaims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.sub)
    .setIssuer(jwt.issuer)
    .setAudience(jwt.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (request.ttlSeconds ?? 3600))
    .sign(new TextEncoder().encode(jwt.devSecret));
}
