import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { hasAnyRole, type Principal, type Role } from '../auth/principal.js';
import type { TokenVerifier } from '../auth/tokens.js';
import { Problem } from './problem.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Requires a valid bearer token, and one of `allowed` roles when given. */
export function authenticate(verify: TokenVerifier) {
  return (allowed?: readonly Role[]): RequestHandler =>
    async (req: Request, _res: Response, next: NextFunction) => {
      const header = req.get('authorization');
      const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
      if (!match?.[1]) throw unauthenticated('send Authorization: Bearer <token>');
      try {
        req.principal = await verify(match[1]);
      } catch (error) {
        throw unauthenticated(error instanceof Error ? error.message : 'token rejected');
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

/** The caller, for handlers mounted behind `authenticate`. */
export function principalOf(req: Request): Principal {
  if (!req.principal) throw new Problem('unauthenticated');
  return req.principal;
}
