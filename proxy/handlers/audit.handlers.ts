// GET /admin/audit (SPEC §3, §8): the audit trail for administrators holding `admin:audit` (`*` and
// `admin:*` cover it). Like the rest of /admin, a caller without `admin:tenants` sees only its token's
// tenant; tenant-less events (CLI, key rotation, policy reloads) need `admin:tenants` too.
import { z } from 'zod';
import type { Core } from '../../core/container.js';
import { Errors } from '../../core/errors.js';
import { hasPermission } from '../../core/policy/index.js';
import { NO_STORE, sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { parseBody, queryObject } from '../http/validate.js';
import { requireBearer } from './auth.handlers.js';

const opt = (max: number) => z.string().min(1, 'must not be empty').max(max).optional();
// Values are checked by core (parseAuditFilters → 400 per field); this only rejects unknown parameters.
const auditQuerySchema = z
  .object({ user: opt(128), action: opt(64), since: opt(64), tenant: opt(63), limit: opt(8), cursor: opt(20) })
  .strict();

export interface AuditHandlerDeps {
  core: Core;
}


export function registerAuditRoutes(router: Router, prefix: string, { core }: AuditHandlerDeps): void {
  router.add('GET', `${prefix}/audit`, async (ctx) => {
    const view = core.auth.validateView(await requireBearer(core, ctx));
    const granted = new Set(view.permissions);
    if (!hasPermission(granted, 'admin:audit')) throw Errors.forbidden('This action needs the admin:audit permission.', 'ERR_PERMISSION_DENIED');
    const q = parseBody(auditQuerySchema, queryObject(ctx));
    let tenant = q.tenant;
    if (!hasPermission(granted, 'admin:tenants')) {
      // Another tenant's trail answers 404 (as other tenants' objects do), never 403: no existence oracle.
      if (tenant !== undefined && tenant !== view.tenant) throw Errors.notFound('Tenant');
      tenant = view.tenant;
    }
    const page = await core.auditQuery.list({ user: q.user, action: q.action, since: q.since, limit: q.limit, cursor: q.cursor, tenant });
    sendJson(ctx.res, 200, page, NO_STORE);
  });
}
