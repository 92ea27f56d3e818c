import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/** What a request log line says about the signup and event the request is about (from the route's params). */
export interface RouteIds {
  signupId?: string;
  eventId?: string;
}

const remembered = new WeakMap<IncomingMessage, RouteIds>();

/**
 * Remembers `signupId` / `eventId` from the matched route's params, so the request log line
 * (written when the answer is sent) carries them even when an error left the router, which resets
 * `req.params`. Express sets `req.params` on every matched layer; this middleware watches those
 * assignments. Must come before the routers.
 */
export function rememberRouteIds(req: Request, _res: Response, next: NextFunction): void {
  let params: unknown = req.params;
  Object.defineProperty(req, 'params', {
    configurable: true,
    enumerable: true,
    get: () => params,
    set: (value: unknown) => {
      params = value;
      const ids = idsOf(value);
      if (ids.signupId || ids.eventId) remembered.set(req, { ...remembered.get(req), ...ids });
    },
  });
  next();
}

export function routeIdsOf(req: IncomingMessage): RouteIds {
  return remembered.get(req) ?? idsOf((req as Partial<Request>).params);
}

function idsOf(params: unknown): RouteIds {
  if (typeof params !== 'object' || params === null) return {};
  const { signupId, eventId } = params as Record<string, unknown>;
  return {
    ...(typeof signupId === 'string' ? { signupId } : {}),
    ...(typeof eventId === 'string' ? { eventId } : {}),
  };
}
