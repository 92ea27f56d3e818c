import type { IncomingMessage } from 'node:http';
import type { Express, Request } from 'express';

/** What a request log line says about the signup and event the request is about (from the route's params). */
export interface RouteIds {
  signupId?: string;
  eventId?: string;
}

const remembered = new WeakMap<IncomingMessage, RouteIds>();
const paramsSlot = Symbol('params');

/**
 * Remembers `signupId` / `eventId` from the matched route's params, so the request log line
 * (written when the answer is sent) carries them even when an error left the router, which resets
 * `req.params`. Express sets `req.params` on every matched layer; an accessor on the app's request
 * prototype (every request of this app inherits it) watches those assignments. On the prototype,
 * not on each request: an accessor defined per request object gives each one a shape of its own,
 * which slows every later property access on it, in every middleware.
 */
export function rememberRouteIds(app: Express): void {
  Object.defineProperty(app.request, 'params', {
    configurable: true,
    enumerable: true,
    get(this: Request & { [paramsSlot]?: unknown }) {
      return this[paramsSlot];
    },
    set(this: Request & { [paramsSlot]?: unknown }, value: unknown) {
      this[paramsSlot] = value;
      const ids = idsOf(value);
      if (ids.signupId || ids.eventId) remembered.set(this, { ...remembered.get(this), ...ids });
    },
  });
}

/** The ids for the log line; undefined when the request named none (no fields to add). */
export function routeIdsOf(req: IncomingMessage): RouteIds | undefined {
  const ids = remembered.get(req) ?? idsOf((req as Partial<Request>).params);
  return ids.signupId || ids.eventId ? ids : undefined;
}

function idsOf(params: unknown): RouteIds {
  if (typeof params !== 'object' || params === null) return {};
  const { signupId, eventId } = params as Record<string, unknown>;
  return {
    ...(typeof signupId === 'string' ? { signupId } : {}),
    ...(typeof eventId === 'string' ? { eventId } : {}),
  };
}
