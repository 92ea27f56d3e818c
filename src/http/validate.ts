import type { z } from 'zod';
import { Problem, type InvalidField } from './problem.js';

/** Parses one part of a request with a zod schema, or throws a validation problem naming each bad field. */
export function parseRequestPart<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  location: InvalidField['in'],
): z.infer<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    in: location,
    field: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  throw new Problem('validation-error', `${errors.length} invalid value(s) in the request ${location}`, { errors });
}
