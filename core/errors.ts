// The AppError hierarchy: every expected failure carries a stable string code, an HTTP status
// and an `expose` flag. proxy/http/problem.ts turns them into RFC 9457 problem+json.

export interface FieldError {
  field: string;
  message: string;
}

export interface AppErrorOptions {
  detail?: string;
  errors?: FieldError[];
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
  /** Extra problem members (e.g. { retry_after: 3 }). Never secrets. */
  extra?: Record<string, unknown>;
  cause?: unknown;
  /** When false the client gets a generic body; the detail is for logs only. */
  expose?: boolean;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly extra: Record<string, unknown> | undefined;
  readonly expose: boolean;

  constructor(code: string, status: number, title: string, options: AppErrorOptions = {}) {
    super(options.detail ?? title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.title = title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers;
    this.extra = options.extra;
    this.expose = options.expose ?? status < 500;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

// Factories: one per stable code. Tests assert on `code` and `status`, never on message text.
export const Errors = {
  validation: (errors: FieldError[], detail = 'The request body is invalid.') =>
    new AppError('ERR_VALIDATION', 400, 'Invalid request', { detail, errors }),
  badRequest: (detail: string, code = 'ERR_BAD_REQUEST') => new AppError(code, 400, 'Bad request', { detail }),
  malformedJson: () =>
    new AppError('ERR_MALFORMED_JSON', 400, 'Malformed JSON', {
      detail: 'The request body is not valid JSON.',
      errors: [{ field: 'body', message: 'must be valid JSON' }],
    }),
  unsupportedMediaType: () =>
    new AppError('ERR_UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported media type', {
      detail: 'Send the body as application/json.',
    }),
  payloadTooLarge: (limit: number) =>
    new AppError('ERR_PAYLOAD_TOO_LARGE', 413, 'Payload too large', { detail: `The body exceeds ${limit} bytes.` }),
  badPath: (detail: string) => new AppError('ERR_BAD_PATH', 400, 'Bad request path', { detail }),
  unauthenticated: (detail = 'Authentication is required.') =>
    new AppError('ERR_UNAUTHENTICATED', 401, 'Unauthorized', { detail }),
  invalidCredentials: () =>
    new AppError('ERR_INVALID_CREDENTIALS', 401, 'Unauthorized', { detail: 'Invalid email or password.' }),
  invalidToken: (code = 'ERR_TOKEN_INVALID', detail = 'The access token is invalid.') =>
    new AppError(code, 401, 'Unauthorized', { detail, extra: { token_error: true } }),
  tokenExpired: () =>
    new AppError('ERR_TOKEN_EXPIRED', 401, 'Unauthorized', { detail: 'The access token has expired.', extra: { token_error: true } }),
  tokenRevoked: () =>
    new AppError('ERR_TOKEN_REVOKED', 401, 'Unauthorized', { detail: 'The session has been revoked.', extra: { token_error: true } }),
  invalidRefreshToken: () =>
    new AppError('ERR_REFRESH_TOKEN_INVALID', 401, 'Unauthorized', { detail: 'The refresh token is invalid or expired.' }),
  refreshTokenReused: () =>
    new AppError('ERR_REFRESH_TOKEN_REUSED', 401, 'Unauthorized', { detail: 'The refresh token is invalid or expired.' }),
  forbidden: (detail = 'Access denied by policy.', code = 'ERR_POLICY_DENIED') =>
    new AppError(code, 403, 'Forbidden', { detail }),
  emailNotVerified: () =>
    new AppError('ERR_EMAIL_NOT_VERIFIED', 403, 'Email not verified', { detail: 'Verify your email address before signing in.' }),
  notFound: (what = 'Resource', code = 'ERR_NOT_FOUND') => new AppError(code, 404, 'Not found', { detail: `${what} not found.` }),
  methodNotAllowed: () => new AppError('ERR_METHOD_NOT_ALLOWED', 405, 'Method not allowed'),
  conflict: (detail: string, code = 'ERR_CONFLICT') => new AppError(code, 409, 'Conflict', { detail }),
  rateLimited: (retryAfterSeconds: number, headers: Record<string, string> = {}) =>
    new AppError('ERR_RATE_LIMITED', 429, 'Too many requests', {
      detail: 'Rate limit exceeded; retry later.',
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))), ...headers },
    }),
  unavailable: (detail = 'A backing service is unavailable.', retryAfterSeconds = 5) =>
    new AppError('ERR_UNAVAILABLE', 503, 'Service unavailable', {
      detail,
      expose: true,
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  badGateway: (detail = 'The upstream service could not be reached.') =>
    new AppError('ERR_UPSTREAM_UNAVAILABLE', 502, 'Bad gateway', { detail, expose: true }),
  gatewayTimeout: () =>
    new AppError('ERR_UPSTREAM_TIMEOUT', 504, 'Gateway timeout', { detail: 'The upstream service did not answer in time.', expose: true }),
  internal: (cause?: unknown) => new AppError('ERR_INTERNAL', 500, 'Internal server error', { cause, expose: false }),
} as const;
