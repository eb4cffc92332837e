// Turns a zod schema failure into one 400 problem with an `errors: [{field, message}]` list.
import type { z } from 'zod';
import { Errors } from '../../core/errors.js';

export function parseBody<S extends z.ZodTypeAny>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.output<S>;
  const errors = result.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => ({ field: k, message: 'is not allowed' }));
    return [{ field: issue.path.join('.') || 'body', message: issue.message }];
  });
  throw Errors.validation(errors);
}

/** Query string → plain object for zod; a repeated parameter is a 400, not silently first-wins. */
export function queryObject(ctx: { query: URLSearchParams }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of new Set(ctx.query.keys())) {
    const all = ctx.query.getAll(key);
    if (all.length > 1) throw Errors.validation([{ field: key, message: 'must be given once' }]);
    out[key] = all[0]!;
  }
  return out;
}
