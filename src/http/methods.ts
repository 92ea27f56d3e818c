import type { RequestHandler } from 'express';
import type { ApiOperation } from './openapi.js';
import { Problem } from './problem.js';

/**
 * 405 with Allow for a known path asked with a method it does not answer, derived from the API
 * descriptors (src/http/api-operations.ts), so the answer cannot drift from the document. Mounted
 * after every route and before the 404 handler: a request that reaches it matched no route.
 */
export function methodNotAllowed(operations: readonly ApiOperation[]): RequestHandler {
  const byPath = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const op of operations) {
    const entry = byPath.get(op.path) ?? {
      // {name} stands for one segment, as in Express's :name.
      pattern: new RegExp(`^${op.path.split(/\{[^}]+\}/).map(escapeRegExp).join('[^/]+')}/?$`),
      methods: new Set<string>(),
    };
    entry.methods.add(op.method.toUpperCase());
    if (op.method === 'get') entry.methods.add('HEAD');
    byPath.set(op.path, entry);
  }
  const entries = [...byPath.values()];
  return (req, _res, next) => {
    const allowed = new Set<string>();
    for (const entry of entries) if (entry.pattern.test(req.path)) for (const method of entry.methods) allowed.add(method);
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
