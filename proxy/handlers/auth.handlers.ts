// HTTP handlers for /auth: parse and validate input, call AuthService, shape the response (SPEC §3).
import { z } from 'zod';
import type { Core } from '../../core/container.js';
import { Errors } from '../../core/errors.js';
import { toUserView } from '../../core/domain/types.js';
import type { AuthContext } from '../../core/services/auth.service.js';
import { readJson } from '../http/body.js';
import { NO_STORE, sendEmpty, sendJson } from '../http/respond.js';
import { bearerToken, type HandlerContext, type Router } from '../http/router.js';
import { parseBody } from '../http/validate.js';

const str = (max: number) => z.string({ invalid_type_error: 'must be a string', required_error: 'is required' }).min(1, 'is required').max(max);
const password = z.string({ invalid_type_error: 'must be a string', required_error: 'is required' }).min(1, 'is required').max(1024);
const tenant = z.string().min(1).max(63).optional();

// Register is strict: role, roles, id, tenant_id… in the body are rejected, never applied (mass assignment).
export const registerSchema = z.object({ email: str(320), username: str(64), password, tenant }).strict();
export const loginSchema = z.object({ email: str(320), password, tenant }).strict();
const refreshSchema = z.object({ refresh_token: str(512) }).strict();
const logoutSchema = z.object({ refresh_token: str(512).optional() }).strict();
const validateSchema = z.object({ token: str(8192).optional() }).strict();
const changePasswordSchema = z.object({ current_password: password, new_password: password }).strict();

export interface AuthHandlerDeps {
  core: Core;
  bodyLimit: number;
}

/** Verifies the bearer token of a request or throws 401. */
export async function requireBearer(core: Core, ctx: HandlerContext): Promise<AuthContext> {
  if (ctx.query.has('access_token')) throw Errors.badRequest('Tokens in the query string are not accepted.', 'ERR_TOKEN_IN_QUERY');
  const token = bearerToken(ctx.req);
  if (!token) throw Errors.unauthenticated('A bearer token is required.');
  return core.auth.authenticate(token);
}

export function registerAuthRoutes(router: Router, prefix: string, { core, bodyLimit }: AuthHandlerDeps): void {
  const json = (ctx: HandlerContext, allowEmpty = false) => readJson(ctx.req, bodyLimit, allowEmpty);
  const auth = core.auth;

  router.add('POST', `${prefix}/register`, async (ctx) => {
    const input = parseBody(registerSchema, await json(ctx));
    const user = await auth.register(input, ctx.meta);
    sendJson(ctx.res, 201, { user: toUserView(user, core.clock.now()) });
  });

  router.add('POST', `${prefix}/login`, async (ctx) => {
    const input = parseBody(loginSchema, await json(ctx));
    sendJson(ctx.res, 200, await auth.login(input, ctx.meta), NO_STORE);
  });

  router.add('POST', `${prefix}/refresh`, async (ctx) => {
    const input = parseBody(refreshSchema, await json(ctx));
    const { access_token, refresh_token, token_type, expires_in } = await auth.refresh(input.refresh_token, ctx.meta);
    sendJson(ctx.res, 200, { access_token, refresh_token, token_type, expires_in }, NO_STORE);
  });

  router.add('POST', `${prefix}/logout`, async (ctx) => {
    const input = parseBody(logoutSchema, await json(ctx, true));
    if (input.refresh_token) await auth.logout({ refreshToken: input.refresh_token }, ctx.meta);
    else await auth.logout({ ctx: await requireBearer(core, ctx) }, ctx.meta);
    sendEmpty(ctx.res);
  });

  router.add('POST', `${prefix}/logout-all`, async (ctx) => {
    await auth.logoutAll(await requireBearer(core, ctx), ctx.meta);
    sendEmpty(ctx.res);
  });

  router.add('POST', `${prefix}/validate`, async (ctx) => {
    const input = parseBody(validateSchema, await json(ctx, true));
    const authCtx = input.token ? await auth.authenticate(input.token) : await requireBearer(core, ctx);
    sendJson(ctx.res, 200, auth.validateView(authCtx), NO_STORE);
  });

  router.add('GET', `${prefix}/me`, async (ctx) => {
    sendJson(ctx.res, 200, { user: await auth.me(await requireBearer(core, ctx)) });
  });

  router.add('GET', `${prefix}/sessions`, async (ctx) => {
    sendJson(ctx.res, 200, await auth.listSessions(await requireBearer(core, ctx)));
  });

  router.add('DELETE', `${prefix}/sessions/:id`, async (ctx) => {
    const authCtx = await requireBearer(core, ctx);
    await auth.deleteOwnSession(authCtx, ctx.params.id ?? '', ctx.meta);
    sendEmpty(ctx.res);
  });

  router.add('POST', `${prefix}/password/change`, async (ctx) => {
    const authCtx = await requireBearer(core, ctx);
    const input = parseBody(changePasswordSchema, await json(ctx));
    await auth.changePassword(authCtx, input.current_password, input.new_password, ctx.meta);
    sendEmpty(ctx.res);
  });
}
