import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { hasAnyRole, type Principal, type Role } from '../auth/principal.js';
import { InvalidTokenError, type TokenVerifier } from '../auth/tokens.js';
import type { RateLimits } from '../limits/rate-limits.js';
import { Problem } from './problem.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/**
 * Requires a valid bearer token, and one of `allowed` roles when given. With rate limits, a
 * refused token spends the address's failed-authentication budget and a verified one the user's
 * budget of the route's class (src/limits/rate-limits.ts).
 */
export function authenticate(verify: TokenVerifier, limits?: Pick<RateLimits, 'afterAuthentication' | 'afterFailedAuthentication'>) {
  return (allowed?: readonly Role[]): RequestHandler =>
    async (req: Request, res: Response, next: NextFunction) => {
      const header = req.get('authorization');
      const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
      // No token is not a failed authentication (an app asking before sign-in): only a refused one spends that budget.
      if (!match?.[1]) throw unauthenticated('send Authorization: Bearer <token>');
      try {
        req.principal = await verify(match[1]);
      } catch (error) {
        await limits?.afterFailedAuthentication(req, res);
        // InvalidTokenError speaks our words (src/auth/tokens.ts); anything else stays in the log.
        throw unauthenticated(error instanceof InvalidTokenError ? error.message : 'the token could not be verified');
      }
      await limits?.afterAuthentication(req, res, req.principal.userId);
      if (allowed && !hasAnyRole(req.principal, allowed)) {
        throw new Problem('forbidden', `this needs one of the roles: ${allowed.join(', ')}`);
      }
      next();
    };
}

function unauthenticated(detail: string): Problem {
  return new Problem('unauthenticated', detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
}

/** The caller, for handlers mounted behind `authenticate`. */
export function principalOf(req: Request): Principal {
  if (!req.principal) throw new Problem('unauthenticated');
  return req.principal;
}
