// HTTP handlers for /admin (SPEC §3): bearer token + a permission from policies.yaml roles
// (`admin:users`, `admin:sessions`, `admin:tenants`; `*`/`admin:*` cover them). An admin without
// `admin:tenants` is confined to its token's tenant: other tenants' objects answer 404, never 403.
import { z } from 'zod';
import type { Core } from '../../core/container.js';
import { Errors } from '../../core/errors.js';
import { toUserView } from '../../core/domain/types.js';
import { hasPermission } from '../../core/policy/index.js';
import type { AdminScope } from '../../core/services/user-admin.service.js';
import { toTenantView } from '../../core/services/tenant.service.js';
import { readJson } from '../http/body.js';
import { NO_STORE, sendEmpty, sendJson } from '../http/respond.js';
import type { HandlerContext, Router } from '../http/router.js';
import { parseBody, queryObject } from '../http/validate.js';
import { requireBearer } from './auth.handlers.js';

export type AdminPermission = 'admin:users' | 'admin:sessions' | 'admin:tenants' | 'admin:audit';

const str = (max: number) => z.string({ invalid_type_error: 'must be a string', required_error: 'is required' }).min(1, 'is required').max(max);
const roles = z.array(str(64), { invalid_type_error: 'must be an array of role names' }).max(50);

// Strict: anything else (email, id, password_hash, tenant_id…) is a 400, never silently applied.
const createUserSchema = z
  .object({ email: str(320), username: str(64), password: str(1024).optional(), roles: roles.optional(), tenant: str(63).optional() })
  .strict();
const patchUserSchema = z
  .object({ roles: roles.optional(), disabled: z.boolean({ invalid_type_error: 'must be a boolean' }).optional() })
  .strict()
  .refine((v) => v.roles !== undefined || v.disabled !== undefined, { message: 'give roles and/or disabled' });
const createTenantSchema = z.object({ slug: str(63), name: str(200).optional() }).strict();

const boolParam = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const limitParam = z.coerce.number({ invalid_type_error: 'must be a number' }).int('must be an integer').min(1).max(500);
const usersQuery = z
  .object({
    tenant: str(63).optional(),
    role: str(64).optional(),
    disabled: boolParam.optional(),
    q: str(320).optional(),
    cursor: str(512).optional(),
    limit: limitParam.optional(),
  })
  .strict();
const sessionsQuery = z.object({ user: str(320).optional(), tenant: str(63).optional(), active: boolParam.optional(), limit: limitParam.optional() }).strict();

export interface AdminHandlerDeps {
  core: Core;
  bodyLimit: number;
}


export function registerAdminRoutes(router: Router, prefix: string, { core, bodyLimit }: AdminHandlerDeps): void {
  const admin = core.admin;
  const json = (ctx: HandlerContext, allowEmpty = false) => readJson(ctx.req, bodyLimit, allowEmpty);

  /** Authenticates, checks the permission, and works out the tenant scope of the caller. */
  async function guard(ctx: HandlerContext, permission: AdminPermission): Promise<AdminScope> {
    const authCtx = await requireBearer(core, ctx);
    const view = core.auth.validateView(authCtx);
    const granted = new Set(view.permissions);
    if (!hasPermission(granted, permission)) throw Errors.forbidden(`This action needs the ${permission} permission.`, 'ERR_PERMISSION_DENIED');
    let tenantId: string | null = null;
    if (!hasPermission(granted, 'admin:tenants')) {
      const tenant = await core.tenants.findBySlug(view.tenant);
      if (!tenant || tenant.disabledAt) throw Errors.tokenRevoked();
      tenantId = tenant.id;
    }
    return { actor: view.sub, tenantId, meta: ctx.meta, permissions: granted };
  }

  const id = (ctx: HandlerContext): string => ctx.params.id ?? '';
  const user = (u: Parameters<typeof toUserView>[0]) => toUserView(u, core.clock.now());

  // --- users ----------------------------------------------------------------------------------

  router.add('GET', `${prefix}/users`, async (ctx) => {
    const scope = await guard(ctx, 'admin:users');
    const q = parseBody(usersQuery, queryObject(ctx));
    const page = await admin.users.list(scope, {
      ...(q.tenant !== undefined ? { tenant: q.tenant } : {}),
      ...(q.role !== undefined ? { role: q.role } : {}),
      ...(q.disabled !== undefined ? { disabled: q.disabled } : {}),
      ...(q.q !== undefined ? { q: q.q } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      limit: q.limit ?? 50,
    });
    sendJson(ctx.res, 200, page);
  });

  router.add('POST', `${prefix}/users`, async (ctx) => {
    const scope = await guard(ctx, 'admin:users');
    const input = parseBody(createUserSchema, await json(ctx));
    const created = await admin.users.create(scope, input);
    sendJson(ctx.res, 201, { user: user(created) });
  });

  router.add('GET', `${prefix}/users/:id`, async (ctx) => {
    const scope = await guard(ctx, 'admin:users');
    sendJson(ctx.res, 200, { user: user(await admin.users.get(scope, id(ctx))) });
  });

  router.add('PATCH', `${prefix}/users/:id`, async (ctx) => {
    const scope = await guard(ctx, 'admin:users');
    // 404 before 400: a caller must not learn from validation errors whether another tenant's id exists.
    await admin.users.get(scope, id(ctx));
    const patch = parseBody(patchUserSchema, await json(ctx));
    sendJson(ctx.res, 200, { user: user(await admin.users.patch(scope, id(ctx), patch)) });
  });

  router.add('DELETE', `${prefix}/users/:id`, async (ctx) => {
    const scope = await guard(ctx, 'admin:users');
    await admin.users.delete(scope, id(ctx));
    sendEmpty(ctx.res);
  });

  router.add('POST', `${prefix}/users/:id/disable`, async (ctx) => {
    const scope = await guard(ctx, 'admin:users');
    sendJson(ctx.res, 200, { user: user(await admin.users.disable(scope, id(ctx))) });
  });

  router.add('POST', `${prefix}/users/:id/enable`, async (ctx) => {
    const scope = await guard(ctx, 'admin:users');
    sendJson(ctx.res, 200, { user: user(await admin.users.enable(scope, id(ctx))) });
  });

  router.add('POST', `${prefix}/users/:id/unlock`, async (ctx) => {
    const scope = await guard(ctx, 'admin:users');
    sendJson(ctx.res, 200, { user: user(await admin.users.unlock(scope, id(ctx))) });
  });

  router.add('POST', `${prefix}/users/:id/logout`, async (ctx) => {
    const scope = await guard(ctx, 'admin:users');
    sendJson(ctx.res, 200, { revoked: await admin.users.logout(scope, id(ctx)) });
  });

  router.add('POST', `${prefix}/users/:id/password-reset`, async (ctx) => {
    const scope = await guard(ctx, 'admin:users');
    // The link is mailed to the user, never returned over HTTP (only `authctl … --print` shows it).
    const result = await admin.users.passwordReset(scope, id(ctx), { print: false });
    sendJson(ctx.res, 202, { sent: result.sent, expires_at: result.expires_at });
  });

  router.add('GET', `${prefix}/users/:id/export`, async (ctx) => {
    const scope = await guard(ctx, 'admin:users');
    const data = await admin.users.export(scope, id(ctx));
    sendJson(ctx.res, 200, data, { ...NO_STORE, 'content-disposition': `attachment; filename="user-${data.user.id}.json"` });
  });

  // --- sessions -------------------------------------------------------------------------------

  router.add('GET', `${prefix}/sessions`, async (ctx) => {
    const scope = await guard(ctx, 'admin:sessions');
    const q = parseBody(sessionsQuery, queryObject(ctx));
    const items = await admin.sessions.list(scope, {
      ...(q.user !== undefined ? { user: q.user } : {}),
      ...(q.tenant !== undefined ? { tenant: q.tenant } : {}),
      ...(q.active !== undefined ? { active: q.active } : {}),
      limit: q.limit ?? 100,
    });
    sendJson(ctx.res, 200, items);
  });

  router.add('DELETE', `${prefix}/sessions/:id`, async (ctx) => {
    const scope = await guard(ctx, 'admin:sessions');
    await admin.sessions.revoke(scope, id(ctx));
    sendEmpty(ctx.res);
  });

  // --- tenants (always cross-tenant: admin:tenants) -------------------------------------------

  router.add('GET', `${prefix}/tenants`, async (ctx) => {
    await guard(ctx, 'admin:tenants');
    sendJson(ctx.res, 200, (await admin.tenants.list()).map(toTenantView));
  });

  router.add('POST', `${prefix}/tenants`, async (ctx) => {
    const scope = await guard(ctx, 'admin:tenants');
    const input = parseBody(createTenantSchema, await json(ctx));
    sendJson(ctx.res, 201, toTenantView(await admin.tenants.create(scope, input)));
  });

  router.add('POST', `${prefix}/tenants/:slug/disable`, async (ctx) => {
    const scope = await guard(ctx, 'admin:tenants');
    sendJson(ctx.res, 200, toTenantView(await admin.tenants.disable(scope, ctx.params.slug ?? '')));
  });

  router.add('POST', `${prefix}/tenants/:slug/enable`, async (ctx) => {
    const scope = await guard(ctx, 'admin:tenants');
    sendJson(ctx.res, 200, toTenantView(await admin.tenants.enable(scope, ctx.params.slug ?? '')));
  });
}
