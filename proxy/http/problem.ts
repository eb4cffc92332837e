// The one place errors become RFC 9457 application/problem+json responses (with RFC 6750
// WWW-Authenticate on 401). Unexpected errors become a bare 500; the full error goes to the log only.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AppError, Errors, isAppError } from '../../core/errors.js';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  errors?: { field: string; message: string }[];
  request_id?: string;
  [extra: string]: unknown;
}

const TYPE_BASE = 'https://authgate.dev/problems/';

export function toAppError(err: unknown): AppError {
  return isAppError(err) ? err : Errors.internal(err);
}

export function problemBody(err: AppError, requestId?: string): ProblemBody {
  const exposed = err.expose;
  const body: ProblemBody = {
    type: `${TYPE_BASE}${err.code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, '-')}`,
    title: err.title,
    status: err.status,
    code: exposed ? err.code : 'ERR_INTERNAL',
  };
  if (exposed && err.detail) body.detail = err.detail;
  if (!exposed) body.detail = 'An unexpected error occurred.';
  if (exposed && err.errors) body.errors = err.errors;
  if (exposed && err.extra) for (const [k, v] of Object.entries(err.extra)) if (k !== 'token_error') body[k] = v;
  if (requestId) body.request_id = requestId;
  return body;
}

export interface ProblemOptions {
  requestId?: string;
  logger?: Logger;
  /** Whether the request presented a bearer token (RFC 6750 §3.1: error="invalid_token"). */
  tokenPresented?: boolean;
}

export function sendProblem(res: ServerResponse, raw: unknown, options: ProblemOptions = {}): void {
  const err = toAppError(raw);
  if (err.status >= 500 && options.logger) {
    const cause = err.code === 'ERR_INTERNAL' ? (raw instanceof AppError ? err.cause : raw) : undefined;
    options.logger.error({ err: cause ?? err, code: err.code, request_id: options.requestId }, 'request failed');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(problemBody(err, options.requestId));
  const headers: Record<string, string | number> = {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  };
  if (err.headers) Object.assign(headers, err.headers);
  if (err.status === 401) {
    const tokenError = options.tokenPresented || err.extra?.token_error === true;
    headers['www-authenticate'] = tokenError
      ? `Bearer realm="authgate", error="invalid_token", error_description="${(err.detail ?? 'invalid token').replace(/"/g, "'")}"`
      : 'Bearer realm="authgate"';
  }
  res.writeHead(err.status, headers);
  res.end(body);
}
