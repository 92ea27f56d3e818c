import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { Problem, type InvalidField } from './problem.js';

/**
 * Text the API refuses wherever a request carries it (bodies, queries, headers, path parameters):
 * NUL, which PostgreSQL cannot store in text and Temporal refuses in payloads, and lone UTF-16
 * surrogates, which are not Unicode text at all (JSON can spell them as \ud800). Letting them
 * through made a valid-looking request fail deep down with a 500; refused here, the client hears
 * which field is wrong. The one place this is decided: the middleware below and parseRequestPart.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Any surrogate at all: a quick scan that passes almost every string before the slower one above. */
const SURROGATE = /[\uD800-\uDFFF]/;

function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  if (SURROGATE.test(text) && LONE_SURROGATE.test(text)) return 'must be well-formed Unicode (a lone surrogate was sent)';
  return undefined;
}

/** Every string in a parsed JSON value, query or header set (keys too) that is not acceptable text. */
export function unsafeTextIn(value: unknown, location: InvalidField['in'], path: string[] = [], found: InvalidField[] = []): InvalidField[] {
  if (found.length >= 10) return found; // enough to tell the client; the rest would be the same story
  if (typeof value === 'string') {
    const message = textProblem(value);
    if (message) found.push({ in: location, field: path.join('.'), message });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => unsafeTextIn(item, location, [...path, String(index)], found));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      const keyMessage = textProblem(key);
      if (keyMessage) found.push({ in: location, field: [...path, key.replace(/[^\x20-\x7e]/g, '?')].join('.'), message: `name ${keyMessage}` });
      else unsafeTextIn(child, location, [...path, key], found);
    }
  }
  return found;
}

function refuseUnsafe(errors: InvalidField[]): void {
  if (errors.length > 0) throw new Problem('validation-error', `${errors.length} invalid value(s) in the request`, { errors });
}

/** Before any route: the query and the headers (path parameters: parseRequestPart, once routing found them). */
export const refuseUnsafeRequestText: RequestHandler = (req, _res, next) => {
  refuseUnsafe([...unsafeTextIn(req.query, 'query'), ...unsafeTextIn(req.headers, 'header')]);
  next();
};

/** After the JSON parser: every string and key of the body. */
export const refuseUnsafeBodyText: RequestHandler = (req, _res, next) => {
  if (typeof req.body === 'object' || typeof req.body === 'string') refuseUnsafe(unsafeTextIn(req.body, 'body'));
  next();
};

/** Parses one part of a request with a zod schema, or throws a validation problem naming each bad field. */
export function parseRequestPart<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  location: InvalidField['in'],
): z.infer<Schema> {
  refuseUnsafe(unsafeTextIn(value, location));
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    in: location,
    field: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  throw new Problem('validation-error', `${errors.length} invalid value(s) in the request ${location}`, { errors });
}
