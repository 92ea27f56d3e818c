import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { hasAnyRole, type Principal, type Role } from '../auth/principal.js';
import { InvalidTokenError, type TokenVerifier } from '../auth/tokens.js';
import type { RateLimits } from '../limits/rate-limits.js';
import { Problem } from './problem.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    /** The write's budget being spent while the handler reads (authenticate's `budgetAlongside`). */
    writeBudget?: Promise<void>;
  }
}

export interface AuthenticateOptions {
  /**
   * The handler starts while the write's budget is spent, and settles it (writeBudgetOf) alongside
   * its first reads, before it writes or answers: one round trip less on a hot route. An error the
   * handler throws meanwhile leaves only after the budget settled, and a refusal (429) takes its place.
   */
  budgetAlongside?: boolean;
}

/**
 * Requires a valid bearer token, and one of `allowed` roles when given. With rate limits, a
 * refused token spends the address's failed-authentication budget and a verified one the user's
 * budget of the route's class (src/limits/rate-limits.ts).
 */
export function authenticate(verify: TokenVerifier, limits?: Pick<RateLimits, 'afterAuthentication' | 'afterFailedAuthentication'>) {
  return (allowed?: readonly Role[], options: AuthenticateOptions = {}): RequestHandler =>
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
      const spending = limits?.afterAuthentication(req, res, req.principal.userId);
      if (spending && options.budgetAlongside) {
        req.writeBudget = spending;
        // Settled by the handler or by the error edge (problemErrorHandler), never left unheard.
        spending.catch(() => undefined);
      } else {
        await spending;
      }
      if (allowed && !hasAnyRole(req.principal, allowed)) {
        throw new Problem('forbidden', `this needs one of the roles: ${allowed.join(', ')}`);
      }
      next();
    };
}

function unauthenticated(detail: string): Problem {
  return new Problem('unauthenticated', detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
}

/** The write's budget a `budgetAlongside` route must settle before it writes or answers (resolved when there is none). */
export function writeBudgetOf(req: Request): Promise<void> {
  return req.writeBudget ?? Promise.resolve();
}

/** The caller, for handlers mounted behind `authenticate`. */
export function principalOf(req: Request): Principal {
  if (!req.principal) throw new Problem('unauthenticated');
  return req.principal;
}
