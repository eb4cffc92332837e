// HTTP handlers for the email flows under the auth prefix (SPEC §3): password reset request/confirm,
// verification request/confirm. Request endpoints answer the same 202 whatever the account state;
// the lookup and the mail happen after the answer (core/mail/background-tasks.ts).
import { z } from 'zod';
import type { Core } from '../../core/container.js';
import { isPlausibleEmail, normalizeEmail } from '../../core/domain/email.js';
import { Errors } from '../../core/errors.js';
import { NO_STORE, sendEmpty, sendJson } from '../http/respond.js';
import { bearerToken, type HandlerContext, type Router } from '../http/router.js';
import { readJson } from '../http/body.js';
import { parseBody } from '../http/validate.js';
import { requireBearer } from './auth.handlers.js';

const text = (max: number) => z.string({ invalid_type_error: 'must be a string', required_error: 'is required' }).min(1, 'is required').max(max);
// A single string: an array or object here is a 400 (GitLab CVE-2023-7028 sent the reset mail to every
// address of an array). Duplicate "email" keys are refused earlier, by readJson.
const email = text(320).refine((v) => isPlausibleEmail(normalizeEmail(v)), 'must be a valid email address');
const tenant = z.string({ invalid_type_error: 'must be a string' }).min(1).max(63).optional();

export const resetRequestSchema = z.object({ email, tenant }).strict();
export const resetConfirmSchema = z.object({ token: text(256), new_password: text(1024) }).strict();
export const verifyRequestSchema = z.object({ email: email.optional(), tenant }).strict();
export const verifyConfirmSchema = z.object({ token: text(256) }).strict();

/** The one 202 body of both request endpoints: identical whether or not the account exists. */
export const ACCEPTED_BODY = Object.freeze({
  status: 'accepted',
  detail: 'If an account with this address exists, a message with a link is on its way.',
});

export interface EmailHandlerDeps {
  core: Core;
  bodyLimit: number;
}

export function registerEmailRoutes(router: Router, prefix: string, { core, bodyLimit }: EmailHandlerDeps): void {
  const json = (ctx: HandlerContext, allowEmpty = false) => readJson(ctx.req, bodyLimit, allowEmpty);
  const accepted = (ctx: HandlerContext) => sendJson(ctx.res, 202, ACCEPTED_BODY, NO_STORE);

  router.add('POST', `${prefix}/password-reset/request`, async (ctx) => {
    const input = parseBody(resetRequestSchema, await json(ctx));
    await core.passwordReset.checkRequestRate(ctx.meta.ip);
    core.passwordReset.request(input, ctx.meta);
    accepted(ctx);
  });

  router.add('POST', `${prefix}/password-reset/confirm`, async (ctx) => {
    const input = parseBody(resetConfirmSchema, await json(ctx));
    await core.passwordReset.confirm(input.token, input.new_password, ctx.meta);
    sendEmpty(ctx.res, 204, NO_STORE);
  });

  router.add('POST', `${prefix}/verify-email/request`, async (ctx) => {
    const input = parseBody(verifyRequestSchema, await json(ctx, true));
    if (bearerToken(ctx.req) || ctx.query.has('access_token')) {
      const auth = await requireBearer(core, ctx);
      await core.emailVerification.checkRequestRate(ctx.meta.ip);
      core.emailVerification.requestForSession(auth, ctx.meta);
    } else {
      if (!input.email) throw Errors.validation([{ field: 'email', message: 'is required without a bearer token' }]);
      await core.emailVerification.checkRequestRate(ctx.meta.ip);
      core.emailVerification.requestForEmail({ email: input.email, tenant: input.tenant }, ctx.meta);
    }
    accepted(ctx);
  });

  router.add('POST', `${prefix}/verify-email`, async (ctx) => {
    const input = parseBody(verifyConfirmSchema, await json(ctx));
    await core.emailVerification.confirm(input.token, ctx.meta);
    sendEmpty(ctx.res, 204, NO_STORE);
  });
}
