import { createRemoteJWKSet, importSPKI, jwtVerify, SignJWT, type JWTPayload } from 'jose';
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

export async function createTokenVerifier(jwt: Config['jwt']): Promise<TokenVerifier> {
  const options = { issuer: jwt.issuer, audience: jwt.audience, requiredClaims: ['exp', 'sub'] };
  const verifiers: ((token: string) => Promise<JWTPayload>)[] = [];
  if (jwt.jwksUrl) {
    const jwks = createRemoteJWKSet(jwt.jwksUrl);
    verifiers.push(async (token) => (await jwtVerify(token, jwks, options)).payload);
  }
  if (jwt.publicKeyPem) {
    const key = await importSPKI(jwt.publicKeyPem, jwt.publicKeyAlgorithm);
    verifiers.push(async (token) => (await jwtVerify(token, key, options)).payload);
  }
  if (jwt.devSecret) {
    const secret = new TextEncoder().encode(jwt.devSecret);
    verifiers.push(async (token) => (await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] })).payload);
  }
  if (verifiers.length === 0) throw new Error('no JWT verification key configured');

  return async (token) => {
    let lastError: unknown;
    for (const verify of verifiers) {
      try {
        return principalFrom(await verify(token));
      } catch (error) {
        lastError = error;
      }
    }
    throw new InvalidTokenError(lastError instanceof Error ? lastError.message : 'token rejected');
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
