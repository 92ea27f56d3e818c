import type { RequestHandler } from 'express';
import type { ApiOperation } from './openapi.js';
import { Problem } from './problem.js';

interface PathEntry {
  pattern: RegExp;
  byMethod: Map<string, ApiOperation>;
}

function pathEntries(operations: readonly ApiOperation[]): PathEntry[] {
  const byPath = new Map<string, PathEntry>();
  for (const op of operations) {
    const entry = byPath.get(op.path) ?? {
      // {name} stands for one segment, as in Express's :name.
      pattern: new RegExp(`^${op.path.split(/\{[^}]+\}/).map(escapeRegExp).join('[^/]+')}/?$`),
      byMethod: new Map<string, ApiOperation>(),
    };
    entry.byMethod.set(op.method.toUpperCase(), op);
    byPath.set(op.path, entry);
  }
  return [...byPath.values()];
}

/**
 * The operation of the API document a request is for, by method and path, before routing (the
 * rate limiter needs it before a route runs). Fixed paths come first in the document where a
 * template could also match (e.g. /v1/me/signups before /v1/signups/{signupId}: no overlap today).
 */
export function operationMatcher(operations: readonly ApiOperation[]): (method: string, path: string) => ApiOperation | undefined {
  const entries = pathEntries(operations);
  return (method, path) => {
    for (const entry of entries) {
      const op = entry.pattern.test(path) ? entry.byMethod.get(method) : undefined;
      if (op) return op;
    }
    return undefined;
  };
}

/**
 * 405 with Allow for a known path asked with a method it does not answer, derived from the API
 * descriptors (src/http/api-operations.ts), so the answer cannot drift from the document. Mounted
 * after every route and before the 404 handler: a request that reaches it matched no route.
 */
export function methodNotAllowed(operations: readonly ApiOperation[]): RequestHandler {
  const entries = pathEntries(operations);
  return (req, _res, next) => {
    const allowed = new Set<string>();
    for (const entry of entries) {
      if (!entry.pattern.test(req.path)) continue;
      for (const method of entry.byMethod.keys()) allowed.add(method);
      if (entry.byMethod.has('GET')) allowed.add('HEAD');
    }
    if (allowed.size === 0 || allowed.has(req.method)) {
      next();
      return;
    }
    const allow = [...allowed].sort().join(', ');
    throw new Problem('method-not-allowed', `${req.method} is not answered here; use ${allow}`, { headers: { Allow: allow } });
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
