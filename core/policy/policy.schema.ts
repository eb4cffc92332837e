// The zod schema of policies.yaml (SPEC §5): shapes, defaults and per-field syntax. Cross-references
// (upstream and role names, params, shadowing) are checked by compile.ts, which reports all problems at once.

import { z } from 'zod';

/*
 * Every object is strict: an unknown key is an error, not silently ignored. A typo such as `requires:`
 * or `any_roles:` would otherwise drop a requirement and open a route.
 */

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const nameSchema = (what: string) =>
  z.string().regex(NAME, `${what} must start with a letter or digit and contain only letters, digits, ".", "_", ":", "-"`);

/** RFC 9110 §5.6.2 token, the syntax of a method or header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export const upstreamUrlSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${value}" is not a valid URL` });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `upstream URL must be http or https, got "${url.protocol}"` });
  }
  if (url.search !== '' || url.hash !== '') {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'upstream URL must not have a query or fragment' });
  }
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'upstream URL must not contain credentials' });
  }
});

const DURATION = /^(\d+)\s*(s|m|h|d)?$/;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `60`, `"60"`, `"60s"`, `"1m"`, `"1h"`, `"1d"` → seconds. */
export const durationSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  let seconds: number;
  if (typeof value === 'number') {
    seconds = value;
  } else {
    const m = DURATION.exec(value.trim());
    seconds = m === null ? Number.NaN : Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
  }
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `duration must be a positive whole number of seconds or like "60s", "1m", "1h", "1d"; got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return seconds;
});

export const roleSchema = z
  .object({
    permissions: z.array(z.string()).default([]),
    inherits: z.array(nameSchema('role name')).default([]),
  })
  .strict();

export const rateLimitSchema = z
  .object({
    points: z.number().int().positive(),
    per: durationSchema,
    by: z.enum(['ip', 'user', 'tenant', 'route']).default('ip'),
  })
  .strict();

export const ACCESS_LEVELS = ['public', 'authenticated', 'deny'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

export const routeSchema = z
  .object({
    name: nameSchema('route name'),
    match: z
      .object({
        methods: z
          .array(z.string().regex(TOKEN, 'method must be an HTTP token such as GET'))
          .nonempty('methods must list at least one method; omit it to match any method')
          .transform((ms) => [...new Set(ms.map((m) => m.toUpperCase()))])
          .optional(),
        path: z.string().min(1),
        host: z.string().min(1).optional(),
      })
      .strict(),
    upstream: nameSchema('upstream name').optional(),
    /**
     * Omitted → `authenticated`, with or without `require`: the secure default is that a route nobody
     * thought about still needs a valid token. `public` must be written out.
     */
    access: z.enum(ACCESS_LEVELS).optional(),
    require: z
      .object({
        any_role: z.array(nameSchema('role name')).nonempty('any_role must list at least one role; omit it otherwise').optional(),
        permissions: z.array(z.string()).nonempty('permissions must list at least one permission; omit it otherwise').optional(),
        tenant_param: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    rate_limit: rateLimitSchema.optional(),
    mode: z.enum(['enforce', 'shadow']).default('enforce'),
    login: z.enum(['redirect', 'none']).default('none'),
    headers: z.object({ token: z.boolean().default(false) }).strict().default({}),
  })
  .strict();

const headerName = z.string().regex(TOKEN, 'must be an HTTP header name');

export const identityHeadersSchema = z
  .object({
    prefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, 'prefix must be letters, digits and "-" (for example "X-Auth-")').default('X-Auth-'),
    user_id: headerName.optional(),
    email: headerName.optional(),
    roles: headerName.optional(),
    permissions: headerName.optional(),
    tenant: headerName.optional(),
    session_id: headerName.optional(),
    token: headerName.optional(),
  })
  .strict();

/**
 * Top level. `roles` values and `routes` items are validated one by one in compile.ts (so that one bad
 * route does not hide the problems of the others); `policySchema` below is the whole-file schema.
 */
export const policyTopLevelSchema = z
  .object({
    version: z.literal(1, { errorMap: () => ({ message: 'version must be 1' }) }),
    upstreams: z.record(nameSchema('upstream name'), upstreamUrlSchema).default({}),
    roles: z.record(nameSchema('role name'), z.unknown()).default({}),
    default: z.string().min(1).default('deny'),
    identity_headers: identityHeadersSchema.default({}),
    routes: z.array(z.unknown()),
  })
  .strict();

export const policySchema = policyTopLevelSchema.extend({
  roles: z.record(nameSchema('role name'), roleSchema.nullable()).default({}),
  routes: z.array(routeSchema),
});

export type PolicyTopLevelInput = z.infer<typeof policyTopLevelSchema>;
export type RoleInput = z.infer<typeof roleSchema>;
export type RouteInput = z.infer<typeof routeSchema>;
export type RateLimitInput = z.infer<typeof rateLimitSchema>;
export type IdentityHeadersInput = z.infer<typeof identityHeadersSchema>;
export type PolicyInput = z.infer<typeof policySchema>;
