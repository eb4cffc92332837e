// Browser sessions for the login page and `login: redirect` routes. The cookie value carries a short-lived
// access JWT plus the session's refresh token: the proxy verifies the JWT with no database query (the
// revocation bus applies because it carries `sid`) and re-mints it through AuthService.refresh — the same
// rotation and reuse detection as /auth/refresh — only when it has expired.
import { decodeJwt } from 'jose';
import type { Clock } from '../clock.js';
import { isAppError } from '../errors.js';
import { sha256Hex } from '../crypto/secrets.js';
import type { AuthContext, AuthService, LoginInput, RequestMeta } from '../services/auth.service.js';

/** A JWT (three base64url parts) and a base64url refresh token, joined by `~` (cookie-safe, RFC 6265 §4.1.1). */
const COOKIE_VALUE = /^([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)~([A-Za-z0-9_-]{20,512})$/;

// Concurrent requests carrying the same expired cookie (a page loading ten assets) must not each spend the
// refresh token — the second spend would look like theft and revoke the session. One refresh per token per
// process; its result is shared for this long.
const SHARE_REFRESH_MS = 30_000;
const MAX_INFLIGHT = 10_000;
// Re-mint a little before expiry so a request does not reach the verifier with a token about to lapse.
const EARLY_REFRESH_MS = 10_000;

export interface CookieParts {
  access: string;
  refresh: string;
}

export interface ResumedSession {
  auth: AuthContext;
  /** The new cookie value when the access token was re-minted; null when unchanged. */
  renewed: string | null;
}

export class BrowserSessionService {
  private readonly inflight = new Map<string, { at: number; result: Promise<CookieParts | null> }>();

  constructor(
    private readonly d: {
      auth: AuthService;
      clock: Clock;
      /** Cookie lifetime: the refresh idle window. */
      idleTtlMs: number;
    },
  ) {}

  get maxAgeSeconds(): number {
    return Math.floor(this.d.idleTtlMs / 1000);
  }

  static encode(parts: CookieParts): string {
    return `${parts.access}~${parts.refresh}`;
  }

  static decode(value: string | undefined | null): CookieParts | null {
    if (!value) return null;
    const m = COOKIE_VALUE.exec(value);
    return m ? { access: m[1]!, refresh: m[2]! } : null;
  }

  /** Signs in through AuthService.login (lockout, throttling, audit, same-timing failures all apply). */
  async login(input: LoginInput, meta: RequestMeta): Promise<string> {
    const pair = await this.d.auth.login(input, meta);
    return BrowserSessionService.encode({ access: pair.access_token, refresh: pair.refresh_token });
  }

  /** True when the access part expires within the early-refresh margin (no signature check: that comes later). */
  needsRefresh(access: string): boolean {
    try {
      const { exp } = decodeJwt(access);
      return typeof exp !== 'number' || exp * 1000 - this.d.clock.now() < EARLY_REFRESH_MS;
    } catch {
      return true;
    }
  }

  /** Rotates the refresh token once per token (shared by concurrent callers); null when the session is over. */
  refresh(parts: CookieParts, meta: RequestMeta): Promise<CookieParts | null> {
    const key = sha256Hex(parts.refresh);
    const now = this.d.clock.now();
    const hit = this.inflight.get(key);
    if (hit && now - hit.at < SHARE_REFRESH_MS) return hit.result;
    if (this.inflight.size >= MAX_INFLIGHT) this.sweep(now, true);
    const result = this.d.auth.refresh(parts.refresh, meta, null).then(
      (pair) => ({ access: pair.access_token, refresh: pair.refresh_token }),
      (err: unknown) => {
        if (isAppError(err) && err.status === 401) return null;
        this.inflight.delete(key); // a database outage is not an answer to share
        throw err;
      },
    );
    this.inflight.set(key, { at: now, result });
    this.sweep(now, false);
    return result;
  }

  private sweep(now: number, force: boolean): void {
    if (!force && this.inflight.size < 1000) return;
    for (const [k, v] of this.inflight) if (now - v.at >= SHARE_REFRESH_MS || (force && this.inflight.size >= MAX_INFLIGHT)) this.inflight.delete(k);
  }

  /**
   * The signed-in user behind a cookie value (verified, revocation-checked), re-minting the access token
   * when it has expired. Null when there is no usable session.
   */
  async resume(value: string | undefined | null, meta: RequestMeta): Promise<ResumedSession | null> {
    let parts = BrowserSessionService.decode(value);
    if (!parts) return null;
    let renewed: string | null = null;
    if (this.needsRefresh(parts.access)) {
      parts = await this.refresh(parts, meta);
      if (!parts) return null;
      renewed = BrowserSessionService.encode(parts);
    }
    try {
      return { auth: await this.d.auth.authenticate(parts.access), renewed };
    } catch (err) {
      if (isAppError(err) && err.status === 401) return null;
      throw err;
    }
  }

  /** Ends the session behind a cookie (logout at the login page). */
  async logout(value: string | undefined | null, meta: RequestMeta): Promise<void> {
    const parts = BrowserSessionService.decode(value);
    if (!parts) return;
    await this.d.auth.logout({ refreshToken: parts.refresh }, meta).catch((err: unknown) => {
      if (!(isAppError(err) && err.status === 401)) throw err;
    });
  }
}
